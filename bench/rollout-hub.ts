// The hub's side of bench/rollout.ts and bench/rollback.ts, which run the hub in their own process:
// the MQTT observer (a child process or inline), the set-up (devices, model versions), waits on a
// deployment's status, open-file limits and a peak-RSS sampler.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { Principal } from '../src/auth/auth.decorators.js';
import { FleetService } from '../src/fleet/fleet.service.js';
import { getDeployment, type DeploymentDetail } from '../test/support/deployments.js';
import type { InProcessHub } from '../test/support/hub.js';
import { json, pushModel } from '../test/support/push.js';
import { rssOf } from '../test/support/rss.js';
import {
  ChildLink,
  type FleetReply,
  type FleetRequest,
  type Milestone,
  type MilestoneResult,
  type ObserverReply,
  type ObserverRequest,
  type ObserverStats,
  type Watch,
} from './rollout-ipc.js';
import { StateObserver } from './rollout-observer.js';

const OBSERVER_JS = fileURLToPath(new URL('./rollout-observer.js', import.meta.url));
const HUB_POLL_MS = 50;
const BENCH_PRINCIPAL: Principal = {
  kind: 'token',
  tokenId: 'bench-rollout',
  name: 'bench-rollout',
  role: 'admin',
};

export type FleetLink = ChildLink<FleetRequest, FleetReply>;

/** The observer, in its own process or in this one. */
export interface Observer {
  readonly where: string;
  readonly pid: number;
  arm(watch: Watch): Promise<void>;
  wait(milestone: Milestone, timeoutMs: number): Promise<MilestoneResult>;
  stats(): Promise<ObserverStats>;
  /** Starts (null) or stops and writes a CPU profile of the observer's own process. */
  profile(file: string | null): Promise<void>;
  close(): Promise<void>;
  kill(): void;
}

export async function childObserver(
  url: string,
  token: string,
  devices: string[],
  fileLimit: number,
): Promise<Observer> {
  const link = ChildLink.start<ObserverRequest, ObserverReply>('observer process', OBSERVER_JS, {
    fileLimit,
    heapMb: 2048,
  });
  await link.request({ type: 'connect', url, token, devices }, 'ready', 30_000);
  return {
    where: 'own process',
    pid: link.pid,
    arm: async (watch) => void (await link.request({ type: 'arm', watch }, 'armed', 10_000)),
    wait: async (milestone, timeoutMs) =>
      (await link.request({ type: 'wait', milestone, timeoutMs }, 'reached', timeoutMs + 10_000))
        .result,
    stats: async () => (await link.request({ type: 'stats' }, 'stats', 10_000)).stats,
    profile: async (file) =>
      void (await link.request({ type: 'profile', file }, 'profiled', 30_000)),
    close: () => link.close({ type: 'close' }, 'closed', 10_000),
    kill: () => link.kill(),
  };
}

export async function inlineObserver(
  url: string,
  token: string,
  devices: string[],
): Promise<Observer> {
  const observer = await StateObserver.connect(url, token, devices);
  return {
    where: "the hub's process",
    pid: process.pid,
    arm: async (watch) => observer.milestones.arm(watch),
    wait: (milestone, timeoutMs) => observer.milestones.wait(milestone, timeoutMs),
    // Its CPU is the hub's.
    stats: async () => ({
      rss: 0,
      cpuMs: NaN,
      elu: NaN,
      messages: observer.messages,
      phases: Object.fromEntries(observer.phases),
    }),
    profile: async () => undefined, // the hub's profile covers it
    close: () => observer.close(),
    kill: () => undefined,
  };
}

// --- the hub's side -----------------------------------------------------------------------------

/**
 * `count` devices sim-0..N in `group`, created in-process. `inFlight` creations at once: 1 on PGlite,
 * whose pglite-socket runs the pool's connections on one session, so concurrent transactions
 * interleave and fail ("portal does not exist"; electric-sql/pglite#1046).
 */
export async function createDevices(
  hub: InProcessHub,
  count: number,
  group: string,
  inFlight: number,
) {
  // In-process: the REST route does the same work plus HTTP, which only slows the set-up down.
  const fleet = hub.app.get(FleetService);
  const width = String(count - 1).length;
  const devices = new Array<{ id: string; password: string }>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const id = `sim-${String(index).padStart(width, '0')}`;
      const issued = await fleet.createDevice({ id, group }, BENCH_PRINCIPAL);
      devices[index] = { id, password: issued.secret };
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return devices;
}

export async function pushVersion(hub: InProcessHub, name: string, version: string, bytes: Buffer) {
  const response = await pushModel(hub, bytes, { name, version });
  if (response.status !== 201)
    throw new Error(`push ${version}: HTTP ${response.status} ${await response.text()}`);
  return json<{ id: string; sha256: string; size: number }>(response);
}

export async function waitForStatus(
  hub: InProcessHub,
  id: string,
  statuses: string[],
  timeoutMs: number,
): Promise<string> {
  const dataSource = hub.app.get(DataSource);
  const deadline = Date.now() + timeoutMs;
  let status = '?';
  while (Date.now() < deadline) {
    const rows: { status: string }[] = await dataSource.query(
      'SELECT status FROM deployments WHERE id = $1',
      [id],
    );
    status = rows[0]?.status ?? '?';
    if (statuses.includes(status)) return status;
    await new Promise((r) => setTimeout(r, HUB_POLL_MS));
  }
  throw new Error(
    `deployment ${id} is ${status}, not ${statuses.join('/')}, after ${timeoutMs} ms\n${await explain(hub, id)}`,
  );
}

/** What the hub knows of a deployment that does not finish: counts, last events, lagging devices. */
export async function explain(hub: InProcessHub, id: string): Promise<string> {
  const dataSource = hub.app.get(DataSource);
  const lines: string[] = [];
  try {
    const detail = await getDeployment(hub, id);
    const { targets, online, participating, phases } = detail.progress;
    lines.push(`  progress: ${JSON.stringify({ targets, online, participating, phases })}`);
    for (const event of detail.events.slice(-3))
      lines.push(`  event ${event.type}: ${String((event.figures as { why?: string }).why)}`);
    const lagging: {
      id: string;
      online: boolean;
      phase: string | null;
      updated_at: Date | null;
      reported: unknown;
    }[] = await dataSource.query(
      `SELECT d.id, d.online, dd.phase, dd.updated_at, d.reported->'deployment' AS reported
         FROM deployment_groups g JOIN devices d ON d.group_id = g.group_id
         LEFT JOIN deployment_devices dd ON dd.deployment_id = g.deployment_id AND dd.device_id = d.id
        WHERE g.deployment_id = $1 AND dd.phase IS DISTINCT FROM 'active'
        ORDER BY d.id LIMIT 5`,
      [id],
    );
    for (const row of lagging)
      lines.push(
        `  ${row.id}: online ${row.online}, progress row ${row.phase ?? 'none'} (${row.updated_at?.toISOString() ?? '-'}), last report ${JSON.stringify(row.reported)}`,
      );
  } catch (error) {
    lines.push(`  (could not read the deployment: ${(error as Error).message})`);
  }
  return lines.join('\n');
}

/** When the hub wrote its events of `types` for the deployment (PostgreSQL's transaction time). */
export function eventTimes(detail: DeploymentDetail): Map<string, number> {
  const times = new Map<string, number>();
  for (const event of detail.events as unknown as { type: string; at: string }[])
    if (!times.has(event.type)) times.set(event.type, Date.parse(event.at));
  return times;
}

// --- one deployment and one rollback -----------------------------------------------------------

export function openFileLimits(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').split(/\s+/).slice(3, 5);
  const parse = (value: string | undefined) => (value === 'unlimited' ? Infinity : Number(value));
  return { soft: parse(soft), hard: parse(hard) };
}

/** Peak RSS per process, sampled every 250 ms. */
export class RssSampler {
  readonly peaks = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pids: Map<string, number>) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
    this.timer.unref();
  }
  sample(): void {
    for (const [name, pid] of this.pids) {
      try {
        this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, rssOf(pid)));
      } catch {
        // gone
      }
    }
  }
  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

/** A database of its own on a PostgreSQL server, for one bench run. */
export interface Scratch {
  url: string;
  name: string;
  version: string;
  drop(): Promise<void>;
}

export async function scratchDatabase(server: string): Promise<Scratch> {
  const name = `sentinel_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  let version: string;
  try {
    version = ((await admin.query('SHOW server_version')).rows[0] as { server_version: string })
      .server_version;
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    version,
    async drop() {
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** What a bench leaves behind to clean up however it ends. */
export interface BenchCleanup {
  dirs: string[];
  children: { kill(): void }[];
  /** Engines and databases of the bench's own (awaited on a signal or timeout, then the exit). */
  release(): Promise<void>;
}

/**
 * Runs a bench's main to its end, whatever happens: children killed and folders removed at exit,
 * SIGINT/SIGTERM and `timeoutMs` release the engines and exit, a failure prints its stack, and the
 * process exits even if something (a hub that did not stop) would keep it alive.
 */
export async function runBench(
  name: string,
  cleanup: BenchCleanup,
  timeoutMs: number,
  main: () => Promise<void>,
): Promise<never> {
  const giveUp = (code: number, why: string) => {
    console.error(why);
    for (const child of cleanup.children) child.kill();
    void cleanup.release().finally(() => process.exit(code));
  };
  process.on('exit', () => {
    for (const child of cleanup.children) child.kill();
    for (const dir of cleanup.dirs) rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => giveUp(130, `${name} stopped by ${signal}`));
  setTimeout(
    () => giveUp(1, `${name} gave up after ${(timeoutMs / 60_000).toFixed(0)} min`),
    timeoutMs,
  ).unref();
  try {
    await main();
  } catch (error) {
    console.error(`${name} failed: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 1;
  }
  process.exit();
}
