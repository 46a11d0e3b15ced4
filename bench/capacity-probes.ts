// What bench/capacity.ts reads off the engines: the hub process (CPU time and RSS from /proc, heap
// and counters from GET /metrics), PostgreSQL's per-table row counters, Redis' INFO and keys, and
// InfluxDB's series count.
import { Redis } from 'ioredis';
import pg from 'pg';
import type { HubProcess } from '../test/support/hub.js';
import { startRedis as startRedisServer } from '../test/support/redis.js';
import { rssOf } from '../test/support/rss.js';
import { cpuMsOf, getText, sleep } from './ingest-procs.js';

export const KiB = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
export const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** The hub's counters and gauges of GET /metrics, by series (name plus labels). */
export async function hubMetrics(hub: HubProcess): Promise<Map<string, number>> {
  const { status, text } = await getText(`${hub.url}/metrics`, 30_000);
  if (status !== 200) throw new Error(`GET /metrics: HTTP ${status}`);
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

/** Sums every series of a metric (all label sets). */
export function total(metrics: Map<string, number>, name: string): number {
  let sum = 0;
  for (const [series, value] of metrics)
    if (series === name || series.startsWith(`${name}{`)) sum += value;
  return sum;
}

export interface Footprint {
  rss: number;
  heapUsed: number;
}

/**
 * The hub's RSS and V8 heap in use, each after a full garbage collection (SIGWINCH, with
 * bench/capacity-gc.ts loaded into the hub): the median of `samples` readings a second apart.
 */
export async function footprint(hub: HubProcess, samples = 3): Promise<Footprint> {
  const rss: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(1_000);
    hub.child.kill('SIGWINCH');
    await sleep(300);
    rss.push(rssOf(hub.child.pid!));
    heap.push(total(await hubMetrics(hub), 'sentinel_nodejs_heap_size_used_bytes'));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { rss: median(rss), heapUsed: median(heap) };
}

/** The hub's CPU time (user + system, ms) since the last `take`, and the wall time it took. */
export class HubCpu {
  private cpu: number;
  private at = performance.now();
  constructor(private readonly pid: number) {
    this.cpu = cpuMsOf(pid);
  }
  take(): { cpuMs: number; wallMs: number } {
    const cpu = cpuMsOf(this.pid);
    const at = performance.now();
    const taken = { cpuMs: cpu - this.cpu, wallMs: at - this.at };
    this.cpu = cpu;
    this.at = at;
    return taken;
  }
}

/** Waits until `done` says yes (polled every 100 ms), or `timeoutMs`; false on the timeout. */
export async function until(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await done()) return true;
    await sleep(100);
  }
  return false;
}

// --- PostgreSQL ---------------------------------------------------------------------------------

export interface TableCounts {
  /** Rows inserted, updated (HOT or not) and deleted, per table of the database. */
  tables: Map<string, { ins: number; upd: number; del: number; live: number }>;
  /** Transactions committed in the database. */
  commits: number;
}

/**
 * The cumulative statistics of the database the client is connected to. PostgreSQL 15 flushes a
 * backend's counters when it goes idle, at most once a second and at the latest 10 s later: read
 * them after `settle` (12 s) without writes.
 */
export async function tableCounts(client: pg.Client): Promise<TableCounts> {
  const rows = (
    await client.query<{ relname: string; ins: string; upd: string; del: string; live: string }>(
      `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del, n_live_tup AS live
         FROM pg_stat_user_tables`,
    )
  ).rows;
  const commits = (
    await client.query<{ xact_commit: string }>(
      'SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()',
    )
  ).rows[0].xact_commit;
  return {
    tables: new Map(
      rows.map((r) => [
        r.relname,
        { ins: Number(r.ins), upd: Number(r.upd), del: Number(r.del), live: Number(r.live) },
      ]),
    ),
    commits: Number(commits),
  };
}

/** Per table, what was written between two readings (tables with no writes left out). */
export function tableDelta(before: TableCounts, after: TableCounts) {
  const rows: { table: string; ins: number; upd: number; del: number }[] = [];
  for (const [table, a] of after.tables) {
    const b = before.tables.get(table) ?? { ins: 0, upd: 0, del: 0, live: 0 };
    const d = { table, ins: a.ins - b.ins, upd: a.upd - b.upd, del: a.del - b.del };
    if (d.ins + d.upd + d.del > 0) rows.push(d);
  }
  return {
    rows: rows.sort((x, y) => x.table.localeCompare(y.table)),
    commits: after.commits - before.commits,
  };
}

// --- Redis --------------------------------------------------------------------------------------

/** A private redis-server (test/support/redis.ts) with a client on it: INFO then counts only us. */
export async function startRedis(): Promise<{ url: string; client: Redis; stop(): Promise<void> }> {
  const server = await startRedisServer();
  const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  return {
    url: server.url,
    client,
    async stop() {
      client.disconnect();
      await server.stop();
    },
  };
}

/** One field of INFO (all sections). */
export async function redisInfo(client: Redis, field: string): Promise<number> {
  const info = await client.info('everything');
  const line = info.split('\r\n').find((l) => l.startsWith(`${field}:`));
  return line ? Number(line.slice(field.length + 1)) : NaN;
}

/** Keys by their first two `:`-separated parts (aedes-persistence-redis' key kinds), with bytes. */
export async function redisKeys(client: Redis) {
  const kinds = new Map<string, { keys: number; bytes: number; type: string }>();
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      // e.g. `will:<broker id>:<client id>` -> `will:<id>`
      const kind = key
        .split(':')
        .slice(0, 2)
        .map((part, i) => (i > 0 && part.length > 20 ? '<id>' : part))
        .join(':');
      const entry = kinds.get(kind) ?? { keys: 0, bytes: 0, type: await client.type(key) };
      entry.keys++;
      entry.bytes += Number((await client.memory('USAGE', key)) ?? 0);
      kinds.set(kind, entry);
    }
  } while (cursor !== '0');
  return kinds;
}

// --- InfluxDB -----------------------------------------------------------------------------------

/** InfluxDB 1.x: the exact number of series in a database. */
export async function influxSeries(url: string, database: string): Promise<number> {
  const q = encodeURIComponent('SHOW SERIES EXACT CARDINALITY');
  const response = await fetch(`${url}/query?db=${database}&q=${q}`);
  const body = (await response.json()) as {
    results: { series?: { values: [string, number][] | [number][] }[] }[];
  };
  let count = 0;
  for (const s of body.results[0]?.series ?? [])
    for (const row of s.values) count += Number(row[row.length - 1]);
  return count;
}
