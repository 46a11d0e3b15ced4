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
import {
  DEPLOYMENT_STATUSES,
  DEPLOYMENT_TYPES,
  HubClient,
  type CreateDeploymentBody,
  type DeploymentAction,
  type DeploymentType,
  type ListDeploymentsQuery,
} from '../hub-client.js';
import { chooseView, followDeployment, requireSucceeded } from '../watch.js';
import { ACTION_HELP, DEPLOY_HELP, HEALTH_HELP, STATUS_HELP } from './deployment-help.js';
import { checkMetadata, parseCount } from './model.js';

/** Raw option values as commander hands them to `model deploy`. */
export interface DeployCliOptions {
  environment: string;
  deploymentType: string;
  target: string;
  steps?: string;
  stepInterval?: string;
  stagingTimeout?: string;
  deviceTimeout?: string;
  minStagedShare?: string;
  maxFailureShare?: string;
  maxRetries?: string;
  rules?: string;
  observe?: string;
  observeInconclusive?: string;
  salt?: string;
  /** false with --no-auto-rollback. */
  autoRollback: boolean;
  supersede?: boolean;
  wait?: boolean;
  interval?: string;
}

export interface DeploymentListCliOptions {
  status?: string;
  environment?: string;
  group?: string;
  modelId?: string;
  limit?: string;
  offset?: string;
}

/** The fleet id rule of groups and environments (ID_PATTERN of @sentinel/broker; a spec checks). */
export const FLEET_ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DECIMAL_RE = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const MAX_SECONDS = 7 * 24 * 3600;
const MAX_REASON_LENGTH = 500;
const MAX_STEPS = 20;
const MAX_PAGE = 500;
export const DEFAULT_INTERVAL_S = 1;

export function checkUuid(label: string, value: string): string {
  if (!UUID_RE.test(value)) throw new UsageError(`${label} "${value}" is not a UUID`);
  return value.toLowerCase();
}

export function checkFleetId(flag: string, value: string): string {
  if (!FLEET_ID_RE.test(value)) {
    throw new UsageError(
      `${flag} "${value}" must be 1-64 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit`,
    );
  }
  return value;
}

export function checkDeploymentType(value: string): DeploymentType {
  if ((DEPLOYMENT_TYPES as readonly string[]).includes(value)) return value as DeploymentType;
  throw new UsageError(
    `--deployment-type "${value}" must be one of ${DEPLOYMENT_TYPES.join(', ')}`,
  );
}

export function checkStatus(value: string): string {
  if ((DEPLOYMENT_STATUSES as readonly string[]).includes(value)) return value;
  throw new UsageError(`--status "${value}" must be one of ${DEPLOYMENT_STATUSES.join(', ')}`);
}

function parseDecimal(text: string): number {
  return DECIMAL_RE.test(text.trim()) ? Number(text.trim()) : NaN;
}

/** `5,25,100` -> [5, 25, 100]: increasing percentages (0 < p <= 100) that end at 100. */
export function parseSteps(text: string): number[] {
  const fail = (why: string): never => {
    throw new UsageError(`--steps "${text}" ${why}, e.g. 5,25,100`);
  };
  const steps = text.split(',').map(parseDecimal);
  if (steps.some((step) => Number.isNaN(step))) fail('must be a comma-separated list of numbers');
  if (steps.length > MAX_STEPS) fail(`must have at most ${MAX_STEPS} steps`);
  if (steps.some((step) => step < 0.01 || step > 100)) fail('must be percentages from 0.01 to 100');
  if (steps.some((step, i) => i > 0 && step <= steps[i - 1])) fail('must increase');
  if (steps.at(-1) !== 100) fail('must end at 100');
  return steps;
}

/** A share of devices: a number from 0 to 1. */
export function parseShare(flag: string, text: string): number {
  const value = parseDecimal(text);
  if (Number.isNaN(value) || value > 1) {
    throw new UsageError(`${flag} "${text}" must be a number from 0 to 1, e.g. 0.8`);
  }
  return value;
}

/** Whole seconds from `min` to 7 days. */
export function parseSeconds(flag: string, text: string, min: number): number {
  const value = parseCount(flag, text, min);
  if (value > MAX_SECONDS) {
    throw new UsageError(`${flag} "${text}" must be at most ${MAX_SECONDS} (7 days)`);
  }
  return value;
}

/** The --watch/--wait poll interval in seconds (fractions allowed), returned in milliseconds. */
export function parseInterval(text: string | undefined): number {
  if (text === undefined) return DEFAULT_INTERVAL_S * 1000;
  const value = parseDecimal(text);
  if (Number.isNaN(value) || value < 0.1 || value > 3600) {
    throw new UsageError(`--interval "${text}" must be a number of seconds from 0.1 to 3600`);
  }
  return Math.round(value * 1000);
}

export function checkReason(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  if (reason.trim() === '') throw new UsageError('--reason must not be empty');
  if (reason.length > MAX_REASON_LENGTH) {
    throw new UsageError(`--reason must be at most ${MAX_REASON_LENGTH} characters`);
  }
  return reason;
}

/** Validates `model deploy` locally and builds the request body; throws UsageError on the first problem. */
export function prepareDeploy(modelId: string, options: DeployCliOptions): CreateDeploymentBody {
  const body: CreateDeploymentBody = {
    model_id: checkUuid('model id', modelId),
    environment: checkFleetId('--environment', options.environment),
    deployment_type: checkDeploymentType(options.deploymentType),
    target: checkFleetId('--target', options.target),
  };
  if (body.deployment_type !== 'canary') {
    if (options.steps !== undefined) throw new UsageError('--steps needs --deployment-type canary');
    if (options.salt !== undefined) throw new UsageError('--salt needs --deployment-type canary');
    if (options.stepInterval !== undefined) {
      throw new UsageError('--step-interval needs --deployment-type canary');
    }
  }
  if (
    options.steps !== undefined ||
    options.stepInterval !== undefined ||
    options.salt !== undefined
  ) {
    body.canary = {};
    if (options.salt !== undefined) {
      if (options.salt.trim() === '' || options.salt.length > 200) {
        throw new UsageError('--salt must be 1 to 200 characters');
      }
      body.canary.salt = options.salt;
    }
    if (options.steps !== undefined) body.canary.steps = parseSteps(options.steps);
    if (options.stepInterval !== undefined) {
      body.canary.step_interval_s = parseSeconds('--step-interval', options.stepInterval, 0);
    }
  }
  if (options.stagingTimeout !== undefined) {
    body.staging_timeout_s = parseSeconds('--staging-timeout', options.stagingTimeout, 1);
  }
  if (options.deviceTimeout !== undefined) {
    body.device_timeout_s = parseSeconds('--device-timeout', options.deviceTimeout, 1);
  }
  if (options.minStagedShare !== undefined) {
    body.min_staged_share = parseShare('--min-staged-share', options.minStagedShare);
  }
  if (options.maxFailureShare !== undefined) {
    body.max_failure_share = parseShare('--max-failure-share', options.maxFailureShare);
  }
  if (options.maxRetries !== undefined) {
    const retries = parseCount('--max-retries', options.maxRetries, 0);
    if (retries > 20)
      throw new UsageError(`--max-retries "${options.maxRetries}" must be at most 20`);
    body.max_retries = retries;
  }
  if (options.rules !== undefined) {
    try {
      checkMetadata(options.rules);
    } catch {
      throw new UsageError('--rules must be a JSON object, e.g. \'{"min_devices":3}\'');
    }
    body.rules = JSON.parse(options.rules) as Record<string, unknown>;
  }
  if (options.observe !== undefined) body.observe_s = parseSeconds('--observe', options.observe, 0);
  if (options.observeInconclusive !== undefined) {
    if (options.observeInconclusive !== 'succeed' && options.observeInconclusive !== 'pause') {
      throw new UsageError(
        `--observe-inconclusive "${options.observeInconclusive}" must be succeed or pause`,
      );
    }
    body.observe_inconclusive = options.observeInconclusive;
  }
  if (options.autoRollback === false) body.auto_rollback = false;
  if (options.supersede === true) body.supersede = true;
  return body;
}

export function prepareDeploymentListQuery(
  options: DeploymentListCliOptions,
): ListDeploymentsQuery {
  const limit = options.limit === undefined ? undefined : parseCount('--limit', options.limit, 1);
  if (limit !== undefined && limit > MAX_PAGE) {
    throw new UsageError(`--limit "${options.limit}" must be at most ${MAX_PAGE}`);
  }
  return {
    status: options.status === undefined ? undefined : checkStatus(options.status),
    environment:
      options.environment === undefined
        ? undefined
        : checkFleetId('--environment', options.environment),
    group: options.group === undefined ? undefined : checkFleetId('--group', options.group),
    modelId: options.modelId === undefined ? undefined : checkUuid('--model-id', options.modelId),
    limit,
    offset: options.offset === undefined ? undefined : parseCount('--offset', options.offset, 0),
  };
}

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
    'deploy <model_id>',
    'deploy a model version to a device group',
    DEPLOY_HELP,
  )
    .requiredOption('--environment <env>', 'environment of the target groups, e.g. production')
    .addOption(
      new Option('--deployment-type <type>', 'rollout strategy')
        .choices(DEPLOYMENT_TYPES)
        .makeOptionMandatory(),
    )
    .option('--target <group>', 'a group of the environment, or "all" for every group', 'all')
    .option('--steps <list>', 'canary cohort percentages, increasing to 100 (hub default 5,25,100)')
    .option('--step-interval <s>', 'canary: seconds per step (hub default 300)')
    .option('--staging-timeout <s>', 'blue-green: longest wait for devices to stage (default 600)')
    .option('--device-timeout <s>', 'a device with no progress for this long fails (default 900)')
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
    .option('--no-auto-rollback', 'do not let the health rules roll back on degradation')
    .option('--supersede', 'end the active deployment of the same groups instead of a 409')
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
    .option('--model-id <id>', 'only deployments of this model version')
    .option('--limit <n>', `page size (max ${MAX_PAGE}, hub default 50)`)
    .option('--offset <n>', 'number of deployments to skip')
    .action(async (options: DeploymentListCliOptions, command: Command) => {
      const globals = resolveGlobalOptions(command, io.env);
      const query = prepareDeploymentListQuery(options);
      printResult(io, globals, await client(globals).listDeployments(query), formatDeploymentList);
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
