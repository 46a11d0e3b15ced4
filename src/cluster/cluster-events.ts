/**
 * The events the hubs of a cluster send each other (ClusterBus), and the check of what arrives
 * from Redis. Pure: no Nest, no Redis.
 */
export interface ClusterEventMap {
  /**
   * Device credentials that changed (rotated, device deleted, moved, its group deleted): each hub
   * forgets what it cached about them and ends their sessions on its broker.
   */
  'devices.revoked': { deviceIds: string[]; reason: string };
  /** An API token was deleted: each hub ends the sessions (MQTT observers, event streams) it opened. */
  'token.revoked': { tokenId: string };
}

export type ClusterEventName = keyof ClusterEventMap;

export interface ClusterMessage {
  origin: string;
  event: ClusterEventName;
  payload: ClusterEventMap[ClusterEventName];
}

const isString = (value: unknown): value is string => typeof value === 'string';

function validPayload(event: unknown, payload: unknown): boolean {
  if (typeof payload !== 'object' || payload === null) return false;
  const p = payload as Record<string, unknown>;
  switch (event) {
    case 'devices.revoked':
      return Array.isArray(p.deviceIds) && p.deviceIds.every(isString) && isString(p.reason);
    case 'token.revoked':
      return isString(p.tokenId);
    default:
      return false; // an event of a newer hub: not understood here
  }
}

/** A message from the channel, or null when it is not one this hub understands. */
export function readClusterMessage(text: string): ClusterMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { origin, event, payload } = value as Record<string, unknown>;
  if (!isString(origin) || !validPayload(event, payload)) return null;
  return {
    origin,
    event: event as ClusterEventName,
    payload: payload as ClusterMessage['payload'],
  };
}
