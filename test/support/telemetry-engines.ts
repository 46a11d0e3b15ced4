// The telemetry stores every contract test runs against: InfluxDB (a real influxd), the embedded
// SQL table (PGlite, and PostgreSQL when TEST_POSTGRES_URL is set), and the hub's in-memory cache
// of recent points.
import { DataSource } from 'typeorm';
import { InfluxTelemetryStore } from '../../src/telemetry/influx-telemetry-store.js';
import { CachedTelemetryStore } from '../../src/telemetry/cached-telemetry-store.js';
import { SqlTelemetryStore } from '../../src/telemetry/sql-telemetry-store.js';
import type { AggregateQuery, TelemetryStore } from '../../src/telemetry/telemetry-store.js';
import { byVersion } from '../../src/telemetry/domain/aggregate.js';
import { skipWithoutInflux, startInflux, type InfluxServer } from './influx.js';
import { startHub, type InProcessHub } from './hub.js';
import { createTestDatabase, skipWithoutPostgres } from './postgres.js';

/** The store's device rows folded per version, as the rules read them. */
export async function aggregate(store: TelemetryStore, query: AggregateQuery) {
  return byVersion(await store.aggregateByDevice(query));
}

export interface OpenEngine {
  store: TelemetryStore;
  close(): Promise<void>;
  /** The InfluxDB server's, for writes and queries around the store. */
  url?: string;
  /** The hub's database, for queries around the embedded store. */
  dataSource?: DataSource;
}

export const ENGINES: {
  name: string;
  skip: string | false;
  open(): Promise<OpenEngine>;
}[] = [
  {
    name: 'InfluxDB',
    skip: skipWithoutInflux,
    async open() {
      const server: InfluxServer = await startInflux();
      const store = new InfluxTelemetryStore({
        url: server.url,
        database: 'sentinel_test',
        retentionDays: 7,
      });
      const close = async () => {
        await store.close();
        await server.stop();
      };
      return { store, close, url: server.url };
    },
  },
  {
    name: 'embedded (SQL table)',
    skip: false,
    async open() {
      const hub: InProcessHub = await startHub();
      const dataSource = hub.app.get(DataSource);
      return { store: new SqlTelemetryStore(dataSource, 7), close: () => hub.stop(), dataSource };
    },
  },
  {
    // The same table on a PostgreSQL server (DATABASE_URL) rather than the embedded PGlite.
    name: 'embedded (SQL table) on PostgreSQL',
    skip: skipWithoutPostgres,
    async open() {
      const db = await createTestDatabase();
      const hub: InProcessHub = await startHub({ DATABASE_URL: db.url });
      const dataSource = hub.app.get(DataSource);
      const close = async () => {
        await hub.stop();
        await db.drop();
      };
      return { store: new SqlTelemetryStore(dataSource, 7), close, dataSource };
    },
  },
  {
    // The hub's in-memory cache of recent points (what the rules read first), here covering every
    // window, over a store that must not be asked.
    name: 'recent-telemetry cache',
    skip: false,
    async open() {
      const hub: InProcessHub = await startHub();
      const sql = new SqlTelemetryStore(hub.app.get(DataSource), 7);
      sql.aggregateByDevice = () => Promise.reject(new Error('the cache should have answered'));
      const store = new CachedTelemetryStore(sql, { spanMs: Infinity, since: 0 });
      return { store, close: () => hub.stop() };
    },
  },
];
