// What the group, device, token and desired-state commands print (without --json).
import type {
  CreatedToken,
  DesiredState,
  Device,
  DevicePage,
  DeviceWithCredentials,
  Group,
  GroupPage,
  Token,
} from './hub-api.js';
import {
  agentEnvironment,
  defaultMqttUrl,
  desiredModel,
  envValue,
  formatAgentEnvironment,
  type AgentEndpoints,
} from './agent-env.js';
import { clean, formatTable, formatTimestamp } from './output.js';
import { formatCapabilities } from './capabilities-line.js';

// Shared with the web console (no dependencies there); re-exported for the commands and specs.
export { agentEnvironment, defaultMqttUrl, desiredModel, envValue, formatAgentEnvironment };
export type { AgentEndpoints };

function keyValues(pairs: readonly [string, string][]): string {
  const width = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `  ${key.padEnd(width)}  ${value}\n`).join('');
}

function labels(value: Record<string, string>): string {
  const entries = Object.entries(value);
  return entries.length === 0 ? '-' : entries.map(([key, v]) => `${key}=${v}`).join(',');
}

export function formatGroupList(page: GroupPage): string {
  if (page.items.length === 0) return 'no groups found\n';
  return formatTable(
    ['NAME', 'ENVIRONMENT', 'DEVICES', 'DESIRED', 'LABELS'],
    page.items.map((group) => [
      group.name,
      group.environment,
      String(group.device_count),
      desiredModel(group.desired),
      labels(group.labels),
    ]),
  );
}

export function formatGroupDetail(group: Group): string {
  return (
    `group ${group.name}\n` +
    keyValues([
      ['environment', group.environment],
      ['devices', String(group.device_count)],
      ['labels', labels(group.labels)],
      ['windows', windows(group.maintenance_windows)],
      ['desired', `${desiredModel(group.desired)} (seq ${group.desired_seq})`],
      ['created', formatTimestamp(group.created_at)],
    ])
  );
}

/** Maintenance windows in the CLI's own spelling (`mon,tue 22:00-04:00 Europe/Berlin`). */
function windows(list: Group['maintenance_windows'] | undefined): string {
  if (!list || list.length === 0) return 'any time';
  return list
    .map((w) => `${w.days.join(',')} ${w.start}-${w.end} ${w.time_zone ?? 'UTC'}`)
    .join('; ');
}

export function formatDeviceList(page: DevicePage): string {
  if (page.items.length === 0) {
    return page.total > 0
      ? `no devices at offset ${page.offset} (total ${page.total})\n`
      : 'no devices found\n';
  }
  const table = formatTable(
    ['ID', 'GROUP', 'ENVIRONMENT', 'ONLINE', 'LAST SEEN', 'AGENT'],
    page.items.map((device) => [
      device.id,
      device.group ?? '-',
      device.environment ?? '-',
      device.online ? 'yes' : 'no',
      device.last_seen_at ? formatTimestamp(device.last_seen_at) : '-',
      device.agent_version ?? '-',
    ]),
  );
  const shown = page.items.length;
  const footer =
    shown < page.total ? `${page.offset + 1}-${page.offset + shown} of ${page.total}\n` : '';
  return table + footer;
}

/**
 * A named model of a device (docs/protocol.md 6.6) in one line: what its active slot serves, what
 * waits in the other, and the progress of its deployment, e.g.
 * `serves cls@2.0.0 (green), standby cls@1.0.0 | deployment 0f3c... active`.
 */
export function namedModelLine(model: NonNullable<Device['models']>[number]): string {
  const other = model.active_slot === 'blue' ? 'green' : 'blue';
  const served = model.active_slot ? model.slots[model.active_slot] : null;
  const standby = model.active_slot ? model.slots[other] : null;
  const parts = [
    served
      ? `serves ${served.model_id.slice(0, 8)} v${served.version} (${model.active_slot})`
      : 'serves nothing',
    ...(standby ? [`standby v${standby.version}`] : []),
  ];
  const progress = model.deployment;
  const deployment = progress
    ? ` | deployment ${progress.deployment_id ?? '-'} ${progress.phase}${progress.reason ? ` (${progress.reason})` : ''}`
    : '';
  return clean(parts.join(', ') + deployment);
}

export function formatDeviceDetail(device: Device): string {
  return (
    `device ${device.id}\n` +
    keyValues([
      ['name', device.name],
      ['group', device.group ?? '- (in no group: the broker refuses it until it is moved)'],
      ['environment', device.environment ?? '-'],
      ['labels', labels(device.labels)],
      ['online', device.online ? 'yes' : 'no'],
      ['last seen', device.last_seen_at ? formatTimestamp(device.last_seen_at) : '-'],
      ['agent', device.agent_version ?? '-'],
      ['capabilities', formatCapabilities(device.capabilities)],
      ['pinned', desiredModel(device.desired)],
      ...(device.models ?? []).map((m): [string, string] => [`model ${m.name}`, namedModelLine(m)]),
      ['credential', `rotated ${formatTimestamp(device.credential_rotated_at)}`],
      ['created', formatTimestamp(device.created_at)],
    ])
  );
}

/** stderr of `device create|rotate`: what happened, and that the password is not shown again. */
export function formatIssuedNote(issued: DeviceWithCredentials, rotated: boolean): string {
  const where = issued.group ? ` in group ${issued.group} (${issued.environment})` : '';
  const what = rotated
    ? `rotated the credential of device ${issued.id}: the old password no longer works`
    : `created device ${issued.id}${where}`;
  return (
    `${what}\n` +
    "The MQTT password is shown only now. Put these lines in the agent's environment (e.g. /etc/sentinel/agent.env):\n"
  );
}

export function formatTokenList(tokens: Token[]): string {
  if (tokens.length === 0) return 'no tokens found\n';
  return formatTable(
    ['ID', 'NAME', 'ROLE', 'PREFIX', 'CREATED', 'LAST USED'],
    tokens.map((token) => [
      token.id,
      token.name,
      token.role,
      token.token_prefix,
      formatTimestamp(token.created_at),
      token.last_used_at ? formatTimestamp(token.last_used_at) : 'never',
    ]),
  );
}

/** stdout of `token create`: the secret alone, so it can be captured; the note goes to stderr. */
export function formatCreatedToken(token: CreatedToken): string {
  return `${token.token}\n`;
}

export function formatCreatedTokenNote(token: CreatedToken): string {
  return `created ${token.role} token ${token.name} (id ${token.id}); the secret below is shown only now\n`;
}

/** A desired state in brief: strategy, model and previous, or that none is set. */
export function formatDesired(target: string, desired: DesiredState): string {
  if (!desired) return `${target}: no desired state\n`;
  const pairs: [string, string][] = [
    ['model', desiredModel(desired)],
    ['previous', desiredModel({ model: desired.previous })],
    ['strategy', typeof desired.strategy === 'string' ? desired.strategy : '-'],
    ['deployment', typeof desired.deployment_id === 'string' ? desired.deployment_id : '-'],
  ];
  if (typeof desired.seq === 'number') pairs.push(['seq', String(desired.seq)]);
  return `${target}\n${keyValues(pairs)}`;
}
