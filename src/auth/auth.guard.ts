import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '../common/domain-error.js';
import { PUBLIC_ROUTE, REQUIRED_ROLE, type Principal } from './auth.decorators.js';
import { roleAllows, type Role } from './domain/roles.js';
import { bearerToken } from './domain/token-secret.js';
import { TokensService } from './tokens.service.js';

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const required = this.reflector.getAllAndOverride<Role>(REQUIRED_ROLE, targets) ?? 'admin';

    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string>; principal?: Principal }>();
    const secret = bearerToken(request.headers['authorization']);
    if (!secret)
      throw new DomainError(
        'UNAUTHENTICATED',
        'missing bearer token (Authorization: Bearer <token>)',
      );
    const principal = await this.tokens.authenticate(secret);
    if (!principal) throw new DomainError('UNAUTHENTICATED', 'invalid or revoked token');
    if (!roleAllows(principal.role, required)) {
      throw new DomainError(
        'FORBIDDEN',
        `this call needs the ${required} role; the token has ${principal.role}`,
      );
    }
    request.principal = principal;
    return true;
  }
}
