/**
 * The port through which the auth guard checks a device credential (HTTP Basic: device id and
 * secret). Auth owns the interface; the fleet module provides the implementation under
 * DEVICE_AUTHENTICATOR (its DeviceCredentials, the same check and cache as at MQTT CONNECT). So the
 * dependency points fleet -> auth only, as it already does for Principal and actorOf.
 */

/** Who a device is once its secret matched. */
export interface DevicePrincipal {
  kind: 'device';
  deviceId: string;
  /** The group's name; null when the device has none (its group was deleted). */
  group: string | null;
}

export interface DeviceAuthenticator {
  /** The device's principal when the secret matches, else null (unknown device or wrong secret). */
  verify(deviceId: string, secret: string): Promise<DevicePrincipal | null>;
  /** The principal of a registered device, with no secret (its client certificate named it). */
  identify(deviceId: string): Promise<DevicePrincipal | null>;
}

export const DEVICE_AUTHENTICATOR = Symbol('DEVICE_AUTHENTICATOR');
