/**
 * The `sentinel/v1` topic tree, defined in this one place.
 *
 *   sentinel/v1/groups/{group}/desired       hub -> devices   QoS 1, retained
 *   sentinel/v1/devices/{device}/desired     hub -> device    QoS 1, retained (override)
 *   sentinel/v1/devices/{device}/commands    hub -> device    QoS 1
 *   sentinel/v1/devices/{device}/state       device -> hub    QoS 1, retained, LWT
 *   sentinel/v1/devices/{device}/telemetry   device -> hub    QoS 0
 */

export const TOPIC_ROOT = 'sentinel/v1';

/**
 * Device and group ids: lowercase letters, digits, '.', '_' and '-', starting with a letter or a
 * digit, at most 64 characters. This keeps MQTT separators and wildcards ('/', '+', '#') and '$'
 * out of topic levels, so one id is always exactly one level.
 */
export const ID_PATTERN = '^[a-z0-9][a-z0-9._-]{0,63}$';
const ID_RE = new RegExp(ID_PATTERN);

export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && ID_RE.test(id);
}

function requireId(what: string, id: string): string {
  if (!isValidId(id)) {
    throw new TypeError(`invalid ${what} id ${JSON.stringify(id)}: must match ${ID_PATTERN}`);
  }
  return id;
}

export function groupDesiredTopic(group: string): string {
  return `${TOPIC_ROOT}/groups/${requireId('group', group)}/desired`;
}

export function deviceDesiredTopic(device: string): string {
  return `${TOPIC_ROOT}/devices/${requireId('device', device)}/desired`;
}

export function deviceCommandsTopic(device: string): string {
  return `${TOPIC_ROOT}/devices/${requireId('device', device)}/commands`;
}

export function deviceStateTopic(device: string): string {
  return `${TOPIC_ROOT}/devices/${requireId('device', device)}/state`;
}

export function deviceTelemetryTopic(device: string): string {
  return `${TOPIC_ROOT}/devices/${requireId('device', device)}/telemetry`;
}

/** Wildcard subscriptions used by the hub. */
export const ALL_DEVICE_STATE = `${TOPIC_ROOT}/devices/+/state`;
export const ALL_DEVICE_TELEMETRY = `${TOPIC_ROOT}/devices/+/telemetry`;
export const ALL_GROUP_DESIRED = `${TOPIC_ROOT}/groups/+/desired`;
export const ALL_DEVICE_DESIRED = `${TOPIC_ROOT}/devices/+/desired`;

export type DeviceTopicKind =
  'device_desired' | 'device_commands' | 'device_state' | 'device_telemetry';

export type ParsedTopic =
  { kind: 'group_desired'; group: string } | { kind: DeviceTopicKind; device: string };

const DEVICE_LEAVES: Readonly<Record<string, DeviceTopicKind>> = {
  desired: 'device_desired',
  commands: 'device_commands',
  state: 'device_state',
  telemetry: 'device_telemetry',
};

/**
 * Parses a concrete topic (no wildcards) of the tree. Returns null for anything else: other roots,
 * unknown leaves, extra or empty levels, invalid ids.
 */
export function parseTopic(topic: string): ParsedTopic | null {
  const levels = topic.split('/');
  if (levels.length !== 5 || levels[0] !== 'sentinel' || levels[1] !== 'v1') return null;
  const [, , branch, id, leaf] = levels;
  if (!isValidId(id)) return null;
  if (branch === 'groups') {
    return leaf === 'desired' ? { kind: 'group_desired', group: id } : null;
  }
  if (branch === 'devices' && Object.hasOwn(DEVICE_LEAVES, leaf)) {
    return { kind: DEVICE_LEAVES[leaf], device: id };
  }
  return null;
}

/**
 * Whether a concrete topic matches a subscription filter ([MQTT-4.7.1]): "+" one level, "#" the
 * rest (including the parent level). Topics starting with "$" match no filter starting with a
 * wildcard ([MQTT-4.7.2-1]).
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
