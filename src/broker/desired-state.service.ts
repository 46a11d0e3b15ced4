import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  DEFAULT_MODEL_NAME,
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
import { NamedDesiredStore, type NamedKey } from './named-desired-store.js';

/** What a caller decides; the service adds seq and issued_at. */
export type DesiredIntent = Omit<DesiredState, 'seq' | 'issued_at'>;

/**
 * A group or a device, and which of its named models (docs/protocol.md 6.6): `serveAs` absent or
 * `default` is the unnamed desired state (device_groups.desired, devices.desired); any other name
 * has its own (named_desired_states) and its own retained topic.
 */
export type Target =
  | { kind: 'group'; name: string; serveAs?: string }
  | { kind: 'device'; id: string; serveAs?: string };

/** The named model a target is about (`default` when none is said). */
export function serveAsOf(target: Target): string {
  return target.serveAs ?? DEFAULT_MODEL_NAME;
}

/** The named-table key of a target, or null for `default` (the groups' and devices' own columns). */
function namedKey(target: Target): NamedKey | null {
  const name = serveAsOf(target);
  if (name === DEFAULT_MODEL_NAME) return null;
  return { kind: target.kind, id: target.kind === 'group' ? target.name : target.id, name };
}

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
 * the source of truth: every start re-publishes them all (DesiredStateUpkeep), so a broker that
 * lost its retained store (restart, new cluster) is back in step within a moment.
 */
@Injectable()
export class DesiredStateService {
  private readonly logger = new Logger('DesiredState');
  private warnedAboutPublicUrl = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly broker: BrokerService,
    private readonly registry: RegistryService,
    private readonly audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
    private readonly named: NamedDesiredStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

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
    const named = namedKey(target);
    await this.holdModels(manager, intent);
    const seq = named ? await this.named.bump(manager, named) : await this.bump(manager, target);
    if (seq === null) throw notFound(target.kind, id);
    const desired: DesiredState = { ...intent, seq, issued_at: new Date().toISOString() };
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
    if (named) await this.named.write(manager, named, payload);
    else await manager.query(`UPDATE ${table} SET desired = $2 WHERE ${key} = $1`, [id, payload]);
    await this.audit.record(
      actor,
      `${target.kind}.desired`,
      target.kind,
      id,
      { desired, ...(named ? { serve_as: named.name } : {}) },
      manager,
    );
    return { topic: this.topicOf(target), state: desired };
  }

  /** The next seq of a group's or device's `default` desired state; null: no such group or device. */
  private async bump(manager: EntityManager, target: Target): Promise<number | null> {
    const { table, key } = TABLE[target.kind];
    // Wrapped in a SELECT: TypeORM hands back [rows, count] for a bare UPDATE ... RETURNING.
    const rows: { desired_seq: number }[] = await manager.query(
      `WITH bumped AS (UPDATE ${table} SET desired_seq = desired_seq + 1 WHERE ${key} = $1 RETURNING desired_seq)
       SELECT desired_seq FROM bumped`,
      [target.kind === 'group' ? target.name : target.id],
    );
    return rows.length === 0 ? null : Number(rows[0].desired_seq);
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
  async clearDevice(
    deviceId: string,
    actor: string,
    serveAs: string = DEFAULT_MODEL_NAME,
  ): Promise<void> {
    const target: Target = { kind: 'device', id: deviceId, serveAs };
    const named = namedKey(target);
    if (named) {
      if ((await this.named.read(this.dataSource, named)) === undefined)
        throw notFound('device', deviceId);
      await this.named.clear(this.dataSource, named);
      await this.audit.record(actor, 'device.desired_cleared', 'device', deviceId, {
        serve_as: serveAs,
      });
      await this.broker.mqtt.publish(this.topicOf(target), '', { qos: 1, retain: true });
      return;
    }
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
    serveAs: string = DEFAULT_MODEL_NAME,
  ): Promise<StagedDesired | null> {
    const target: Target = { kind: 'device', id: deviceId, serveAs };
    const named = namedKey(target);
    if (named) {
      if (!(await this.named.clear(manager, named))) return null;
      await this.audit.record(
        actor,
        'device.desired_cleared',
        'device',
        deviceId,
        { serve_as: serveAs },
        manager,
      );
      return { topic: this.topicOf(target), state: null };
    }
    const rows: unknown[] = await manager.query(
      'WITH cleared AS (UPDATE devices SET desired = NULL WHERE id = $1 AND desired IS NOT NULL RETURNING id) SELECT id FROM cleared',
      [deviceId],
    );
    if (rows.length === 0) return null;
    await this.audit.record(actor, 'device.desired_cleared', 'device', deviceId, {}, manager);
    return { topic: deviceDesiredTopic(deviceId), state: null };
  }

  /** A target's desired state now (`db`: the caller's transaction, if any). */
  async current(
    target: Target,
    db: EntityManager | DataSource = this.dataSource,
  ): Promise<DesiredState | null> {
    const named = namedKey(target);
    if (named) {
      const row = await this.named.read(db, named);
      if (!row) throw notFound(target.kind, named.id);
      return row.desired;
    }
    const { table, key } = TABLE[target.kind];
    const rows: { desired: DesiredState | null }[] = await db.query(
      `SELECT desired FROM ${table} WHERE ${key} = $1`,
      [target.kind === 'group' ? target.name : target.id],
    );
    if (rows.length === 0)
      throw notFound(target.kind, target.kind === 'group' ? target.name : target.id);
    return rows[0].desired;
  }

  /**
   * The desired states of one named model of these groups (by name; a group without one: null), and
   * with `devices` the devices' own of that name with their seq, in the caller's transaction.
   */
  async groupStates(
    m: EntityManager,
    groups: readonly string[],
    serveAs: string,
  ): Promise<Map<string, DesiredState | null>> {
    const states = new Map<string, DesiredState | null>();
    for (const name of groups)
      states.set(name, await this.current({ kind: 'group', name, serveAs }, m));
    return states;
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

  /** The retained topic of a target's desired state (per named model). */
  topicOf(target: Target): string {
    const name = serveAsOf(target);
    return target.kind === 'group'
      ? groupDesiredTopic(target.name, name)
      : deviceDesiredTopic(target.id, name);
  }
}
