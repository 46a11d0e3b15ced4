import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  deviceDesiredTopic,
  groupDesiredTopic,
  MAX_PAYLOAD_BYTES,
  type DesiredState,
  type ModelRef,
} from '@sentinel/broker';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { actorOf, type Principal } from '../auth/auth.decorators.js';
import { DomainError, notFound } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { checkDeployable } from '../registry/domain/model-format.js';
import type { ModelVersion } from '../registry/model-version.entity.js';
import { RegistryService } from '../registry/registry.service.js';
import { BrokerService } from './broker.service.js';

/** What a caller decides; the service adds seq and issued_at. */
export type DesiredIntent = Omit<DesiredState, 'seq' | 'issued_at'>;

export type Target = { kind: 'group'; name: string } | { kind: 'device'; id: string };

export interface StagedDesired {
  topic: string;
  /** null: remove the retained override (an empty payload), see stageClear. */
  state: DesiredState | null;
}

export type StoredDesired = StagedDesired & { state: DesiredState };

const TABLE = {
  group: { table: 'device_groups', key: 'name' },
  device: { table: 'devices', key: 'id' },
} as const;

/**
 * Desired states live in the database and are mirrored as retained MQTT messages. The database is
 * the source of truth: every start re-publishes them all, so a broker that lost its retained store
 * (restart, new cluster) is back in step within a moment.
 */
@Injectable()
export class DesiredStateService implements OnApplicationBootstrap {
  private readonly logger = new Logger('DesiredState');
  private warnedAboutPublicUrl = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly broker: BrokerService,
    private readonly registry: RegistryService,
    private readonly audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    registry.addUsageCheck((manager, modelId) => this.pinnedUse(manager, modelId));
  }

  async onApplicationBootstrap(): Promise<void> {
    const started = Date.now();
    const count = await this.republishAll();
    this.logger.log(
      `re-published ${count} retained desired state(s) in ${Date.now() - started} ms`,
    );
  }

  /** Stores the next desired state of a group or device (seq + 1) and publishes it retained, QoS 1. */
  async publish(target: Target, intent: DesiredIntent, actor: string): Promise<DesiredState> {
    const staged = await this.dataSource.transaction((manager) =>
      this.store(target, intent, actor, manager),
    );
    await this.send([staged]);
    return staged.state;
  }

  /**
   * Stores the next desired state inside the caller's transaction; `send` it after the commit.
   * A hub that stops in between re-publishes it at its next start (the database is the truth).
   */
  async store(
    target: Target,
    intent: DesiredIntent,
    actor: string,
    manager: EntityManager,
  ): Promise<StoredDesired> {
    const { table, key } = TABLE[target.kind];
    const id = target.kind === 'group' ? target.name : target.id;
    await this.holdModels(manager, intent);
    // Wrapped in a SELECT: TypeORM hands back [rows, count] for a bare UPDATE ... RETURNING.
    const rows: { desired_seq: number }[] = await manager.query(
      `WITH bumped AS (UPDATE ${table} SET desired_seq = desired_seq + 1 WHERE ${key} = $1 RETURNING desired_seq)
       SELECT desired_seq FROM bumped`,
      [id],
    );
    if (rows.length === 0) throw notFound(target.kind, id);
    const desired: DesiredState = {
      ...intent,
      seq: Number(rows[0].desired_seq),
      issued_at: new Date().toISOString(),
    };
    const payload = JSON.stringify(desired);
    // Refused here, inside the caller's transaction, rather than stored and then refused by the broker
    // (which would leave a deployment half-made and a state the hub cannot re-publish at its start).
    const size = Buffer.byteLength(payload);
    if (size > MAX_PAYLOAD_BYTES) {
      throw new DomainError(
        'PAYLOAD_TOO_LARGE',
        `the desired state of ${target.kind} ${id} would be ${size} bytes, over the ${MAX_PAYLOAD_BYTES}-byte MQTT message limit: ` +
          'shorten the metadata or signature bundle of its model or fallback',
      );
    }
    await manager.query(`UPDATE ${table} SET desired = $2 WHERE ${key} = $1`, [id, payload]);
    await this.audit.record(actor, `${target.kind}.desired`, target.kind, id, { desired }, manager);
    return { topic: this.topicOf(target), state: desired };
  }

  /**
   * The models a desired state names stay in the registry until this transaction ends (a delete locks
   * the version's row FOR UPDATE, then asks whether anything still names it), and must exist now.
   */
  private async holdModels(manager: EntityManager, intent: DesiredIntent): Promise<void> {
    const ids = [...new Set([intent.model?.id, intent.previous?.id].filter((x) => x != null))];
    if (ids.length === 0) return;
    const rows: { id: string }[] = await manager.query(
      'SELECT id FROM model_versions WHERE id::text = ANY($1) FOR SHARE',
      [ids],
    );
    const missing = ids.filter((id) => !rows.some((row) => row.id === id));
    if (missing.length > 0)
      throw new DomainError(
        'CONFLICT',
        `model ${missing.join(', ')} no longer exists in the registry`,
      );
  }

  /** Publishes stored desired states (and cleared overrides), retained, QoS 1, in order. */
  async send(staged: readonly StagedDesired[]): Promise<void> {
    await Promise.all(
      staged.map(({ topic, state }) =>
        this.broker.mqtt.publish(topic, state === null ? '' : JSON.stringify(state), {
          qos: 1,
          retain: true,
        }),
      ),
    );
  }

  /** Removes a device's override: an empty retained message clears it on the broker ([MQTT-3.3.1-10]). */
  async clearDevice(deviceId: string, actor: string): Promise<void> {
    const rows: unknown[] = await this.dataSource.query(
      'WITH cleared AS (UPDATE devices SET desired = NULL WHERE id = $1 RETURNING id) SELECT id FROM cleared',
      [deviceId],
    );
    if (rows.length === 0) throw notFound('device', deviceId);
    await this.audit.record(actor, 'device.desired_cleared', 'device', deviceId);
    await this.broker.mqtt.publish(deviceDesiredTopic(deviceId), '', { qos: 1, retain: true });
  }

  /**
   * Removes a device's override inside the caller's transaction; `send` it after the commit.
   * Null when the device had none.
   */
  async stageClear(
    deviceId: string,
    actor: string,
    manager: EntityManager,
  ): Promise<StagedDesired | null> {
    const rows: unknown[] = await manager.query(
      'WITH cleared AS (UPDATE devices SET desired = NULL WHERE id = $1 AND desired IS NOT NULL RETURNING id) SELECT id FROM cleared',
      [deviceId],
    );
    if (rows.length === 0) return null;
    await this.audit.record(actor, 'device.desired_cleared', 'device', deviceId, {}, manager);
    return { topic: deviceDesiredTopic(deviceId), state: null };
  }

  async current(target: Target): Promise<DesiredState | null> {
    const { table, key } = TABLE[target.kind];
    const rows: { desired: DesiredState | null }[] = await this.dataSource.query(
      `SELECT desired FROM ${table} WHERE ${key} = $1`,
      [target.kind === 'group' ? target.name : target.id],
    );
    if (rows.length === 0)
      throw notFound(target.kind, target.kind === 'group' ? target.name : target.id);
    return rows[0].desired;
  }

  /** Pins a model version on a group or device, keeping what it ran before as `previous`. */
  async pin(target: Target, modelId: string, principal: Principal): Promise<DesiredState> {
    const model = await this.registry.get(modelId);
    const notRunnable = checkDeployable(model);
    if (notRunnable) throw new DomainError('NOT_DEPLOYABLE', notRunnable);
    const before = await this.current(target);
    const previous =
      before?.model && before.model.id !== model.id ? before.model : (before?.previous ?? null);
    return this.publish(
      target,
      {
        deployment_id: null,
        strategy: 'pinned',
        model: this.modelRef(model),
        previous,
        activate: 'new',
        cohort: null,
      },
      actorOf(principal),
    );
  }

  modelRef(model: ModelVersion): ModelRef {
    const base = this.config.PUBLIC_URL ?? this.localBaseUrl();
    return {
      id: model.id,
      name: model.name,
      version: model.version,
      sha256: model.sha256,
      size: model.size,
      url: `${base.replace(/\/$/, '')}/api/v1/models/${model.id}/artifact`,
      signature: model.signatureBundle,
      metadata: model.metadata,
    };
  }

  /** Without PUBLIC_URL, devices on this machine (tests, a demo) can still download; others cannot. */
  private localBaseUrl(): string {
    const address = this.adapterHost.httpAdapter.getHttpServer().address() as {
      port: number;
    } | null;
    if (!this.warnedAboutPublicUrl) {
      this.logger.warn(
        "PUBLIC_URL is not set: desired states point devices at this machine's loopback address",
      );
      this.warnedAboutPublicUrl = true;
    }
    const host = this.config.HOST === '0.0.0.0' ? '127.0.0.1' : this.config.HOST;
    const scheme = this.config.TLS_CERT_FILE ? 'https' : 'http';
    return `${scheme}://${host}:${address?.port ?? this.config.PORT}`;
  }

  private async republishAll(): Promise<number> {
    const groups: { name: string; desired: DesiredState }[] = await this.dataSource.query(
      'SELECT name, desired FROM device_groups WHERE desired IS NOT NULL',
    );
    const devices: { id: string; desired: DesiredState }[] = await this.dataSource.query(
      'SELECT id, desired FROM devices WHERE desired IS NOT NULL',
    );
    const messages = [
      ...groups.map((g) => ({ topic: groupDesiredTopic(g.name), desired: g.desired })),
      ...devices.map((d) => ({ topic: deviceDesiredTopic(d.id), desired: d.desired })),
    ];
    // One bad stored state (e.g. written by an older hub without the size check) must not keep the
    // hub from starting: it is skipped and named in the log, the others are published.
    const results = await Promise.allSettled(
      messages.map((m) =>
        this.broker.mqtt.publish(m.topic, JSON.stringify(m.desired), { qos: 1, retain: true }),
      ),
    );
    results.forEach((result, i) => {
      if (result.status === 'rejected')
        this.logger.error(
          `skipped re-publishing the desired state on ${messages[i].topic}: ${(result.reason as Error).message}; ` +
            'devices keep what they have until a new desired state is set there',
        );
    });
    return results.filter((r) => r.status === 'fulfilled').length;
  }

  /** A model a group or device is told to run, or keeps as its fallback, must not be deleted. */
  private async pinnedUse(manager: EntityManager, modelId: string): Promise<string | null> {
    for (const [kind, { table, key }] of Object.entries(TABLE)) {
      const rows: { key: string; role: string }[] = await manager.query(
        `SELECT ${key} AS key, CASE WHEN desired->'model'->>'id' = $1 THEN 'model' ELSE 'previous' END AS role
           FROM ${table} WHERE desired->'model'->>'id' = $1 OR desired->'previous'->>'id' = $1 LIMIT 1`,
        [modelId],
      );
      if (rows.length > 0)
        return rows[0].role === 'model'
          ? `is the desired model of ${kind} ${rows[0].key}`
          : `is kept as the fallback (previous) of ${kind} ${rows[0].key}`;
    }
    return null;
  }

  private topicOf(target: Target): string {
    return target.kind === 'group' ? groupDesiredTopic(target.name) : deviceDesiredTopic(target.id);
  }
}
