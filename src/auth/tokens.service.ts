import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DomainError, notFound } from '../common/domain-error.js';
import { ApiToken } from './api-token.entity.js';
import { actorOf, type Principal } from './auth.decorators.js';
import type { Role } from './domain/roles.js';
import { TokenEvents } from './token-events.js';
import { displayPrefix, hashToken, newTokenSecret } from './domain/token-secret.js';

const LAST_USED_RESOLUTION_MS = 60_000;

export interface CreatedToken {
  token: ApiToken;
  secret: string;
}

@Injectable()
export class TokensService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Tokens');
  private readonly tokens: Repository<ApiToken>;
  private readonly lastUsedWritten = new Map<string, number>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly events: TokenEvents,
  ) {
    this.tokens = dataSource.getRepository(ApiToken);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bootstrapAdmin();
  }

  /** ADMIN_TOKEN is always accepted as an admin; without it the first start mints one and shows it once. */
  private async bootstrapAdmin(): Promise<void> {
    if (this.config.ADMIN_TOKEN) {
      // One row stands for ADMIN_TOKEN: changing the variable replaces the old secret rather than adding one.
      const tokenHash = hashToken(this.config.ADMIN_TOKEN);
      const tokenPrefix = displayPrefix(this.config.ADMIN_TOKEN);
      const existing = await this.tokens.findOneBy({ createdBy: 'ADMIN_TOKEN' });
      if (!existing) {
        await this.tokens.insert({
          name: 'bootstrap-admin',
          role: 'admin',
          tokenHash,
          tokenPrefix,
          createdBy: 'ADMIN_TOKEN',
        });
      } else if (existing.tokenHash !== tokenHash) {
        await this.tokens.update({ id: existing.id }, { tokenHash, tokenPrefix, role: 'admin' });
      }
      return;
    }
    if ((await this.tokens.countBy({ role: 'admin' })) > 0) return;
    const { secret } = await this.create('bootstrap-admin', 'admin', 'first-start');
    // Printed, not logged: this is the only time the secret exists outside the caller's hands.
    process.stdout.write(
      `\nSentinel hub: no ADMIN_TOKEN was set, so an admin token was created. It is shown only once:\n\n  ${secret}\n\nUse it as SENTINEL_TOKEN for the CLI or as "Authorization: Bearer <token>".\n\n`,
    );
  }

  async create(name: string, role: Role, actor: string): Promise<CreatedToken> {
    const secret = newTokenSecret();
    const token = await this.tokens.save(
      this.tokens.create({
        name,
        role,
        tokenHash: hashToken(secret),
        tokenPrefix: displayPrefix(secret),
        createdBy: actor,
      }),
    );
    await this.audit.record(actor, 'token.create', 'token', token.id, { name, role });
    return { token, secret };
  }

  list(): Promise<ApiToken[]> {
    return this.tokens.find({ order: { createdAt: 'ASC' } });
  }

  /**
   * Deletes a token, never the last admin one: the check and the delete run in one transaction that
   * first locks every admin row, so concurrent deletes queue and the last of them sees the true count.
   * The row that stands for ADMIN_TOKEN is not deleted while the variable is set (it would come back
   * at the next start): unset the variable and restart to retire it.
   */
  async delete(id: string, principal: Principal): Promise<void> {
    const token = await this.dataSource.transaction(async (manager) => {
      const tokens = manager.getRepository(ApiToken);
      const admins = await tokens.find({
        where: { role: 'admin' },
        select: { id: true },
        // One order for every deleter: a scan order changes as rows get new versions (last use),
        // and two deleters locking the same rows in different orders deadlock on PostgreSQL.
        order: { id: 'ASC' },
        lock: { mode: 'pessimistic_write' },
      });
      const token = await tokens.findOneBy({ id });
      if (!token) throw notFound('token', id);
      if (this.fromEnvironment(token))
        throw new DomainError(
          'CONFLICT',
          "this token is the hub's ADMIN_TOKEN: unset ADMIN_TOKEN and restart the hub to retire it",
        );
      if (token.role === 'admin' && admins.filter((a) => a.id !== id).length === 0)
        throw new DomainError('CONFLICT', 'cannot delete the last admin token');
      await tokens.delete({ id });
      await this.audit.record(
        actorOf(principal),
        'token.delete',
        'token',
        id,
        { name: token.name, role: token.role },
        manager,
      );
      return token;
    });
    this.lastUsedWritten.delete(token.id);
    this.events.revoked(id);
  }

  async authenticate(secret: string): Promise<Principal | null> {
    const token = await this.tokens.findOneBy({ tokenHash: hashToken(secret) });
    if (!token) return null;
    this.touch(token.id);
    return {
      kind: 'token',
      tokenId: token.id,
      name: token.name,
      role: token.role,
      ...(this.fromEnvironment(token) ? { fromEnvironment: true } : {}),
    };
  }

  private touch(id: string): void {
    const now = Date.now();
    if (now - (this.lastUsedWritten.get(id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWritten.set(id, now);
    this.tokens.update({ id }, { lastUsedAt: new Date(now) }).catch((error: Error) => {
      this.logger.warn(`could not record token use: ${error.message}`);
    });
  }

  /** The row that stands for the configured ADMIN_TOKEN (it goes only with the variable). */
  private fromEnvironment(token: ApiToken): boolean {
    return token.createdBy === 'ADMIN_TOKEN' && Boolean(this.config.ADMIN_TOKEN);
  }
}
