import { randomUUID } from 'node:crypto';
import type { Principal } from './acl.js';

/** The MQTT user name of read-only observers (dashboards, debugging); the password is an API token. */
export const OBSERVER_USERNAME = 'observer';
/**
 * Observers' client ids live under this prefix. ':' is never part of a device id, so an observer
 * can never hold a device's client id and lock the device out.
 */
export const OBSERVER_CLIENT_ID_PREFIX = 'observer:';
/** MQTT 3.1.1, the only protocol level accepted (docs/protocol.md, section 1). */
export const SUPPORTED_PROTOCOL_LEVEL = 4;

export type RefusalReason =
  | 'protocol_version'
  | 'bad_credentials'
  | 'unavailable'
  | 'client_id'
  | 'client_id_in_use'
  | 'will';

/** A refused CONNECT: the CONNACK return code and why. */
export interface ConnectRefusal {
  returnCode: 1 | 2 | 3 | 4 | 5;
  reason: RefusalReason;
  message: string;
}

export const BAD_CREDENTIALS: ConnectRefusal = {
  returnCode: 4,
  reason: 'bad_credentials',
  message: 'bad user name or password',
};
export const UNAVAILABLE: ConnectRefusal = {
  returnCode: 3,
  reason: 'unavailable',
  message: 'authentication unavailable',
};
export const WILL_REFUSED: ConnectRefusal = {
  returnCode: 5,
  reason: 'will',
  message: 'last will not authorized',
};

/** The client id an observer's session gets: its own under the observer prefix (random if empty). */
export function observerClientId(requested: string, random: () => string = randomUUID): string {
  if (requested.startsWith(OBSERVER_CLIENT_ID_PREFIX)) return requested;
  return OBSERVER_CLIENT_ID_PREFIX + (requested === '' ? random() : requested);
}

/** CONNACK 1 for any protocol level but MQTT 3.1.1. */
export function protocolRefusal(level: number): ConnectRefusal | null {
  if (level === SUPPORTED_PROTOCOL_LEVEL) return null;
  return {
    returnCode: 1,
    reason: 'protocol_version',
    message: `protocol level ${level} refused: only MQTT 3.1.1 (level 4) is served`,
  };
}

export function samePrincipal(a: Principal, b: Principal): boolean {
  if (a.kind === 'device' && b.kind === 'device') return a.deviceId === b.deviceId;
  if (a.kind === 'observer' && b.kind === 'observer') return a.credentialId === b.credentialId;
  return a.kind === b.kind;
}

export function describePrincipal(p: Principal | null): string {
  if (p === null) return 'unauthenticated';
  if (p.kind === 'device') return `device ${p.deviceId}`;
  return p.kind;
}

/**
 * Whether an authenticated principal may open a session under `clientId`, given who holds that
 * client id now (null: nobody). Client ids are session identities: whoever connects with one takes
 * over (closes) the session that had it. So a device must use its own id, an observer an id in the
 * observer namespace, and nobody takes over another principal's session. Pure.
 */
export function sessionRefusal(
  principal: Principal,
  clientId: string,
  holder: Principal | null,
): ConnectRefusal | null {
  if (principal.kind === 'device' && clientId !== principal.deviceId) {
    return { returnCode: 2, reason: 'client_id', message: 'client id must be the device id' };
  }
  if (principal.kind === 'observer' && !clientId.startsWith(OBSERVER_CLIENT_ID_PREFIX)) {
    return {
      returnCode: 2,
      reason: 'client_id',
      message: `an observer's client id must start with ${OBSERVER_CLIENT_ID_PREFIX}`,
    };
  }
  if (holder !== null && !samePrincipal(holder, principal)) {
    return {
      returnCode: 2,
      reason: 'client_id_in_use',
      message: 'client id in use by another principal',
    };
  }
  return null;
}
