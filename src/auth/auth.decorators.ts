import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { DevicePrincipal } from './device-authenticator.js';
import type { Role } from './domain/roles.js';

export type { DevicePrincipal } from './device-authenticator.js';

export const REQUIRED_ROLE = 'sentinel:required-role';
export const PUBLIC_ROUTE = 'sentinel:public-route';
export const DEVICE_ACCESS = 'sentinel:device-access';

/**
 * Who may call a route besides API tokens: `also` = devices with their credential as well as tokens
 * with the route's role; `only` = devices and nobody else. Unmarked routes take tokens only.
 */
export type DeviceAccessMode = 'also' | 'only';

/** The least role that may call the route; routes without it need admin. */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);

/** Routes that need no token: health, metrics, API docs. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/**
 * Devices may call the route with their credential (`Authorization: Basic base64(id:secret)`), as
 * well as tokens with the route's role. Keep this to what an agent needs: artifact downloads.
 */
export const DeviceAccess = () => SetMetadata(DEVICE_ACCESS, 'also' satisfies DeviceAccessMode);

/** Only devices may call the route, with their credential; a token gets 403. */
export const DeviceOnly = () => SetMetadata(DEVICE_ACCESS, 'only' satisfies DeviceAccessMode);

/** A caller that presented an API token. */
export interface Principal {
  kind: 'token';
  tokenId: string;
  name: string;
  role: Role;
  /** The token is the hub's ADMIN_TOKEN (environment), not one made through the API. */
  fromEnvironment?: boolean;
}

/** Whoever the guard let in: a token's principal, or a device's on @DeviceAccess/@DeviceOnly routes. */
export type RequestPrincipal = Principal | DevicePrincipal;

/** How audit rows and request logs name the caller. */
export function actorOf(principal: RequestPrincipal): string {
  return principal.kind === 'device' ? `device:${principal.deviceId}` : `token:${principal.name}`;
}

function principalOf(ctx: ExecutionContext): RequestPrincipal | undefined {
  return ctx.switchToHttp().getRequest<{ principal?: RequestPrincipal }>().principal;
}

/** The token principal. A route that devices may reach must not use it (it fails loudly if one did). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => {
    const principal = principalOf(ctx);
    if (principal?.kind !== 'token') {
      throw new Error('@CurrentPrincipal() on a route reached without an API token');
    }
    return principal;
  },
);

/** The device principal on a @DeviceOnly route. */
export const CurrentDevice = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): DevicePrincipal => {
    const principal = principalOf(ctx);
    if (principal?.kind !== 'device') {
      throw new Error('@CurrentDevice() on a route reached without a device credential');
    }
    return principal;
  },
);
