import {
  deviceCommandsTopic,
  deviceDesiredTopic,
  deviceStateTopic,
  deviceTelemetryTopic,
  deviceNamedDesiredFilter,
  groupDesiredTopic,
  groupNamedDesiredFilter,
  isValidId,
  parseTopic,
} from './topics.js';

/** Who is on the other end of an MQTT connection, as decided by the authenticate hook. */
export type Principal =
  | { kind: 'device'; deviceId: string; group: string | null }
  | { kind: 'hub' }
  /** `credentialId`: what it logged in with (the hub: the API token's id), to end its sessions. */
  | { kind: 'observer'; credentialId?: string };

export type AclAction = 'publish' | 'subscribe';
export type AclDecision = 'allow' | 'deny';

const MAX_TOPIC_BYTES = 65_535;

function hasSaneLevels(levels: string[]): boolean {
  return levels.every((level) => level.length > 0 && !level.includes('\u0000'));
}

/** A concrete topic we accept in PUBLISH: no wildcards, no empty levels, no '$' prefix. */
export function isPublishableTopic(topic: string): boolean {
  if (topic.length === 0 || Buffer.byteLength(topic) > MAX_TOPIC_BYTES) return false;
  if (topic.startsWith('$') || topic.includes('+') || topic.includes('#')) return false;
  return hasSaneLevels(topic.split('/'));
}

/**
 * A well-formed subscription filter with no empty levels: '+' only as a whole level, '#' only as
 * the whole last level.
 */
export function isWellFormedFilter(filter: string): boolean {
  if (filter.length === 0 || Buffer.byteLength(filter) > MAX_TOPIC_BYTES) return false;
  const levels = filter.split('/');
  if (!hasSaneLevels(levels)) return false;
  return levels.every((level, i) => {
    if (level === '+') return true;
    if (level === '#') return i === levels.length - 1;
    return !level.includes('+') && !level.includes('#');
  });
}

function deviceMaySubscribe(deviceId: string, group: string | null, filter: string): boolean {
  // Exact matches only: any wildcard would reach other devices' or groups' topics, or the
  // device's own state, which is none of its business once written.
  // The one exception: '+' in the model-name level of its own desired topics, which reaches only
  // the named models of the device or of its group.
  if (
    filter === deviceDesiredTopic(deviceId) ||
    filter === deviceNamedDesiredFilter(deviceId) ||
    filter === deviceCommandsTopic(deviceId)
  ) {
    return true;
  }
  if (group === null || !isValidId(group)) return false;
  if (filter === groupDesiredTopic(group) || filter === groupNamedDesiredFilter(group)) return true;
  // One named model exactly (a device following only some of them).
  const parsed = parseTopic(filter);
  return (
    parsed !== null &&
    ((parsed.kind === 'group_desired' && parsed.group === group) ||
      (parsed.kind === 'device_desired' && parsed.device === deviceId))
  );
}

function deviceMayPublish(deviceId: string, topic: string): boolean {
  return topic === deviceStateTopic(deviceId) || topic === deviceTelemetryTopic(deviceId);
}

/**
 * The broker's access rules, as a pure function.
 *
 * - hub: everything that is well formed.
 * - observer: subscribe (wildcards included) to filters under `sentinel/v1/`; never publish.
 * - device: subscribe exactly to its group's desired topics and its own desired and commands
 *   topics (for named models, one name or '+' in the name level); publish exactly its own state
 *   and telemetry topics.
 *
 * Always denied: empty levels, malformed wildcards, wildcards or a leading '$' in a published
 * topic. Only the hub may subscribe outside `sentinel/v1/` (e.g. `$SYS/#`).
 */
export function authorize(principal: Principal, action: AclAction, topic: string): AclDecision {
  const wellFormed = action === 'publish' ? isPublishableTopic(topic) : isWellFormedFilter(topic);
  if (!wellFormed) return 'deny';
  switch (principal.kind) {
    case 'hub':
      return 'allow';
    case 'observer': {
      if (action !== 'subscribe') return 'deny';
      const levels = topic.split('/');
      // The first two levels must be literal: '+/v1/#' or '#' would also match other roots.
      const underRoot = levels.length >= 3 && levels[0] === 'sentinel' && levels[1] === 'v1';
      return underRoot ? 'allow' : 'deny';
    }
    case 'device': {
      if (!isValidId(principal.deviceId)) return 'deny';
      const ok =
        action === 'publish'
          ? deviceMayPublish(principal.deviceId, topic)
          : deviceMaySubscribe(principal.deviceId, principal.group, topic);
      return ok ? 'allow' : 'deny';
    }
    default:
      return 'deny';
  }
}
