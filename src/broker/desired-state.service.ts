import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  deviceDesiredTopic,
  groupDesiredTopic,
  type DesiredState,
  type ModelRef,
} from '@sentinel/broker';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { actorOf, type Principal } from '../auth/auth.decorators.js';
import { notFound } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import type { ModelVersion } from '../registry/model-version.entity.js';
import { RegistryService } from '../registry/registry.service.js';
import { BrokerService } from './broker.service.js';

/** What a caller decides; the service adds seq and issued_at. */
export type DesiredIntent = Omit<DesiredState, 'seq' | 'issued_at'>;

export type Target = { kind: 'group'; name: string } | { kind: 'device'; id: string };

export interface StagedDesired {
  topic: string;
  state: DesiredState;
}

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
  ) {}

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
  ): Promise<StagedDesired> {
    const { table, key } = TABLE[target.kind];
    const id = target.kind === 'group' ? target.name : target.id;
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
    await manager.query(`UPDATE ${table} SET desired = $2 WHERE ${key} = $1`, [
      id,
      JSON.stringify(desired),
    ]);
    await this.audit.record(actor, `${target.kind}.desired`, target.kind, id, { desired }, manager);
    return { topic: this.topicOf(target), state: desired };
  }

  /** Publishes stored desired states, retained, QoS 1. */
  async send(staged: readonly StagedDesired[]): Promise<void> {
    await Promise.all(
      staged.map(({ topic, state }) =>
        this.broker.mqtt.publish(topic, JSON.stringify(state), { qos: 1, retain: true }),
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
    await Promise.all(
      messages.map((m) =>
        this.broker.mqtt.publish(m.topic, JSON.stringify(m.desired), { qos: 1, retain: true }),
      ),
    );
    return messages.length;
  }

  private topicOf(target: Target): string {
    return target.kind === 'group' ? groupDesiredTopic(target.name) : deviceDesiredTopic(target.id);
  }
}
