import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Role } from './domain/roles.js';

export const REQUIRED_ROLE = 'sentinel:required-role';
export const PUBLIC_ROUTE = 'sentinel:public-route';

/** The least role that may call the route; routes without it need admin. */
export const RequireRole = (role: Role) => SetMetadata(REQUIRED_ROLE, role);

/** Routes that need no token: health, metrics, API docs. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

export function actorOf(principal: Principal): string {
  return `token:${principal.name}`;
}

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal =>
    ctx.switchToHttp().getRequest<{ principal: Principal }>().principal,
);
