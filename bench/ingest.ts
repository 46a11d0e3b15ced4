// Telemetry ingest: M devices (mqtt.js clients, one connection each, in child processes:
// bench/ingest-clients.ts) publish QoS 0 telemetry through the hub's embedded broker; the hub (a
// real process, so its CPU and RSS are its own) validates, tags and writes it to a real influxd.
// The offered rate goes up in steps; each step is judged over a steady window (after a warm-up)
// from the hub's own counters (GET /metrics). The sustained rate is the highest step the hub kept
// up with: the devices sent >= 95 % of what was due (no broker backpressure), the hub received
// >= 95 % of it, dropped nothing, and its write backlog did not grow (least-squares slope over the
// window under 2 % of the offered rate or one batch per window: the backlog saw-tooths with the
// 500 ms flush, so one reading says little). The ramp stops after the first step it did not keep up with, whose
// written/s is what the hub manages under overload. Then the same number of equivalent points
// (same tags and fields) goes to another database of the same influxd through a plain `influx`
// client loop (1 and 4 writers, batches of 5000): the raw reference of this run.
// Prints figures and ratios; asserts nothing. All on 127.0.0.1; everything started is stopped.
//   npm run bench:ingest [-- DEVICES] [--rates=R1,R2,...] [--clients=N] [--window=S] [--profile=DIR]
// --profile=DIR: a CPU profile of the hub over the load steps and the drain after them
// (DIR/hub-ingest.cpuprofile), with a summary of where its time went.
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseMessage } from '@sentinel/broker';
import { FieldType, InfluxDB, type IPoint } from 'influx';
import type { Principal } from '../src/auth/auth.decorators.js';
import { FleetService } from '../src/fleet/fleet.service.js';
import { createGroup } from '../test/support/fleet.js';
import { spawnHub, startHub, type HubProcess } from '../test/support/hub.js';
import { startInflux, type InfluxServer } from '../test/support/influx.js';
import { rssOf } from '../test/support/rss.js';
import {
  SAMPLE_MODEL,
  sampleValues,
  telemetryPayload,
  type ChildMessage,
  type ChildMessageType,
  type DeviceLogin,
  type ParentMessage,
  type PublishCounts,
} from './ingest-ipc.js';

const args = process.argv.slice(2);
const flag = (name: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? null;
const positional = args.filter((a) => !a.startsWith('--'));
const deviceCount = Number(positional[0] ?? 1000);
const rates = (flag('rates') ?? '10000,20000,25000,30000,35000,40000,50000,60000')
  .split(',')
  .map(Number);
const clientProcesses = Number(flag('clients') ?? 2);
const windowS = Number(flag('window') ?? 8);
const profileDir = flag('profile');

if (
  !Number.isInteger(deviceCount) ||
  deviceCount < 1 ||
  rates.some((r) => !Number.isFinite(r) || r <= 0) ||
  !Number.isInteger(clientProcesses) ||
  clientProcesses < 1 ||
  clientProcesses > deviceCount ||
  !(windowS >= 1) ||
  args.some((a) => a.startsWith('--') && !/^--(rates|clients|window|profile)=/.test(a))
) {
  console.error(
    'usage: node dist/bench/ingest.js [DEVICES] [--rates=R1,R2,...] [--clients=N] [--window=SECONDS] [--profile=DIR]',
  );
  process.exit(2);
}

const GROUP = 'bench-ingest';
const ENVIRONMENT = 'production';
const HUB_DB = 'bench_hub';
const WARMUP_MS = 2_000;
const SAMPLE_MS = 250;
/** Backlog growth, as a share of the offered rate, above which the hub is not keeping up. */
const MAX_GROWTH = 0.02;
/** The hub's flush interval and batch size (src/telemetry/telemetry.service.ts). */
const HUB_FLUSH_S = 0.5;
const HUB_BATCH = 5000;
const RAW_BATCH = 5000;
const RAW_MIN_POINTS = 100_000;
const RAW_MAX_POINTS = 600_000;
const CONNECTS_IN_FLIGHT = 100;
const CLIENT_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 30_000;
const TOTAL_TIMEOUT_MS = 4 * 60_000;
const CLIENTS_JS = fileURLToPath(new URL('./ingest-clients.js', import.meta.url));
const PROFILER_JS = fileURLToPath(new URL('./ingest-profiler.js', import.meta.url));
const BENCH_PRINCIPAL: Principal = {
  kind: 'token',
  tokenId: 'bench-ingest',
  name: 'bench-ingest',
  role: 'admin',
};
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const perS = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (n: number) => `${n.toFixed(0)} %`;
const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** User + system CPU time of a process in ms (/proc/PID/stat fields 14 and 15). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** Busy and total CPU time of the whole machine, in ticks (/proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  // idle + iowait
  return { busy: total - values[3] - (values[4] ?? 0), total };
}

/** The influxd this process started (startInflux does not expose it): our child named influxd. */
function influxdPid(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (name === 'influxd' && ppid === process.pid) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error('no influxd child of this process');
}

/** A device process, spoken to by request/reply over IPC; every wait is bounded. */
class ClientsProcess {
  private readonly inbox: ChildMessage[] = [];
  private readonly waiters: {
    type: ChildMessageType;
    resolve: (m: ChildMessage) => void;
    reject: (e: Error) => void;
  }[] = [];
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'failed') return this.failAll(new Error(`${name}: ${message.error}`));
      const index = this.waiters.findIndex((w) => w.type === message.type);
      if (index === -1) this.inbox.push(message);
      else this.waiters.splice(index, 1)[0].resolve(message);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.failAll(new Error(`${name} exited (${signal ?? code})`));
        resolve();
      }),
    );
  }

  static start(name: string): ClientsProcess {
    return new ClientsProcess(
      name,
      spawn(process.execPath, [CLIENTS_JS], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  request<T extends ChildMessageType>(
    message: ParentMessage,
    reply: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    const answer = this.expect(reply, timeoutMs);
    this.child.send(message);
    return answer;
  }

  private expect<T extends ChildMessageType>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    const queued = this.inbox.findIndex((m) => m.type === type);
    if (queued !== -1)
      return Promise.resolve(this.inbox.splice(queued, 1)[0] as Extract<ChildMessage, { type: T }>);
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      return Promise.reject(new Error(`${this.name} exited before '${type}'`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no '${type}' from ${this.name} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const waiter = {
        type,
        resolve: (m: ChildMessage) => {
          clearTimeout(timer);
          resolve(m as Extract<ChildMessage, { type: T }>);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Asks the clients to disconnect cleanly; kills the process if that does not end it in time. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        await this.request({ type: 'close' }, 'closed', 30_000);
      } catch {
        this.child.kill('SIGKILL');
      }
    }
    await this.exited;
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

interface HubCounters {
  received: number;
  written: number;
  overflow: number;
  invalid: number;
  failures: number;
}

async function hubCounters(hub: HubProcess): Promise<HubCounters> {
  let response: Response;
  try {
    response = await fetch(`${hub.url}/metrics`);
  } catch (error) {
    const exit = hub.child.exitCode ?? hub.child.signalCode;
    throw new Error(
      `GET /metrics: ${String((error as Error).cause ?? error)}${exit === null ? '' : `; the hub exited (${exit}):\n${hub.output().slice(-3000)}`}`,
      { cause: error },
    );
  }
  if (response.status !== 200) throw new Error(`GET /metrics: HTTP ${response.status}`);
  const text = await response.text();
  const value = (series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };
  return {
    received: value('sentinel_telemetry_received_total'),
    written: value('sentinel_telemetry_written_total'),
    overflow: value('sentinel_telemetry_dropped_total{reason="overflow"}'),
    invalid: value('sentinel_telemetry_dropped_total{reason="invalid"}'),
    failures: value('sentinel_telemetry_write_failures_total'),
  };
}

/** Points received and neither written nor dropped yet. */
const backlogOf = (c: HubCounters) => c.received - c.written - c.overflow;

interface Snapshot {
  at: number;
  hub: HubCounters;
  clients: PublishCounts;
  cpuMs: { hub: number; influxd: number; clients: number; bench: number };
  machine: { busy: number; total: number };
}

interface Running {
  hub: HubProcess;
  influxdPid: number;
  clients: ClientsProcess[];
}

async function snapshot(run: Running): Promise<Snapshot> {
  const [hub, ...replies] = await Promise.all([
    hubCounters(run.hub),
    ...run.clients.map((c) => c.request({ type: 'count' }, 'count', 10_000)),
  ]);
  const clients: PublishCounts = { published: 0, heldBack: 0, behind: 0, offline: 0, closed: 0 };
  for (const reply of replies)
    for (const key of Object.keys(clients) as (keyof PublishCounts)[]) clients[key] += reply[key];
  return {
    at: performance.now(),
    hub,
    clients,
    cpuMs: {
      hub: cpuMsOf(run.hub.child.pid!),
      influxd: cpuMsOf(run.influxdPid),
      clients: run.clients.reduce((sum, c) => sum + cpuMsOf(c.pid), 0),
      bench: cpuMsOf(process.pid),
    },
    machine: machineTicks(),
  };
}

interface Step {
  offered: number;
  seconds: number;
  published: number;
  received: number;
  written: number;
  overflow: number;
  invalid: number;
  failures: number;
  heldBack: number;
  behind: number;
  offline: number;
  backlogMax: number;
  /** Least-squares slope of the backlog over the window, points per second. */
  backlogGrowth: number;
  /** % of one core; machine in % of all cores; others: what the rest of the machine used, % of one core. */
  cpu: { hub: number; influxd: number; clients: number; machine: number; others: number };
  hubRssEnd: number;
  hubRssPeak: number;
  keptUp: boolean;
  why: string[];
}

async function setRate(run: Running, total: number): Promise<void> {
  await Promise.all(
    run.clients.map((c) =>
      c.request({ type: 'rate', perSecond: total / run.clients.length }, 'rate', 10_000),
    ),
  );
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den > 0 ? num / den : 0;
}

async function measureStep(run: Running, offered: number): Promise<Step> {
  await setRate(run, offered);
  await sleep(WARMUP_MS);
  const s0 = await snapshot(run);
  // The backlog saw-tooths with the flush interval; its trend over many samples says whether it grows.
  const backlog: [number, number][] = [[s0.at, backlogOf(s0.hub)]];
  let hubRssPeak = rssOf(run.hub.child.pid!);
  const until = s0.at + windowS * 1000;
  // Jittered, so that the samples do not lock onto one phase of the flush timer.
  while (performance.now() + SAMPLE_MS < until) {
    await sleep(SAMPLE_MS * (0.6 + 0.8 * Math.random()));
    const counters = await hubCounters(run.hub);
    backlog.push([performance.now(), backlogOf(counters)]);
    hubRssPeak = Math.max(hubRssPeak, rssOf(run.hub.child.pid!));
  }
  await sleep(Math.max(0, until - performance.now()));
  const s1 = await snapshot(run);
  backlog.push([s1.at, backlogOf(s1.hub)]);
  const hubRssEnd = rssOf(run.hub.child.pid!);
  const secs = (s1.at - s0.at) / 1000;
  const rate = (a: number, b: number) => (a - b) / secs;
  const cpu = (a: number, b: number) => ((a - b) / 10 / secs) as number;
  const step: Step = {
    offered,
    seconds: secs,
    published: rate(s1.clients.published, s0.clients.published),
    received: rate(s1.hub.received, s0.hub.received),
    written: rate(s1.hub.written, s0.hub.written),
    overflow: s1.hub.overflow - s0.hub.overflow,
    invalid: s1.hub.invalid - s0.hub.invalid,
    failures: s1.hub.failures - s0.hub.failures,
    heldBack: s1.clients.heldBack - s0.clients.heldBack,
    behind: s1.clients.behind - s0.clients.behind,
    offline: s1.clients.offline - s0.clients.offline,
    backlogMax: Math.max(...backlog.map(([, b]) => b)),
    backlogGrowth: slope(backlog.map(([t, b]) => [t / 1000, b])),
    cpu: {
      hub: cpu(s1.cpuMs.hub, s0.cpuMs.hub),
      influxd: cpu(s1.cpuMs.influxd, s0.cpuMs.influxd),
      clients: cpu(s1.cpuMs.clients, s0.cpuMs.clients),
      machine: ((s1.machine.busy - s0.machine.busy) / (s1.machine.total - s0.machine.total)) * 100,
      others: 0,
    },
    hubRssEnd,
    hubRssPeak: Math.max(hubRssPeak, hubRssEnd),
    keptUp: true,
    why: [],
  };
  const ours = ['hub', 'influxd', 'clients', 'bench'] as const;
  step.cpu.others = Math.max(
    0,
    step.cpu.machine * cpus().length -
      ours.reduce((sum, k) => sum + cpu(s1.cpuMs[k], s0.cpuMs[k]), 0),
  );
  if (step.published < 0.95 * offered)
    step.why.push(
      `devices sent ${perS(step.published)} of ${perS(offered)} (held back by the broker ${count(step.heldBack)}, generator late ${count(step.behind)}, offline ${count(step.offline)})`,
    );
  if (step.received < 0.95 * step.published)
    step.why.push(`hub received ${perS(step.received)} of ${perS(step.published)} sent`);
  if (step.overflow > 0) step.why.push(`${count(step.overflow)} dropped (buffer full)`);
  // At low rates 2 % is below what the saw-tooth alone can tilt a fit by: allow one batch per window.
  if (step.backlogGrowth > Math.max(MAX_GROWTH * offered, HUB_BATCH / windowS))
    step.why.push(
      `write backlog grew by ${perS(step.backlogGrowth)} (${((step.backlogGrowth / offered) * 100).toFixed(0)} % of the load; up to ${count(step.backlogMax)} points)`,
    );
  if (step.failures > 0) step.why.push(`${step.failures} failed writes`);
  step.keptUp = step.why.length === 0;
  return step;
}

/** The same schema the hub's client declares for `telemetry` (src/telemetry/influx-telemetry-store.ts). */
function rawClient(url: string, database: string): InfluxDB {
  const { hostname, port } = new URL(url);
  return new InfluxDB({
    host: hostname,
    port: Number(port),
    database,
    schema: [
      {
        measurement: 'telemetry',
        tags: ['device', 'group', 'environment', 'deployment', 'model_id', 'model_version', 'slot'],
        fields: {
          device_id: FieldType.STRING,
          frames: FieldType.INTEGER,
          fps: FieldType.FLOAT,
          latency_p50: FieldType.FLOAT,
          latency_p95: FieldType.FLOAT,
          latency_max: FieldType.FLOAT,
          memory_mb: FieldType.FLOAT,
          errors: FieldType.INTEGER,
          window_s: FieldType.FLOAT,
          map: FieldType.FLOAT,
        },
      },
    ],
  });
}

/** Point i of the raw run: device i % M, its (i / M)-th window, 1 ms apart per device. */
function rawPoint(ids: string[], i: number, t0: number): IPoint {
  const device = ids[i % ids.length];
  const n = Math.floor(i / ids.length);
  const v = sampleValues(n);
  return {
    measurement: 'telemetry',
    tags: {
      device,
      group: GROUP,
      environment: ENVIRONMENT,
      deployment: SAMPLE_MODEL.deployment_id,
      model_id: SAMPLE_MODEL.model_id,
      model_version: SAMPLE_MODEL.model_version,
      slot: SAMPLE_MODEL.slot,
    },
    fields: {
      device_id: device,
      frames: v.frames,
      fps: v.fps,
      latency_p50: v.p50,
      latency_p95: v.p95,
      latency_max: v.max,
      memory_mb: v.memory_mb,
      errors: v.errors,
      window_s: v.window_s,
    },
    timestamp: new Date(t0 + n),
  };
}

interface RawRun {
  writers: number;
  points: number;
  seconds: number;
  influxdCpu: number;
  writerCpu: number;
}

/** `points` points in batches of 5000 by `writers` concurrent loops, into a fresh database. */
async function rawWrite(
  influx: InfluxServer,
  pid: number,
  ids: string[],
  points: number,
  writers: number,
): Promise<RawRun> {
  const database = `bench_raw_${writers}`;
  const client = rawClient(influx.url, database);
  await client.createDatabase(database);
  const t0 = Date.now() - 60_000;
  const batches = Math.ceil(points / RAW_BATCH);
  let next = 0;
  const loop = async () => {
    while (next < batches) {
      const start = next++ * RAW_BATCH;
      const end = Math.min(points, start + RAW_BATCH);
      const batch: IPoint[] = [];
      for (let i = start; i < end; i++) batch.push(rawPoint(ids, i, t0));
      await client.writePoints(batch, { precision: 'ms' });
    }
  };
  const influxd0 = cpuMsOf(pid);
  const self0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, loop));
  const secs = (performance.now() - started) / 1000;
  const self = process.cpuUsage(self0);
  return {
    writers,
    points,
    seconds: secs,
    influxdCpu: (cpuMsOf(pid) - influxd0) / 10 / secs,
    writerCpu: (self.user + self.system) / 10_000 / secs,
  };
}

async function influxCount(influx: InfluxServer, database: string, rp: string): Promise<number> {
  const client = rawClient(influx.url, database);
  const rows = await client.query<{ count: number }>(
    `SELECT count("fps") AS count FROM "${rp}"."telemetry"`,
  );
  return Number(rows[0]?.count ?? 0);
}

async function createDevices(dataDir: string, adminToken: string): Promise<DeviceLogin[]> {
  // In-process and then restarted as a process on the same DATA_DIR: the REST route does the same
  // work plus HTTP, which only slows the set-up down.
  const hub = await startHub({
    DATA_DIR: dataDir,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
  });
  try {
    await createGroup(hub, GROUP, ENVIRONMENT);
    const fleet = hub.app.get(FleetService);
    const width = String(deviceCount - 1).length;
    const devices: DeviceLogin[] = [];
    // One at a time: pglite-socket runs the pool's connections on one session (electric-sql/pglite#1046).
    for (let index = 0; index < deviceCount; index++) {
      const id = `bench-${String(index).padStart(width, '0')}`;
      const issued = await fleet.createDevice({ id, group: GROUP }, BENCH_PRINCIPAL);
      devices.push({ id, password: issued.secret });
    }
    return devices;
  } finally {
    await hub.stop();
  }
}

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: Frame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

/** Where a frame's code lives: a package, the hub, node itself, or a V8 pseudo-frame. */
function ownerOf(frame: Frame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName; // (garbage collector), (program), (idle), native
  if (url.startsWith('node:')) return 'node (internal)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const parts = url.slice(modules + 14).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.includes('/broker/dist/')) return '@sentinel/broker';
  if (url.includes('/dist/src/')) return 'hub (src/)';
  return url;
}

const frameName = (f: Frame) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/').replace(/^file:\/\//, '')}:${f.lineNumber + 1}`;

/** Self time by owner and by function, and inclusive time of the hub's and the broker's functions. */
function summariseProfile(file: string): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + 1);
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)');
  const total = profile.samples.length - idle.reduce((s, [, n]) => s + n, 0);
  const add = (map: Map<string, number>, key: string, n: number) =>
    map.set(key, (map.get(key) ?? 0) + n);
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, n] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') continue;
    add(owners, ownerOf(frame), n);
    add(functions, frameName(frame), n);
  }
  // Inclusive: each sample counts once per function on its stack (recursion counted once).
  const inclusive = new Map<string, number>();
  const stackCache = new Map<number, string[]>();
  const stackOf = (id: number): string[] => {
    let keys = stackCache.get(id);
    if (!keys) {
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)!.callFrame;
        const owner = ownerOf(frame);
        if (
          owner === 'hub (src/)' ||
          owner === '@sentinel/broker' ||
          owner === 'influx' ||
          owner === 'aedes'
        )
          seen.add(
            `${owner === 'hub (src/)' || owner === '@sentinel/broker' ? '' : `${owner}: `}${frameName(frame)}`,
          );
      }
      keys = [...seen];
      stackCache.set(id, keys);
    }
    return keys;
  };
  for (const [id, n] of self) for (const key of stackOf(id)) add(inclusive, key, n);
  const top = (map: Map<string, number>, k: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([key, n]) => `    ${((n / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
  return [
    `hub CPU profile over the load steps and the drain: ${file} (${count(total)} busy samples of 0.5 ms; % of busy time)`,
    '  self time by owner:',
    ...top(owners, 12),
    '  self time by function:',
    ...top(functions, 20),
    '  inclusive time, hub + broker + aedes + influx functions:',
    ...top(inclusive, 25),
  ];
}

function describeStep(s: Step): string {
  return [
    `${perS(s.offered).padStart(9)}`,
    `${perS(s.published).padStart(9)}`,
    `${perS(s.received).padStart(9)}`,
    `${perS(s.written).padStart(9)}`,
    `${count(s.overflow).padStart(8)}`,
    `${count(s.backlogMax).padStart(9)}`,
    `${perS(s.backlogGrowth).padStart(9)}`,
    `${pct(s.cpu.hub).padStart(6)}`,
    `${MiB(s.hubRssPeak).padStart(8)}`,
    `${pct(s.cpu.influxd).padStart(8)}`,
    `${pct(s.cpu.clients).padStart(8)}`,
    `${pct(s.cpu.machine).padStart(8)}`,
    `${pct(s.cpu.others).padStart(7)}`,
    s.keptUp ? '  yes' : '  NO',
  ].join(' ');
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-ingest-'));
  const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
  const state: {
    clients: ClientsProcess[];
    hub: HubProcess | null;
    influx: InfluxServer | null;
    influxdPid: number | null;
  } = { clients: [], hub: null, influx: null, influxdPid: null };
  process.on('exit', () => {
    for (const c of state.clients) c.child.kill('SIGKILL');
    state.hub?.child.kill('SIGKILL');
    if (state.influxdPid !== null) {
      // startInflux's own stop() is async; here only a synchronous kill and clean-up will do.
      let configDir: string | null = null;
      try {
        const argv = readFileSync(`/proc/${state.influxdPid}/cmdline`, 'utf8').split('\0');
        const config = argv[argv.indexOf('-config') + 1];
        if (config?.includes('sentinel-influx-')) configDir = dirname(config);
        process.kill(state.influxdPid, 'SIGKILL');
      } catch {
        // already gone
      }
      if (configDir) rmSync(configDir, { recursive: true, force: true });
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
  setTimeout(() => {
    console.error(`bench:ingest gave up after ${TOTAL_TIMEOUT_MS / 60_000} min`);
    process.exit(1);
  }, TOTAL_TIMEOUT_MS).unref();

  const sample = telemetryPayload('bench-0', Date.now(), 1);
  const check = parseMessage('telemetry', sample);
  if (!check.ok) throw new Error(`the bench's telemetry payload is invalid: ${check.error}`);

  const started = performance.now();
  console.log(
    `machine: ${cpus().length} cores, node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (loadavg()[0] > cpus().length / 2)
    console.log(
      'WARNING: the machine is already busy; the figures below share it (see the "others" column)',
    );
  const influx = await startInflux();
  state.influx = influx;
  state.influxdPid = influxdPid();
  const influxVersion = (await fetch(`${influx.url}/ping`)).headers.get('x-influxdb-version');

  let at = performance.now();
  const devices = await createDevices(dataDir, adminToken);
  console.log(
    `set-up: ${deviceCount} devices created in-process in ${seconds(performance.now() - at)}`,
  );

  let profileFile: string | null = null;
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
    INFLUX_URL: influx.url,
    INFLUX_DB: HUB_DB,
  };
  if (profileDir) {
    mkdirSync(profileDir, { recursive: true });
    profileFile = join(resolve(profileDir), 'hub-ingest.cpuprofile');
    rmSync(profileFile, { force: true });
    env.NODE_OPTIONS = `--import=${pathToFileURL(PROFILER_JS).href}`;
    env.INGEST_PROFILE_FILE = profileFile;
  }
  const hub = await spawnHub(env);
  state.hub = hub;
  if (!hub.mqtt) throw new Error('the hub did not start its embedded broker');
  const hubPid = hub.child.pid!;
  const hubRssIdle = rssOf(hubPid);

  at = performance.now();
  const per = Math.ceil(deviceCount / clientProcesses);
  for (let k = 0; k < clientProcesses; k++)
    state.clients.push(ClientsProcess.start(`device process ${k + 1}`));
  const run: Running = { hub, influxdPid: state.influxdPid, clients: state.clients };
  const ready = await Promise.all(
    state.clients.map((c, k) =>
      c.request(
        {
          type: 'connect',
          url: `mqtt://127.0.0.1:${hub.mqtt!.port}`,
          devices: devices.slice(k * per, (k + 1) * per),
          concurrency: Math.ceil(CONNECTS_IN_FLIGHT / clientProcesses),
          clientTimeoutMs: CLIENT_TIMEOUT_MS,
        },
        'ready',
        CLIENT_TIMEOUT_MS + deviceCount * 20,
      ),
    ),
  );
  const connected = ready.reduce((s, r) => s + r.connected, 0);
  const failed = ready.filter((r) => r.failed > 0);
  console.log(
    `set-up: ${connected} of ${deviceCount} devices connected in ${seconds(performance.now() - at)} (${clientProcesses} processes)`,
  );
  for (const r of failed)
    console.log(`  ${r.failed} failed: ${r.errors.map(([e, n]) => `${e} (${n})`).join('; ')}`);
  if (connected === 0) throw new Error('no device connected');
  const hubRssConnected = rssOf(hubPid);
  const idle0 = cpuMsOf(hubPid);
  await sleep(2_000);
  const hubIdleCpu = (cpuMsOf(hubPid) - idle0) / 10 / 2;

  // The ramp: stop after the first step the hub did not keep up with.
  console.log(
    `ramp: ${rates.map(perS).join(', ')}; each ${WARMUP_MS / 1000} s warm-up + ${windowS} s measured`,
  );
  if (profileFile) process.kill(hubPid, 'SIGWINCH');
  const steps: Step[] = [];
  for (const offered of rates) {
    const step = await measureStep(run, offered);
    steps.push(step);
    console.log(
      `  ${perS(offered)}: written ${perS(step.written)}, hub CPU ${pct(step.cpu.hub)}${step.keptUp ? '' : ` - not kept up: ${step.why.join('; ')}`}`,
    );
    if (!step.keptUp) break;
  }
  await setRate(run, 0);

  // Let the hub write what it holds (InfluxDB should then hold exactly what the hub counted). With
  // no messages coming in, a large backlog shows what the hub's writer does on its own.
  at = performance.now();
  const stopped = await hubCounters(hub);
  let final = stopped;
  let finalAt = at;
  while (backlogOf(final) > 0 && performance.now() - at < DRAIN_TIMEOUT_MS) {
    await sleep(100);
    final = await hubCounters(hub);
    finalAt = performance.now();
  }
  const drainMs = finalAt - at;
  const drainRate =
    backlogOf(stopped) >= 4 * HUB_BATCH && backlogOf(final) === 0
      ? (final.written - stopped.written) / (drainMs / 1000)
      : null;
  if (profileFile) {
    process.kill(hubPid, 'SIGWINCH');
    for (let i = 0; i < 100 && !existsSync(profileFile); i++) await sleep(100);
  }
  const published = (await snapshot(run)).clients.published;
  const inInflux = await influxCount(influx, HUB_DB, 'sentinel');
  const hubRssEnd = rssOf(hubPid);

  await Promise.all(state.clients.map((c) => c.close()));
  state.clients = [];

  const rawPoints = Math.min(RAW_MAX_POINTS, Math.max(RAW_MIN_POINTS, final.written));
  const ids = devices.map((d) => d.id);
  const raw1 = await rawWrite(influx, state.influxdPid, ids, rawPoints, 1);
  const raw4 = await rawWrite(influx, state.influxdPid, ids, rawPoints, 4);
  const rawCounts = [
    await influxCount(influx, 'bench_raw_1', 'autogen'),
    await influxCount(influx, 'bench_raw_4', 'autogen'),
  ];

  await hub.stop();
  state.hub = null;
  await influx.stop();
  state.influx = null;
  state.influxdPid = null;

  const sustained = [...steps].reverse().find((s) => s.keptUp) ?? null;
  const overload = steps.find((s) => !s.keptUp) ?? null;
  const bestWritten = Math.max(...steps.map((s) => s.written));
  const rate1 = raw1.points / raw1.seconds;
  const rate4 = raw4.points / raw4.seconds;

  console.log('');
  console.log(
    `devices          ${deviceCount} mqtt.js clients (one connection each, own topic, QoS 0), in ${clientProcesses} processes; ${connected} connected`,
  );
  console.log(
    `hub              embedded broker, INFLUX_URL=${influx.url} (influxd ${influxVersion ?? '?'}), flush ${HUB_FLUSH_S * 1000} ms, batches of ${HUB_BATCH}`,
  );
  console.log(
    'step    offered      sent  received   written  dropped  backlog^   growth  hub CPU hub RSS^ influxd  devices  machine  others  kept up',
  );
  for (const s of steps) console.log(`  ${describeStep(s)}`);
  console.log(
    '  (per second over each window; CPU in % of one core, machine in % of all cores, others = processes not of this bench; ^ peak in the window)',
  );
  for (const s of steps.filter((x) => !x.keptUp))
    console.log(`  ${perS(s.offered)} not kept up: ${s.why.join('; ')}`);
  console.log('');
  console.log(
    `sustained        ${sustained ? `${perS(sustained.written)} written at ${perS(sustained.offered)} offered` : 'none of the steps'} (goal >= 20,000/s)`,
  );
  if (overload)
    console.log(
      `under overload   ${perS(overload.written)} written at ${perS(overload.offered)} offered (${perS(overload.received)} received, hub CPU ${pct(overload.cpu.hub)}, devices ${pct(overload.cpu.clients)}, influxd ${pct(overload.cpu.influxd)})`,
    );
  else
    console.log(
      `under overload   not reached: the hub kept up with every step; raise --rates (or the generator is the limit)`,
    );
  console.log(
    `raw influx       ${count(rawPoints)} points, batches of ${RAW_BATCH}: 1 writer ${perS(rate1)} (influxd ${pct(raw1.influxdCpu)}, writer ${pct(raw1.writerCpu)}), 4 writers ${perS(rate4)} (influxd ${pct(raw4.influxdCpu)}, writer ${pct(raw4.writerCpu)})`,
  );
  const hubRate = sustained?.written ?? 0;
  console.log(
    `ratio            sustained hub / raw: ${ratio(hubRate, rate1)} of 1 writer, ${ratio(hubRate, rate4)} of 4 writers (goal >= 0.8); best hub written/s in any step / raw 1 writer: ${ratio(bestWritten, rate1)}`,
  );
  console.log(
    `hub writer alone ${drainRate === null ? 'not measured (backlog under 4 batches when the devices stopped)' : `${perS(drainRate)} while draining ${count(backlogOf(stopped))} points with no messages coming in (${ratio(drainRate, rate1)} of raw 1 writer)`}`,
  );
  console.log(
    `hub CPU          ${pct(hubIdleCpu)} idle with ${connected} devices connected; per message received (all hub work over the window / received): ${steps.map((s) => `${((s.cpu.hub * 10_000) / s.received).toFixed(1)} µs`).join(', ')}`,
  );
  console.log(
    `hub RSS          ${MiB(hubRssIdle)} idle, ${MiB(hubRssConnected)} with ${connected} devices connected, peak ${MiB(Math.max(...steps.map((s) => s.hubRssPeak)))} under load, ${MiB(hubRssEnd)} after`,
  );
  console.log(
    `check            devices sent ${count(published)}; hub received ${count(final.received)}, wrote ${count(final.written)}, dropped ${count(final.overflow)} (overflow) + ${count(final.invalid)} (invalid), ${count(backlogOf(final))} left after ${seconds(drainMs)} of draining; InfluxDB holds ${count(inInflux)}${inInflux === final.written ? ' (= written)' : ' (differs from written)'}; raw databases ${rawCounts.map(count).join(' and ')}`,
  );
  console.log(`total            ${seconds(performance.now() - started)}`);
  if (profileFile) {
    console.log('');
    if (existsSync(profileFile))
      for (const line of summariseProfile(profileFile)) console.log(line);
    else console.log(`no profile was written to ${profileFile}`);
  }
}

try {
  await main();
} catch (error) {
  console.error(`bench:ingest failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
}
// Anything left open (a hub or device process that did not stop) must not keep the bench alive.
process.exit();
