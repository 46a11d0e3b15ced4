import type { PeerCertificate } from '@sentinel/broker';
import type { ClientAuthMode } from '../../config/tls-config.js';

/** How a login is to be checked, given the client certificate of its connection. */
export type CertificateLogin =
  /** The certificate names the device: it must still be registered and in a group. */
  | { kind: 'certificate'; deviceId: string }
  /** No certificate involved: the user name and password decide. */
  | { kind: 'password' }
  | { kind: 'refuse'; reason: string };

export interface LoginAttempt {
  /** MQTT client id; undefined over HTTP, where there is none. */
  clientId?: string;
  /** MQTT user name or the HTTP Basic user; undefined when none was sent. */
  username?: string;
  /** Whether the login says it is not a device (an MQTT observer, an API token over HTTP). */
  notADevice: boolean;
}

/**
 * The mTLS rule, the same for MQTT and HTTP. A certificate is only ever a device's identity:
 * - one that does not verify against the client CA is refused, never ignored;
 * - one that verifies authenticates the device whose id is its CN, with no secret, and every other
 *   name the login gives (client id, user name) must be that id;
 * - without one, `required` refuses devices, and the other modes fall back to the secret.
 * With `off` no certificate is asked for, and any that arrives anyway is ignored.
 */
export function certificateLogin(
  mode: ClientAuthMode,
  certificate: PeerCertificate | null,
  attempt: LoginAttempt,
): CertificateLogin {
  if (mode === 'off') return { kind: 'password' };
  if (certificate === null) {
    if (mode === 'required' && !attempt.notADevice)
      return { kind: 'refuse', reason: 'a device certificate is required' };
    return { kind: 'password' };
  }
  if (!certificate.verified)
    return { kind: 'refuse', reason: `client certificate not trusted (${certificate.error})` };
  const deviceId = certificate.cn;
  if (deviceId === null)
    return { kind: 'refuse', reason: 'client certificate has no single common name' };
  if (attempt.notADevice)
    return {
      kind: 'refuse',
      reason: `the certificate of device ${deviceId} used for another login`,
    };
  for (const [what, name] of [
    ['client id', attempt.clientId],
    ['user name', attempt.username],
  ] as const) {
    if (name !== undefined && name !== deviceId)
      return {
        kind: 'refuse',
        reason: `${what} ${name} is not the certificate's device ${deviceId}`,
      };
  }
  return { kind: 'certificate', deviceId };
}
