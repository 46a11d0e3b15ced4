import type { Command } from 'commander';
import { defineCommand, printResult, type CliIo } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { connect, fleetApi } from '../fleet-api.js';
import { formatDesired, formatGroupDetail, formatGroupList } from '../fleet-output.js';
import { checkModelRef } from '../model-ref.js';
import { checkFleetId, serveAsOption } from './deployment-args.js';
import { collect, parseLabels, parseWindow } from './fleet-args.js';

/** `sentinel group list|create|get|delete|desired|pin`. */
export function registerGroupCommands(program: Command, io: CliIo): void {
  const group = defineCommand(program, 'group', 'create, inspect and pin device groups');

  defineCommand(group, 'list', 'list device groups with their device counts and desired model')
    .option('--environment <env>', 'only groups of this environment')
    .action(async (options: { environment?: string }, command: Command) => {
      const { globals, hub } = connect(command, io);
      const environment =
        options.environment === undefined
          ? undefined
          : checkFleetId('--environment', options.environment);
      printResult(io, globals, await fleetApi.listGroups(hub, environment), formatGroupList);
    });

  defineCommand(group, 'create <name>', 'create a device group in an environment')
    .requiredOption('--environment <env>', 'its environment, e.g. production')
    .option('--label <key=value>', 'a label (repeatable)', collect)
    .action(
      async (
        name: string,
        options: { environment: string; label?: string[] },
        command: Command,
      ) => {
        const body = {
          name: checkFleetId('group name', name),
          environment: checkFleetId('--environment', options.environment),
          labels: parseLabels(options.label),
        };
        const { globals, hub } = connect(command, io);
        printResult(io, globals, await fleetApi.createGroup(hub, body), formatGroupDetail);
      },
    );

  defineCommand(group, 'get <name>', 'show one device group').action(
    async (name: string, _options: unknown, command: Command) => {
      const groupName = checkFleetId('group name', name);
      const { globals, hub } = connect(command, io);
      printResult(io, globals, await fleetApi.getGroup(hub, groupName), formatGroupDetail);
    },
  );

  defineCommand(
    group,
    'delete <name>',
    'delete a device group (admin); its devices stay, refused by the broker until moved',
  ).action(async (name: string, _options: unknown, command: Command) => {
    const groupName = checkFleetId('group name', name);
    const { globals, hub } = connect(command, io);
    await fleetApi.deleteGroup(hub, groupName);
    printResult(io, globals, { deleted: groupName }, () => `deleted group ${groupName}\n`);
  });

  defineCommand(group, 'desired <name>', "show the group's desired state (what its devices run)")
    .option('--serve-as <name>', "a named model's desired state (default: 'default')")
    .action(async (name: string, options: { serveAs?: string }, command: Command) => {
      const groupName = checkFleetId('group name', name);
      const serveAs = serveAsOption(options.serveAs);
      const { globals, hub } = connect(command, io);
      const desired = await fleetApi.groupDesired(hub, groupName, serveAs);
      printResult(io, globals, desired, (value) => formatDesired(`group ${groupName}`, value));
    });

  defineCommand(
    group,
    'pin <name> <model>',
    'run a model version (id, name@version or name@alias) on every device of the group now, without a rollout',
  )
    .option('--serve-as <name>', "a named model's desired state (default: 'default')")
    .action(
      async (name: string, model: string, options: { serveAs?: string }, command: Command) => {
        const groupName = checkFleetId('group name', name);
        const ref = checkModelRef('model', model);
        const serveAs = serveAsOption(options.serveAs);
        const { globals, hub } = connect(command, io);
        const desired = await fleetApi.pinGroup(hub, groupName, ref, serveAs);
        printResult(io, globals, desired, (value) =>
          formatDesired(`pinned group ${groupName}`, value),
        );
      },
    );

  defineCommand(
    group,
    'windows <name>',
    "set the group's maintenance windows: rollouts notify its devices only inside them",
  )
    .option(
      '--window <spec>',
      'DAYS HH:MM-HH:MM [TIME_ZONE], e.g. "mon-fri 22:00-04:00 Europe/Berlin" (repeatable)',
      collect,
    )
    .option('--none', 'remove the windows (rollouts may notify at any time)')
    .action(
      async (name: string, options: { window?: string[]; none?: boolean }, command: Command) => {
        const groupName = checkFleetId('group name', name);
        if ((options.window === undefined) === (options.none !== true))
          throw new UsageError('give --window (repeatable) or --none');
        const windows = (options.window ?? []).map(parseWindow);
        const { globals, hub } = connect(command, io);
        const updated = await fleetApi.setGroupWindows(hub, groupName, windows);
        printResult(io, globals, updated, formatGroupDetail);
      },
    );
}
