import { Inject, Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ClusterBus } from '../cluster/cluster-bus.js';
import type { DeviceAuthenticator, DevicePrincipal } from '../auth/device-authenticator.js';
import { secretMatches } from './domain/device-secret.js';
import { FLEET_ID_RE } from './domain/fleet-rules.js';
import { KeyBatcher } from './key-batcher.js';
import { TtlCache } from './ttl-cache.js';

/**
 * Who a device is once its secret matched: the broker's `Principal` for devices, and the HTTP
 * request's principal on the routes devices may call. Defined by auth's port.
 */
export type { DevicePrincipal } from '../auth/device-authenticator.js';

export interface DeviceCredentialsOptions {
  /** How long a device's stored hash and group are reused without asking the database. */
  cacheTtlMs: number;
  cacheMaxEntries: number;
  /** Most device ids in one look-up query. */
  maxBatch: number;
  /** Look-up queries running at once (each takes a pooled connection). */
  maxInFlight: number;
  /** Under a storm, how long look-ups wait to share a query (KeyBatcher's gatherMs). */
  gatherMs: number;
}

export const DEVICE_CREDENTIALS_OPTIONS = Symbol('DEVICE_CREDENTIALS_OPTIONS');

export const DEFAULT_DEVICE_CREDENTIALS_OPTIONS: DeviceCredentialsOptions = {
  cacheTtlMs: 30_000,
  cacheMaxEntries: 100_000,
  maxBatch: 1_000,
  maxInFlight: 2,
  // A storm's CONNECTs came one or two per query (bench:fanout's hub spent a fifth of the storm in
  // PGlite on them): a look-up less than 20 ms after the last query waits up to 20 ms for others.
  gatherMs: 20,
};

interface StoredCredential {
  credentialHash: string;
  group: string | null;
}

/**
 * Checks device secrets at MQTT CONNECT, and on the HTTP routes devices may call (as auth's
 * DEVICE_AUTHENTICATOR: artifact downloads, GET /devices/me). A broker restart makes every device
 * reconnect within seconds; rather than one query per CONNECT, look-ups made close together share
 * one `WHERE id = ANY($1)` query (under a storm they wait up to gatherMs for others), and found devices are remembered for a short time. Changes that
 * must take effect at once (rotation, deletion, move, group deletion) call revoke(): through the
 * ClusterBus every hub of a cluster forgets the devices at once (and its broker ends their
 * sessions); a hub that missed the event (Redis cut off) still re-reads them after cacheTtlMs.
 */
@Injectable()
export class DeviceCredentials implements DeviceAuthenticator {
  private readonly cache: TtlCache<string, StoredCredential>;
  private readonly batcher: KeyBatcher<string, StoredCredential>;
  /** Bumped by invalidate(): a look-up that started before must not put what it read in the cache. */
  private generation = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly cluster: ClusterBus,
    @Optional()
    @Inject(DEVICE_CREDENTIALS_OPTIONS)
    options: DeviceCredentialsOptions | null,
  ) {
    const settings = options ?? DEFAULT_DEVICE_CREDENTIALS_OPTIONS;
    this.cache = new TtlCache(settings.cacheTtlMs, settings.cacheMaxEntries);
    this.batcher = new KeyBatcher((ids) => this.loadMany(ids), {
      maxBatch: settings.maxBatch,
      maxInFlight: settings.maxInFlight,
      gatherMs: settings.gatherMs,
    });
    cluster.on('devices.revoked', ({ deviceIds }) => {
      for (const deviceId of deviceIds) this.invalidate(deviceId);
    });
  }

  /**
   * After a committed change that must end the devices' sessions: every hub (this one at once,
   * the others through the ClusterBus) forgets them and disconnects them.
   */
  revoke(deviceIds: string[], reason: string): void {
    this.cluster.publish('devices.revoked', { deviceIds, reason });
  }

  /** Resolves the device's principal when the secret matches, else null. */
  async verify(deviceId: string, secret: string): Promise<DevicePrincipal | null> {
    if (secret.length === 0) return null;
    const stored = await this.stored(deviceId);
    if (!stored || !secretMatches(secret, stored.credentialHash)) return null;
    return { kind: 'device', deviceId, group: stored.group };
  }

  /**
   * The principal of a registered device, with no secret: for a client certificate (signed by the
   * hub's client CA) that names it. Null for an unknown device.
   */
  async identify(deviceId: string): Promise<DevicePrincipal | null> {
    const stored = await this.stored(deviceId);
    return stored ? { kind: 'device', deviceId, group: stored.group } : null;
  }

  private async stored(deviceId: string): Promise<StoredCredential | null> {
    if (!FLEET_ID_RE.test(deviceId)) return null;
    const cached = this.cache.get(deviceId);
    if (cached) return cached;
    const generation = this.generation;
    const stored = await this.batcher.load(deviceId);
    if (!stored) return null;
    if (generation === this.generation) this.cache.set(deviceId, stored);
    return stored;
  }

  /** Drops what is remembered about one device, so its next CONNECT reads the database. */
  invalidate(deviceId: string): void {
    this.generation += 1;
    this.cache.delete(deviceId);
  }

  private async loadMany(ids: string[]): Promise<Map<string, StoredCredential>> {
    const rows: { id: string; credential_hash: string; group_name: string | null }[] =
      await this.dataSource.query(
        `SELECT d.id, d.credential_hash, g.name AS group_name
           FROM devices d LEFT JOIN device_groups g ON g.id = d.group_id
          WHERE d.id = ANY($1::text[])`,
        [ids],
      );
    return new Map(
      rows.map((row) => [row.id, { credentialHash: row.credential_hash, group: row.group_name }]),
    );
  }
}
