/**
 * The `sentinel/v1` topic tree, defined in this one place.
 *
 *   sentinel/v1/groups/{group}/desired       hub -> devices   QoS 1, retained
 *   sentinel/v1/devices/{device}/desired     hub -> device    QoS 1, retained (override)
 *   sentinel/v1/devices/{device}/commands    hub -> device    QoS 1
 *   sentinel/v1/devices/{device}/state       device -> hub    QoS 1, retained, LWT
 *   sentinel/v1/devices/{device}/telemetry   device -> hub    QoS 0
 *
 * A device may serve several named models (say `detector` and `classifier`), each following its own
 * desired state. The model named `default` uses the topics above; any other name N its own:
 *
 *   sentinel/v1/groups/{group}/models/{N}/desired     hub -> devices   QoS 1, retained
 *   sentinel/v1/devices/{device}/models/{N}/desired   hub -> device    QoS 1, retained (override)
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

/**
 * The name of the model a device serves when nothing else is said: its desired states use the
 * topics of protocol version 1 before named models existed, so a one-model agent works unchanged.
 */
export const DEFAULT_MODEL_NAME = 'default';

/** How many named models a device serves at most (state reports, subscriptions). */
export const MAX_MODEL_NAMES = 8;

/** A model name on a device: the same pattern as ids (one topic level). */
export function isValidModelName(name: unknown): name is string {
  return isValidId(name);
}

function modelLevels(name: string): string {
  if (name === DEFAULT_MODEL_NAME) return '';
  return `/models/${requireId('model name', name)}`;
}

/** The group's desired state for one named model (`default`: the group's own desired topic). */
export function groupDesiredTopic(group: string, name: string = DEFAULT_MODEL_NAME): string {
  return `${TOPIC_ROOT}/groups/${requireId('group', group)}${modelLevels(name)}/desired`;
}

/** A device's override for one named model (`default`: the device's own desired topic). */
export function deviceDesiredTopic(device: string, name: string = DEFAULT_MODEL_NAME): string {
  return `${TOPIC_ROOT}/devices/${requireId('device', device)}${modelLevels(name)}/desired`;
}

/** What a device subscribes to, besides the default topics, to learn every named model. */
export function groupNamedDesiredFilter(group: string): string {
  return `${TOPIC_ROOT}/groups/${requireId('group', group)}/models/+/desired`;
}

export function deviceNamedDesiredFilter(device: string): string {
  return `${TOPIC_ROOT}/devices/${requireId('device', device)}/models/+/desired`;
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

/** `name` is the model name of a desired topic (`default` for the topics without one). */
export type ParsedTopic =
  | { kind: 'group_desired'; group: string; name: string }
  | { kind: 'device_desired'; device: string; name: string }
  | { kind: Exclude<DeviceTopicKind, 'device_desired'>; device: string };

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
  if (levels[0] !== 'sentinel' || levels[1] !== 'v1') return null;
  if (levels.length === 7) return parseNamedDesired(levels);
  if (levels.length !== 5) return null;
  const [, , branch, id, leaf] = levels;
  if (!isValidId(id)) return null;
  if (branch === 'groups') {
    return leaf === 'desired'
      ? { kind: 'group_desired', group: id, name: DEFAULT_MODEL_NAME }
      : null;
  }
  if (branch === 'devices' && Object.hasOwn(DEVICE_LEAVES, leaf)) {
    const kind = DEVICE_LEAVES[leaf];
    return kind === 'device_desired'
      ? { kind, device: id, name: DEFAULT_MODEL_NAME }
      : { kind, device: id };
  }
  return null;
}

/** `sentinel/v1/{groups|devices}/{id}/models/{name}/desired`; `default` has no such topic. */
function parseNamedDesired(levels: string[]): ParsedTopic | null {
  const [, , branch, id, models, name, leaf] = levels;
  if (models !== 'models' || leaf !== 'desired') return null;
  if (!isValidId(id) || !isValidModelName(name) || name === DEFAULT_MODEL_NAME) return null;
  if (branch === 'groups') return { kind: 'group_desired', group: id, name };
  if (branch === 'devices') return { kind: 'device_desired', device: id, name };
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
