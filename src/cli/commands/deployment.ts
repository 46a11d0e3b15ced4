import { Option, type Command } from 'commander';
import {
  addCommonHelp,
  defineCommand,
  printResult,
  resolveGlobalOptions,
  type CliIo,
} from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import {
  formatDeploymentDetail,
  formatDeploymentLine,
  formatDeploymentList,
  formatHealth,
  formatHealthHistory,
} from '../deployment-output.js';
import { fetchDeploymentStatus } from '../deployment-status.js';
import { HubClient } from '../hub-client.js';
import { DEPLOYMENT_STATUSES, DEPLOYMENT_TYPES, type DeploymentAction } from '../hub-api.js';
import { chooseView, followDeployment, requireSucceeded } from '../watch.js';
import {
  checkReason,
  checkUuid,
  DEFAULT_INTERVAL_S,
  MAX_PAGE,
  MAX_REASON_LENGTH,
  parseInterval,
  prepareDeploy,
  prepareDeploymentListQuery,
  type DeployCliOptions,
  type DeploymentListCliOptions,
} from './deployment-args.js';
import { ACTION_HELP, DEPLOY_HELP, HEALTH_HELP, STATUS_HELP } from './deployment-help.js';
import { parseCount } from './model.js';

const ACTIONS: Record<DeploymentAction, string> = {
  rollback:
    'roll back: every group returns to its previous model (a swap to the standby slot, no download)',
  pause: 'pause: no cutover, canary step or verdict until resumed',
  resume: 'resume a paused deployment (a canary step starts its interval again)',
  promote: 'promote: a canary goes to its next step now; blue/green cuts over now',
};

/** Like defineCommand, with `help` shown before the environment and exit codes. */
function defineWithHelp(
  parent: Command,
  nameAndArgs: string,
  description: string,
  help: string,
): Command {
  return addCommonHelp(
    parent.command(nameAndArgs).description(description).addHelpText('after', help),
  );
}

function client(globals: { url: string; token: string | undefined }): HubClient {
  return new HubClient({ baseUrl: globals.url, token: globals.token, idleTimeoutMs: 60_000 });
}

function defineAction(parent: Command, io: CliIo, action: DeploymentAction): void {
  defineWithHelp(parent, `${action} <deployment_id>`, ACTIONS[action], ACTION_HELP)
    .option(
      '--reason <text>',
      `why, recorded in the deployment's events (max ${MAX_REASON_LENGTH})`,
    )
    .action(async (id: string, options: { reason?: string }, command: Command) => {
      const globals = resolveGlobalOptions(command, io.env);
      const deploymentId = checkUuid('deployment id', id);
      const reason = checkReason(options.reason);
      const result = await client(globals).deploymentAction(deploymentId, action, reason);
      printResult(io, globals, result, formatDeploymentLine);
    });
}

/** `model deploy` and `model rollback` (the seed's name for a deployment rollback). */
export function registerModelDeploymentCommands(model: Command, io: CliIo): void {
  defineWithHelp(
    model,
    'deploy <model>',
    'deploy a model version (id, name@version or name@alias, e.g. detector@2.0.0, detector@champion) to a device group',
    DEPLOY_HELP,
  )
    .requiredOption('--environment <env>', 'environment of the target groups, e.g. production')
    .addOption(
      new Option('--deployment-type <type>', 'rollout strategy')
        .choices(DEPLOYMENT_TYPES)
        .makeOptionMandatory(),
    )
    .option('--target <group>', 'a group of the environment, or "all" for every group', 'all')
    .option(
      '--serve-as <name>',
      "the named model of the devices it replaces, e.g. classifier (default: 'default')",
    )
    .option('--steps <list>', 'canary cohort percentages, increasing to 100 (hub default 5,25,100)')
    .option('--step-interval <s>', 'canary: seconds per step (hub default 300)')
    .option('--staging-timeout <s>', 'blue-green: longest wait for devices to stage (default 600)')
    .option('--device-timeout <s>', 'a device with no progress for this long fails (default 900)')
    .option(
      '--max-deferral <duration>',
      'longest a device may defer the swap while its app holds the update lock, e.g. 30m (0: none)',
    )
    .option('--min-staged-share <f>', 'blue-green: staged share (0-1) for a cutover (default 0.8)')
    .option('--max-failure-share <f>', 'failed share (0-1) above which it fails (default 0.2)')
    .option('--max-retries <n>', 'retries of a device whose download failed (default 3)')
    .option('--salt <text>', 'canary: cohort salt; a fixed one keeps the same canary devices')
    .option(
      '--observe <s>',
      'seconds judged once every device runs it, before success (hub default 300; 0: off)',
    )
    .option('--observe-inconclusive <what>', 'an observation without a verdict: succeed or pause')
    .option('--rules <json>', 'health rule overrides as a JSON object (keys below)')
    .option('--start-at <time>', 'scheduled start, ISO 8601 (pending until then)')
    .option(
      '--abort <json>',
      'abort criteria: {"criteria":[{"failure_type","threshold_percent","min_devices_done"}],"action":"rollback"|"pause"}',
    )
    .option('--rate <n>', 'notify at most n devices a minute (rollbacks are never limited)')
    .option(
      '--ramp <base,factor,every>',
      'with --rate: start at base a minute, times factor after every `every` devices done',
    )
    .option('--no-auto-rollback', 'do not let the health rules roll back on degradation')
    .option('--supersede', 'end the active deployment of the same groups instead of a 409')
    .option('--override-gates', "deploy although the environment's stage gates hold it (admin)")
    .option('--wait', 'follow the deployment until it ends (as deployment status --watch)')
    .option('--interval <s>', `seconds between polls with --wait (default ${DEFAULT_INTERVAL_S})`)
    .action(async (modelId: string, options: DeployCliOptions, command: Command) => {
      const globals = resolveGlobalOptions(command, io.env);
      const body = prepareDeploy(modelId, options);
      const intervalMs = parseInterval(options.interval);
      const hub = client(globals);
      const created = await hub.createDeployment(body);
      for (const warning of created.warnings ?? []) io.stderr.write(`warning: ${warning}\n`);
      if (!options.wait) {
        printResult(io, globals, created, formatDeploymentLine);
        return;
      }
      if (!globals.json) io.stdout.write(formatDeploymentLine(created));
      const view = chooseView(io.stdout, { json: globals.json, intervalMs });
      requireSucceeded(await followDeployment(hub, created.id, view, { intervalMs }));
    });

  defineAction(model, io, 'rollback');
}

export function registerDeploymentCommands(program: Command, io: CliIo): void {
  const deployment = defineCommand(
    program,
    'deployment',
    'follow, list and steer deployments (pause, resume, promote, roll back)',
  );

  defineCommand(deployment, 'list', 'list deployments, newest first')
    .option('--status <status>', `only this status (${DEPLOYMENT_STATUSES.join(', ')})`)
    .option('--environment <env>', 'only this environment')
    .option('--group <group>', 'only deployments to this group')
    .option(
      '--model-id <model>',
      'only deployments of this model version (id, name@version or name@alias)',
    )
    .option('--serve-as <name>', 'only deployments of this named model')
    .option('--limit <n>', `page size (max ${MAX_PAGE}, hub default 50)`)
    .option('--offset <n>', 'number of deployments to skip')
    .action(async (options: DeploymentListCliOptions, command: Command) => {
      const globals = resolveGlobalOptions(command, io.env);
      const query = prepareDeploymentListQuery(options);
      const hub = client(globals);
      // The list filters by id: a name@version is looked up first (a 404 if there is no such model).
      if (query.modelId?.includes('@')) query.modelId = (await hub.getModel(query.modelId)).id;
      printResult(io, globals, await hub.listDeployments(query), formatDeploymentList);
    });

  defineWithHelp(
    deployment,
    'status <deployment_id>',
    'show a deployment: status, canary step, devices per phase, health, failed devices, events',
    STATUS_HELP,
  )
    .option('--watch', 'refresh until the deployment ends; exit 0 if it succeeded, else 1')
    .option('--interval <s>', `seconds between refreshes (default ${DEFAULT_INTERVAL_S})`)
    .action(
      async (id: string, options: { watch?: boolean; interval?: string }, command: Command) => {
        const globals = resolveGlobalOptions(command, io.env);
        const deploymentId = checkUuid('deployment id', id);
        const intervalMs = parseInterval(options.interval);
        const hub = client(globals);
        if (!options.watch) {
          const status = await fetchDeploymentStatus(hub, deploymentId);
          printResult(io, globals, status, formatDeploymentDetail);
          return;
        }
        const view = chooseView(io.stdout, { json: globals.json, intervalMs });
        requireSucceeded(await followDeployment(hub, deploymentId, view, { intervalMs }));
      },
    );

  defineWithHelp(
    deployment,
    'health <deployment_id>',
    "show a deployment's health: the latest verdict in full, or every evaluation (--history)",
    HEALTH_HELP,
  )
    .option('--history', 'every evaluation, newest first, one line each')
    .option('--limit <n>', `evaluations with --history (max ${MAX_PAGE}, default 50)`)
    .action(
      async (id: string, options: { history?: boolean; limit?: string }, command: Command) => {
        const globals = resolveGlobalOptions(command, io.env);
        const deploymentId = checkUuid('deployment id', id);
        const limit = options.limit === undefined ? 50 : parseCount('--limit', options.limit, 1);
        if (limit > MAX_PAGE)
          throw new UsageError(`--limit "${options.limit}" must be at most ${MAX_PAGE}`);
        const hub = client(globals);
        if (!options.history) {
          const health = await hub.getDeploymentHealth(deploymentId);
          printResult(io, globals, health, (h) => formatHealth({ health: h }));
          return;
        }
        const page = await hub.getDeploymentHealthHistory(deploymentId, limit);
        printResult(io, globals, page, formatHealthHistory);
      },
    );

  for (const action of ['rollback', 'pause', 'resume', 'promote'] as const) {
    defineAction(deployment, io, action);
  }
}
