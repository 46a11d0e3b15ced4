import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { deviceDesiredTopic, groupDesiredTopic, type DesiredState } from '@sentinel/broker';
import { DataSource, type EntityManager } from 'typeorm';
import { FleetDeleteHooks } from '../fleet/delete-hooks.js';
import { RegistryService } from '../registry/registry.service.js';
import { BrokerService } from './broker.service.js';
import { NamedDesiredStore } from './named-desired-store.js';

/**
 * Keeps the stored desired states (DesiredStateService's) and the rest of the hub in step: every
 * start re-publishes them all as retained messages (the database is the truth), a model a desired
 * state names stays in the registry, and a deleted group or device names its named models'
 * retained topics for the broker to clear (their rows go by ON DELETE CASCADE).
 */
@Injectable()
export class DesiredStateUpkeep implements OnApplicationBootstrap {
  private readonly logger = new Logger('DesiredState');

  constructor(
    private readonly dataSource: DataSource,
    private readonly broker: BrokerService,
    private readonly named: NamedDesiredStore,
    registry: RegistryService,
    deleteHooks: FleetDeleteHooks,
  ) {
    registry.addUsageCheck((manager, modelId) => this.pinnedUse(manager, modelId));
    deleteHooks.add(async (manager, kind, id) =>
      (await this.named.names(manager, kind, id)).map((name) =>
        kind === 'group' ? groupDesiredTopic(id, name) : deviceDesiredTopic(id, name),
      ),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    const started = Date.now();
    const count = await this.republishAll();
    this.logger.log(
      `re-published ${count} retained desired state(s) in ${Date.now() - started} ms`,
    );
  }

  /** Every stored desired state, the named models' too, published retained again. */
  private async republishAll(): Promise<number> {
    const groups: { name: string; desired: DesiredState }[] = await this.dataSource.query(
      'SELECT name, desired FROM device_groups WHERE desired IS NOT NULL',
    );
    const devices: { id: string; desired: DesiredState }[] = await this.dataSource.query(
      'SELECT id, desired FROM devices WHERE desired IS NOT NULL',
    );
    const named = await this.named.all(this.dataSource);
    const messages = [
      ...groups.map((g) => ({ topic: groupDesiredTopic(g.name), desired: g.desired })),
      ...devices.map((d) => ({ topic: deviceDesiredTopic(d.id), desired: d.desired })),
      ...named.map((n) => ({
        topic:
          n.kind === 'group' ? groupDesiredTopic(n.id, n.name) : deviceDesiredTopic(n.id, n.name),
        desired: n.desired,
      })),
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
    const owners = [
      { kind: 'group', table: 'device_groups', key: 'name' },
      { kind: 'device', table: 'devices', key: 'id' },
    ];
    for (const { kind, table, key } of owners) {
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
    const named = await this.named.use(manager, modelId);
    if (!named) return null;
    return named.role === 'model'
      ? `is the desired model ${named.name} of ${named.kind} ${named.key}`
      : `is kept as the fallback (previous) of model ${named.name} of ${named.kind} ${named.key}`;
  }
}
