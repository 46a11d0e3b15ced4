import {
  Inject,
  Injectable,
  Optional,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { TLSSocket } from 'node:tls';
import { peerCertificateOf } from '@sentinel/broker';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { clientAuthMode, type ClientAuthMode } from '../config/tls-config.js';
import { DomainError } from '../common/domain-error.js';
import {
  DEVICE_ACCESS,
  PUBLIC_ROUTE,
  REQUIRED_ROLE,
  type DeviceAccessMode,
  type Principal,
  type RequestPrincipal,
} from './auth.decorators.js';
import {
  DEVICE_AUTHENTICATOR,
  type DeviceAuthenticator,
  type DevicePrincipal,
} from './device-authenticator.js';
import { readAuthorization, type PresentedCredential } from './domain/authorization-header.js';
import { certificateLogin } from './domain/certificate-login.js';
import { roleAllows, type Role } from './domain/roles.js';
import { TokensService } from './tokens.service.js';

const MISSING: Record<DeviceAccessMode | 'tokens', string> = {
  tokens: 'missing bearer token (Authorization: Bearer <token>)',
  also: 'missing credentials (Authorization: Bearer <token>, or Basic with the device id and secret)',
  only: 'missing device credentials (Authorization: Basic base64(device_id:secret))',
};

const unauthenticated = (message: string) => new DomainError('UNAUTHENTICATED', message);

/**
 * Every route needs an API token (Bearer) with the route's role, unless it is @Public. Routes
 * marked @DeviceAccess also take a device credential (Basic device_id:secret), and @DeviceOnly
 * routes take nothing else. The caller's principal goes on `request.principal`, `kind: 'token'` or
 * `kind: 'device'`, for handlers, the audit trail and the request log.
 *
 * Registered as the app-wide guard by AppModule, where both the tokens (AuthModule) and the device
 * check (FleetModule, behind DEVICE_AUTHENTICATOR) are visible; auth itself never imports fleet.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
    @Inject(DEVICE_AUTHENTICATOR) private readonly devices: DeviceAuthenticator,
    @Optional() @Inject(APP_CONFIG) config?: AppConfig,
  ) {
    this.clientAuth = config ? clientAuthMode(config) : 'off';
  }

  private readonly clientAuth: ClientAuthMode;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const required = this.reflector.getAllAndOverride<Role>(REQUIRED_ROLE, targets) ?? 'admin';
    const deviceAccess =
      this.reflector.getAllAndOverride<DeviceAccessMode>(DEVICE_ACCESS, targets) ?? null;

    const request = context.switchToHttp().getRequest<{
      headers: Record<string, string>;
      principal?: RequestPrincipal;
      socket?: Partial<TLSSocket>;
    }>();
    const credential = readAuthorization(request.headers['authorization']);
    const certified = await this.byCertificate(request.socket, credential, deviceAccess);
    if (certified) {
      request.principal = certified;
      return true;
    }
    if (!credential) throw unauthenticated(MISSING[deviceAccess ?? 'tokens']);
    request.principal =
      credential.scheme === 'bearer'
        ? await this.asToken(credential.token, required, deviceAccess)
        : await this.asDevice(credential, deviceAccess);
    return true;
  }

  /**
   * mTLS over HTTPS, on the routes devices may call: a verified client certificate is the device
   * its CN names (see certificateLogin). Null when the certificate plays no part.
   */
  private async byCertificate(
    socket: Partial<TLSSocket> | undefined,
    credential: PresentedCredential | null,
    deviceAccess: DeviceAccessMode | null,
  ): Promise<DevicePrincipal | null> {
    if (this.clientAuth === 'off' || !deviceAccess || credential?.scheme === 'bearer') return null;
    const certificate =
      typeof socket?.getPeerCertificate === 'function'
        ? peerCertificateOf(socket as TLSSocket)
        : null;
    if (!certificate && !credential) return null;
    const username = credential?.scheme === 'basic' ? credential.deviceId : undefined;
    const login = certificateLogin(this.clientAuth, certificate, { username, notADevice: false });
    if (login.kind === 'refuse') throw unauthenticated(login.reason);
    if (login.kind === 'password') return null;
    const principal = await this.devices.identify(login.deviceId);
    if (!principal) throw unauthenticated(`certificate of unknown device ${login.deviceId}`);
    return principal;
  }

  private async asToken(
    secret: string,
    required: Role,
    deviceAccess: DeviceAccessMode | null,
  ): Promise<Principal> {
    const principal = await this.tokens.authenticate(secret);
    if (!principal) throw unauthenticated('invalid or revoked token');
    if (deviceAccess === 'only') {
      throw new DomainError(
        'FORBIDDEN',
        'only devices may make this call, with their credential (Authorization: Basic base64(device_id:secret)), not with a token',
      );
    }
    if (!roleAllows(principal.role, required)) {
      throw new DomainError(
        'FORBIDDEN',
        `this call needs the ${required} role; the token has ${principal.role}`,
      );
    }
    return principal;
  }

  private async asDevice(
    credential: Exclude<PresentedCredential, { scheme: 'bearer' }>,
    deviceAccess: DeviceAccessMode | null,
  ): Promise<DevicePrincipal> {
    // Refused before any look-up: elsewhere a device credential is never checked, only declined.
    if (!deviceAccess) {
      throw unauthenticated(
        'device credentials are only accepted for artifact downloads and /devices/me; this call needs a bearer token',
      );
    }
    if (credential.scheme === 'malformed-basic') {
      throw unauthenticated('malformed Basic credentials: expected base64 of "device_id:secret"');
    }
    const principal = await this.devices.verify(credential.deviceId, credential.secret);
    if (!principal) throw unauthenticated('unknown device or wrong device secret');
    return principal;
  }
}
