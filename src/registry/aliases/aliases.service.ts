import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service.js';
import { actorOf, type Principal } from '../../auth/auth.decorators.js';
import { notFound, validationFailed } from '../../common/domain-error.js';
import { checkAliasName } from '../domain/model-ref.js';
import { checkModelName, checkVersion } from '../domain/model-rules.js';
import { ModelVersion } from '../model-version.entity.js';
import { RegistryService } from '../registry.service.js';
import { ModelAlias, ModelAliasMove } from './model-alias.entity.js';

export interface AliasView {
  model: string;
  alias: string;
  version: string;
  model_id: string;
  moved_by: string;
  moved_at: Date;
}

/**
 * Registry aliases (`detector@champion`): a named pointer per model name, moved by operators, with
 * every move kept (who, when, from which version to which) and audited. A reference through an alias
 * resolves when it is used (RegistryService), so a deployment records the version it got.
 */
@Injectable()
export class AliasesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    registry: RegistryService,
  ) {
    registry.addUsageCheck(async (m, modelId) => {
      const alias = await m.getRepository(ModelAlias).findOneBy({ modelId });
      return alias
        ? `alias ${alias.name}@${alias.alias} points at it; move or delete the alias first`
        : null;
    });
  }

  async list(model?: string): Promise<AliasView[]> {
    if (model !== undefined) checkNames(model);
    const rows = await this.dataSource.getRepository(ModelAlias).find({
      where: model === undefined ? {} : { name: model },
      relations: { model: true },
      order: { name: 'ASC', alias: 'ASC' },
    });
    return rows.map(view);
  }

  async get(model: string, alias: string): Promise<AliasView> {
    checkNames(model, alias);
    const row = await this.dataSource
      .getRepository(ModelAlias)
      .findOne({ where: { name: model, alias }, relations: { model: true } });
    if (!row) throw notFound('alias', `${model}@${alias}`);
    return view(row);
  }

  /** Points `model@alias` at `version` of that model, creating the alias if needed. */
  async set(
    model: string,
    alias: string,
    version: string,
    reason: string | null,
    principal: Principal,
  ): Promise<AliasView> {
    checkNames(model, alias);
    const badVersion = checkVersion(version);
    if (badVersion) throw validationFailed(badVersion);
    const actor = actorOf(principal);
    await this.dataSource.transaction(async (m) => {
      // The target is locked in share mode so it cannot be deleted while the alias moves to it.
      const target = await m.getRepository(ModelVersion).findOne({
        where: { name: model, version },
        lock: { mode: 'pessimistic_read' },
      });
      if (!target) throw notFound('model', `${model}@${version}`);
      const aliases = m.getRepository(ModelAlias);
      const current = await lockAlias(m, model, alias);
      if (current?.modelId === target.id) return;
      await aliases.upsert(
        { name: model, alias, modelId: target.id, movedBy: actor, movedAt: new Date() },
        ['name', 'alias'],
      );
      const from = current ? await versionOf(m, current.modelId) : null;
      await this.recordMove(m, model, alias, from, target, actor, reason);
    });
    return this.get(model, alias);
  }

  async remove(model: string, alias: string, reason: string | null, principal: Principal) {
    checkNames(model, alias);
    await this.dataSource.transaction(async (m) => {
      const current = await lockAlias(m, model, alias);
      if (!current) throw notFound('alias', `${model}@${alias}`);
      await m.getRepository(ModelAlias).delete({ name: model, alias });
      const from = await versionOf(m, current.modelId);
      await this.recordMove(m, model, alias, from, null, actorOf(principal), reason);
    });
  }

  /** The moves of one alias, newest first (also after the alias was removed). */
  async history(model: string, alias: string, limit: number): Promise<ModelAliasMove[]> {
    checkNames(model, alias);
    const moves = await this.dataSource.getRepository(ModelAliasMove).find({
      where: { name: model, alias },
      order: { at: 'DESC' },
      take: limit,
    });
    if (moves.length === 0) throw notFound('alias', `${model}@${alias}`);
    return moves;
  }

  private async recordMove(
    m: EntityManager,
    name: string,
    alias: string,
    fromVersion: string | null,
    to: ModelVersion | null,
    actor: string,
    reason: string | null,
  ): Promise<void> {
    await m.getRepository(ModelAliasMove).insert({
      name,
      alias,
      fromVersion,
      toVersion: to?.version ?? null,
      toModelId: to?.id ?? null,
      actor,
      reason,
    });
    await this.audit.record(
      actor,
      to ? 'model.alias.move' : 'model.alias.delete',
      'model',
      to?.id ?? null,
      { alias: `${name}@${alias}`, from: fromVersion, to: to?.version ?? null, reason },
      m,
    );
  }
}

/**
 * The alias row locked for this transaction (two concurrent moves of one alias are serialised and
 * both recorded), or null. Two first creations at once each record a move from nothing.
 */
function lockAlias(m: EntityManager, name: string, alias: string): Promise<ModelAlias | null> {
  return m
    .getRepository(ModelAlias)
    .findOne({ where: { name, alias }, lock: { mode: 'pessimistic_write' } });
}

async function versionOf(m: EntityManager, id: string): Promise<string | null> {
  return (await m.getRepository(ModelVersion).findOneBy({ id }))?.version ?? null;
}

function checkNames(model: string, alias?: string): void {
  const problem = checkModelName(model) ?? (alias === undefined ? null : checkAliasName(alias));
  if (problem) throw validationFailed(problem);
}

function view(row: ModelAlias): AliasView {
  // The foreign key keeps the model: a version an alias points at cannot be deleted.
  if (!row.model) throw new Error(`alias ${row.name}@${row.alias} has no model`);
  return {
    model: row.name,
    alias: row.alias,
    version: row.model.version,
    model_id: row.modelId,
    moved_by: row.movedBy,
    moved_at: row.movedAt,
  };
}
