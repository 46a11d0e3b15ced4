import { Injectable } from '@nestjs/common';
import { DataSource, LessThanOrEqual } from 'typeorm';
import type { VersionAggregate } from '../telemetry/telemetry-store.js';
import { HealthEvaluation, StepBaseline } from './health.entity.js';
import type { StoredHealth } from './stored-health.js';

/** The rules module's tables: every evaluation, and the baselines taken before steps. */
@Injectable()
export class HealthRepository {
  constructor(private readonly dataSource: DataSource) {}

  async save(deploymentId: string, health: StoredHealth): Promise<string> {
    const result = await this.dataSource.getRepository(HealthEvaluation).insert({
      deploymentId,
      evaluatedAt: new Date(health.evaluated_at),
      stepIndex: health.step_index,
      stage: health.stage,
      verdict: health.verdict,
      action: health.action,
      report: health as never,
    });
    return String(result.identifiers[0]?.id);
  }

  /** The latest evaluation, or the latest up to `until` (a finished deployment's deciding one). */
  async latest(deploymentId: string, until: Date | null): Promise<StoredHealth | null> {
    const row = await this.dataSource.getRepository(HealthEvaluation).findOne({
      where: until ? { deploymentId, evaluatedAt: LessThanOrEqual(until) } : { deploymentId },
      order: { id: 'DESC' },
    });
    return row ? withId(row) : null;
  }

  async history(
    deploymentId: string,
    limit: number,
    offset: number,
  ): Promise<{ items: StoredHealth[]; total: number }> {
    const [rows, total] = await this.dataSource.getRepository(HealthEvaluation).findAndCount({
      where: { deploymentId },
      order: { id: 'DESC' },
      take: limit,
      skip: offset,
    });
    return { items: rows.map(withId), total };
  }

  async baseline(
    deploymentId: string,
    stepIndex: number,
  ): Promise<{ figures: VersionAggregate | null; from: Date; to: Date } | null> {
    const row = await this.dataSource
      .getRepository(StepBaseline)
      .findOne({ where: { deploymentId, stepIndex } });
    if (!row) return null;
    return {
      figures: row.figures as unknown as VersionAggregate | null,
      from: row.windowFrom,
      to: row.windowTo,
    };
  }

  /** Keeps the first baseline of a step (two hubs taking it at once keep one). */
  async saveBaseline(
    deploymentId: string,
    stepIndex: number,
    from: Date,
    to: Date,
    figures: VersionAggregate | null,
  ): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(StepBaseline)
      .values({
        deploymentId,
        stepIndex,
        windowFrom: from,
        windowTo: to,
        figures: figures as unknown as Record<string, unknown> | null,
      } as never)
      .orIgnore()
      .execute();
  }
}

function withId(row: HealthEvaluation): StoredHealth {
  return { ...(row.report as unknown as StoredHealth), id: String(row.id) };
}
