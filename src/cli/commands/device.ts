import type { Command } from 'commander';
import { defineCommand, printResult, type CliIo, type GlobalOptions } from '../cli-context.js';
import { connect, fleetApi } from '../fleet-api.js';
import {
  agentEnvironment,
  defaultMqttUrl,
  formatAgentEnvironment,
  formatDesired,
  formatDeviceDetail,
  formatDeviceList,
  formatIssuedNote,
} from '../fleet-output.js';
import type { DeviceWithCredentials } from '../hub-api.js';
import { checkModelRef } from '../model-ref.js';
import { checkFleetId, MAX_PAGE, serveAsOption } from './deployment-args.js';
import { checkDeviceId, checkMqttUrl, collect, parseLabels, parseOnline } from './fleet-args.js';
import { parseCount } from './model.js';

const MQTT_URL_HELP =
  "the broker address for the agent's SENTINEL_MQTT_URL (env SENTINEL_MQTT_URL; default: the hub's host, port 1883, or mqtts port 8883 for an https hub)";

/** The credential once: the environment lines on stdout, what happened on stderr; --json: both in one object. */
function printIssued(
  io: CliIo,
  globals: GlobalOptions,
  issued: DeviceWithCredentials,
  mqttUrl: string | undefined,
  rotated: boolean,
): void {
  const env = agentEnvironment(issued, {
    hubUrl: globals.url,
    mqttUrl: mqttUrl ?? io.env.SENTINEL_MQTT_URL ?? defaultMqttUrl(globals.url),
  });
  if (!globals.json) io.stderr.write(formatIssuedNote(issued, rotated));
  printResult(io, globals, { ...issued, agent_env: env }, () => formatAgentEnvironment(env));
}

/** `sentinel device list|create|get|move|rotate|delete|desired|pin|unpin`. */
export function registerDeviceCommands(program: Command, io: CliIo): void {
  const device = defineCommand(
    program,
    'device',
    'register devices, rotate credentials, pin models',
  );

  defineCommand(device, 'list', 'list devices by id')
    .option('--group <group>', 'only devices of this group')
    .option('--environment <env>', 'only devices of this environment')
    .option('--online <bool>', 'only devices that are (true) or are not (false) connected')
    .option('--limit <n>', `page size (max ${MAX_PAGE}, hub default 50)`)
    .option('--offset <n>', 'number of devices to skip')
    .action(
      async (
        options: {
          group?: string;
          environment?: string;
          online?: string;
          limit?: string;
          offset?: string;
        },
        command: Command,
      ) => {
        const query = {
          group: options.group === undefined ? undefined : checkFleetId('--group', options.group),
          environment:
            options.environment === undefined
              ? undefined
              : checkFleetId('--environment', options.environment),
          online: parseOnline(options.online),
          limit: options.limit === undefined ? undefined : parseCount('--limit', options.limit, 1),
          offset:
            options.offset === undefined ? undefined : parseCount('--offset', options.offset, 0),
        };
        const { globals, hub } = connect(command, io);
        printResult(io, globals, await fleetApi.listDevices(hub, query), formatDeviceList);
      },
    );

  defineCommand(
    device,
    'create <id>',
    "register a device; prints its MQTT password once, as the agent's environment lines",
  )
    .requiredOption('--group <group>', 'an existing group')
    .option('--name <name>', 'a display name (default: the id)')
    .option('--label <key=value>', 'a label (repeatable)', collect)
    .option('--mqtt-url <url>', MQTT_URL_HELP)
    .action(
      async (
        id: string,
        options: { group: string; name?: string; label?: string[]; mqttUrl?: string },
        command: Command,
      ) => {
        const body = {
          id: checkDeviceId(id),
          group: checkFleetId('--group', options.group),
          name: options.name,
          labels: parseLabels(options.label),
        };
        const mqttUrl = options.mqttUrl === undefined ? undefined : checkMqttUrl(options.mqttUrl);
        const { globals, hub } = connect(command, io);
        printIssued(io, globals, await fleetApi.createDevice(hub, body), mqttUrl, false);
      },
    );

  defineCommand(device, 'get <id>', 'show one device with what it last reported').action(
    async (id: string, _options: unknown, command: Command) => {
      const deviceId = checkDeviceId(id);
      const { globals, hub } = connect(command, io);
      printResult(io, globals, await fleetApi.getDevice(hub, deviceId), formatDeviceDetail);
    },
  );

  defineCommand(
    device,
    'move <id> <group>',
    'move a device to another group (its MQTT session is ended; it reconnects into the new group)',
  ).action(async (id: string, group: string, _options: unknown, command: Command) => {
    const deviceId = checkDeviceId(id);
    const body = { group: checkFleetId('group', group) };
    const { globals, hub } = connect(command, io);
    printResult(io, globals, await fleetApi.updateDevice(hub, deviceId, body), formatDeviceDetail);
  });

  defineCommand(
    device,
    'rotate <id>',
    'issue a new MQTT password (the old one stops at once); prints it once, as environment lines',
  )
    .option('--mqtt-url <url>', MQTT_URL_HELP)
    .action(async (id: string, options: { mqttUrl?: string }, command: Command) => {
      const deviceId = checkDeviceId(id);
      const mqttUrl = options.mqttUrl === undefined ? undefined : checkMqttUrl(options.mqttUrl);
      const { globals, hub } = connect(command, io);
      printIssued(io, globals, await fleetApi.rotateDevice(hub, deviceId), mqttUrl, true);
    });

  defineCommand(device, 'delete <id>', 'delete a device; its MQTT session is ended').action(
    async (id: string, _options: unknown, command: Command) => {
      const deviceId = checkDeviceId(id);
      const { globals, hub } = connect(command, io);
      await fleetApi.deleteDevice(hub, deviceId);
      printResult(io, globals, { deleted: deviceId }, () => `deleted device ${deviceId}\n`);
    },
  );

  defineCommand(device, 'desired <id>', "show the device's own desired-state override, if any")
    .option('--serve-as <name>', "a named model's desired state (default: 'default')")
    .action(async (id: string, options: { serveAs?: string }, command: Command) => {
      const deviceId = checkDeviceId(id);
      const serveAs = serveAsOption(options.serveAs);
      const { globals, hub } = connect(command, io);
      const desired = await fleetApi.deviceDesired(hub, deviceId, serveAs);
      printResult(io, globals, desired, (value) => formatDesired(`device ${deviceId}`, value));
    });

  defineCommand(
    device,
    'pin <id> <model>',
    'run a model version (id or name@version) on this device, overriding its group',
  )
    .option('--serve-as <name>', "a named model's desired state (default: 'default')")
    .action(async (id: string, model: string, options: { serveAs?: string }, command: Command) => {
      const deviceId = checkDeviceId(id);
      const ref = checkModelRef('model', model);
      const serveAs = serveAsOption(options.serveAs);
      const { globals, hub } = connect(command, io);
      const desired = await fleetApi.pinDevice(hub, deviceId, ref, serveAs);
      printResult(io, globals, desired, (value) =>
        formatDesired(`pinned device ${deviceId}`, value),
      );
    });

  defineCommand(device, 'unpin <id>', "remove the device's override: it follows its group again")
    .option('--serve-as <name>', "a named model's desired state (default: 'default')")
    .action(async (id: string, options: { serveAs?: string }, command: Command) => {
      const deviceId = checkDeviceId(id);
      const serveAs = serveAsOption(options.serveAs);
      const { globals, hub } = connect(command, io);
      await fleetApi.unpinDevice(hub, deviceId, serveAs);
      printResult(
        io,
        globals,
        { unpinned: deviceId },
        () => `device ${deviceId} follows its group again\n`,
      );
    });
}
