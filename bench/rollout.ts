// Issue 5's benchmark: a blue/green deployment of a small model to N simulated devices, then a
// manual rollback. The devices are the edge agent's FleetSimulator (real agents speaking the
// protocol over MQTT, one onnxruntime session pool and one model cache) in a process of their own
// (bench/rollout-fleet.ts); the hub runs in this process on the embedded broker. The figures are
// taken where an operator would see them: at an MQTT observer of the device states (its own
// process by default, bench/rollout-observer.ts), from the POST that starts a deployment or a
// rollback until the last device reported. Prints figures; asserts nothing; all on 127.0.0.1.
//   npm run bench:rollout [-- N] [--postgres[=URL]] [--observer=child|inline] [--storm=K|all]
//                         [--profile=DIR]
// N: devices (default 10000). --postgres: the hub on a scratch database created (and dropped) on
// that PostgreSQL server (default: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
// instead of the embedded PGlite. --observer=inline: the observer in this process. --storm: agents
// connecting at once (default 100; all = FleetSimulator.start(), no pacing). --profile=DIR: CPU
// profiles of the hub, the simulator and the observer per phase (storm, warmup, deployment,
// rollback) into DIR, e.g. hub-rollback.cpuprofile (profiling slows the processes down).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { groupDesiredTopic } from '@sentinel/broker';
import { BrokerService } from '../src/broker/broker.service.js';
import { FleetEvents } from '../src/fleet/fleet-events.js';
import { RolloutDriver } from '../src/deployments/rollout-driver.js';
import { DeviceStateWriter } from '../src/fleet/device-state-writer.js';
import { deploy, deploymentAction, getDeployment } from '../test/support/deployments.js';
import { createGroup } from '../test/support/fleet.js';
import { startHub, type InProcessHub } from '../test/support/hub.js';
import { fastModel, goldenMismatchModel } from '../test/support/onnx-models.js';
import {
  ChildLink,
  CpuProfiler,
  Milestones,
  ProcessMeter,
  wallClockMs,
  type FleetReply,
  type FleetRequest,
  type Milestone,
  type MilestoneResult,
  type ProcessStats,
  type Receipts,
  type StateLike,
  type Watch,
} from './rollout-ipc.js';
import {
  childObserver,
  createDevices,
  eventTimes,
  inlineObserver,
  openFileLimits,
  pushVersion,
  RssSampler,
  runBench,
  scratchDatabase,
  waitForStatus,
  type Scratch,
  type FleetLink,
  type Observer,
} from './rollout-hub.js';

const args = process.argv.slice(2);
const positional = args.filter((a) => !a.startsWith('--'));
const flag = (name: string) => {
  const found = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return found === undefined ? undefined : (found.split('=').slice(1).join('=') ?? '');
};
const deviceCount = Number(positional[0] ?? 10_000);
const postgresFlag = flag('postgres');
const POSTGRES_SERVER =
  postgresFlag === undefined
    ? undefined
    : postgresFlag || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const observerMode = flag('observer') ?? 'child';
// The storm: agents waiting for their CONNACK at once ('all' = FleetSimulator.start(), every agent
// at once: at 10,000 that crashed the hub, see the report); like bench/fanout's default.
const stormFlag = flag('storm') ?? '100';
const connectsInFlight = stormFlag === 'all' ? 0 : Number(stormFlag);
// --profile=DIR: CPU profiles of every process per phase.
const profileDir = flag('profile') || undefined;

if (
  !Number.isInteger(deviceCount) ||
  deviceCount < 1 ||
  positional.length > 1 ||
  !Number.isInteger(connectsInFlight) ||
  connectsInFlight < 0 ||
  !['child', 'inline'].includes(observerMode)
) {
  console.error(
    'usage: node dist/bench/rollout.js [DEVICES] [--postgres[=URL]] [--observer=child|inline] [--storm=IN_FLIGHT|all] [--profile=DIR]',
  );
  process.exit(2);
}

const GROUP = 'rollout';
const ENVIRONMENT = 'production';
const ROLLOUT_INTERVAL_MS = 100;
const GOAL_MS = 1_000;
/** Every wait for the fleet (storm, one phase of a deployment) is bounded by this. */
const STEP_TIMEOUT_MS = 60_000 + deviceCount * 10;
/** The storm grows faster than linearly on the embedded broker (see the report): 10,000 -> 9 min. */
const STORM_TIMEOUT_MS = 40_000 + deviceCount * 50;
const TOTAL_TIMEOUT_MS = 10 * 60_000 + deviceCount * 150;
// One at a time on PGlite: pglite-socket runs the pool's connections on one session, so concurrent
// transactions interleave and fail ("portal does not exist"; electric-sql/pglite#1046).
const CREATE_IN_FLIGHT = POSTGRES_SERVER ? 8 : 1;
/** FleetSimulator's default; its Agent.start() returns before the MQTT connection is up. */
const FLEET_CONCURRENCY = 200;
const FLEET_JS = fileURLToPath(new URL('./rollout-fleet.js', import.meta.url));

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
/** Sub-second spans in ms, so that short ones keep their digits. */
const span = (ms: number | null | undefined) =>
  ms === null || ms === undefined || Number.isNaN(ms)
    ? 'n/a'
    : ms < 1_000
      ? `${ms.toFixed(0)} ms`
      : seconds(ms);
const pad = (label: string, width = 38) => label.padEnd(width);

interface Publish {
  /** When the hub handed the desired state to its broker, and when that publish completed. */
  at: number;
  done: number | null;
  deploymentId: string | null;
  activate: string | null;
}

/**
 * What the hub sees, from inside: every desired state it publishes for the group, and each device
 * state batch once written to the devices table (`received` by the broker's receipt time of each
 * report, `recorded` by the time the batch was written).
 */
class HubTap {
  readonly publishes: Publish[] = [];
  readonly received: Milestones;
  readonly recorded: Milestones;
  reportBatches = 0;
  private readonly off: () => void;

  constructor(hub: InProcessHub, devices: readonly string[]) {
    this.received = new Milestones(devices);
    this.recorded = new Milestones(devices);
    const transport = hub.app.get(BrokerService).mqtt;
    const publish = transport.publish.bind(transport);
    const topic = groupDesiredTopic(GROUP);
    transport.publish = (t, payload, options) => {
      if (t !== topic) return publish(t, payload, options);
      const desired = JSON.parse(payload.toString()) as {
        deployment_id?: string | null;
        activate?: string;
      };
      const entry: Publish = {
        at: wallClockMs(),
        done: null,
        deploymentId: desired.deployment_id ?? null,
        activate: desired.activate ?? null,
      };
      this.publishes.push(entry);
      return publish(t, payload, options).then(() => void (entry.done = wallClockMs()));
    };
    this.off = hub.app.get(FleetEvents).on('device.reports', ({ reports }) => {
      const now = wallClockMs();
      this.reportBatches++;
      for (const report of reports) {
        if (!report.reported) continue;
        const state = report.reported as StateLike;
        this.received.record(state, report.at.getTime());
        this.recorded.record(state, now);
      }
    });
  }

  arm(watch: Watch): void {
    this.received.arm(watch);
    this.recorded.arm(watch);
    this.reportBatches = 0;
  }

  publishesFor(deploymentId: string, activate: string): Publish | undefined {
    return this.publishes.find((p) => p.deploymentId === deploymentId && p.activate === activate);
  }

  close(): void {
    this.off();
  }
}

interface Timing {
  calls: number;
  rows: number;
  totalMs: number;
  maxMs: number;
}

/**
 * Times the hub's database work as it happens: the devices-table write of each state batch, the
 * deployment-progress write of the same batch, and each evaluation pass of active deployments.
 * (On PGlite the SQL runs on the hub's own thread, so this is time its event loop was held too.)
 */
class DbTap {
  readonly timings = {
    stateWrites: DbTap.zero(),
    progressWrites: DbTap.zero(),
    evaluations: DbTap.zero(),
  };

  constructor(hub: InProcessHub) {
    const writer = hub.app.get(DeviceStateWriter);
    const deployments = hub.app.get(RolloutDriver);
    writer.record = this.wrap(writer.record.bind(writer), 'stateWrites');
    deployments.recordReports = this.wrap(
      deployments.recordReports.bind(deployments),
      'progressWrites',
    );
    deployments.evaluateAll = this.wrap(deployments.evaluateAll.bind(deployments), 'evaluations');
  }

  static zero(): Timing {
    return { calls: 0, rows: 0, totalMs: 0, maxMs: 0 };
  }

  /** The timings since the last call. */
  take(): Record<keyof DbTap['timings'], Timing> {
    const taken = structuredClone(this.timings);
    for (const timing of Object.values(this.timings)) Object.assign(timing, DbTap.zero());
    return taken;
  }

  private wrap<A extends unknown[]>(
    fn: (...args: A) => Promise<void>,
    name: keyof DbTap['timings'],
  ): (...args: A) => Promise<void> {
    return async (...args: A) => {
      const started = performance.now();
      try {
        await fn(...args);
      } finally {
        const ms = performance.now() - started;
        const timing = this.timings[name];
        timing.calls++;
        timing.rows += Array.isArray(args[0]) ? args[0].length : 0;
        timing.totalMs += ms;
        timing.maxMs = Math.max(timing.maxMs, ms);
      }
    };
  }
}

interface PhaseFigures {
  /** When the agents' clients received the first and second desired state of the phase. */
  receipts: [Receipts | null, Receipts | null] | null;
  /** ms after the POST was sent. */
  answered: number;
  observed: Partial<Record<Milestone, MilestoneResult>>;
  received: Partial<Record<Milestone, MilestoneResult>>;
  recorded: Partial<Record<Milestone, MilestoneResult>>;
  origin: number;
  stats: { hub: ProcessStats; fleet: ProcessStats; observer: ProcessStats };
  db: ReturnType<DbTap['take']>;
  /** State messages the observer got during the phase, by the deployment phase they report. */
  messages: number;
  phases: Record<string, number>;
  reportBatches: number;
}

interface Context {
  hub: InProcessHub;
  tap: HubTap;
  db: DbTap;
  observer: Observer;
  fleet: FleetLink;
  meter: ProcessMeter;
}

async function stats(ctx: Context) {
  const observer = await ctx.observer.stats();
  const fleet = (await ctx.fleet.request({ type: 'stats' }, 'stats', 30_000)).stats;
  return { hub: ctx.meter.take(), fleet, observer, db: ctx.db.take() };
}

/**
 * CPU profiles of every process while `work` runs: DIR/{hub,simulator,observer}-NAME.cpuprofile.
 * The children are reached through `ctx` once they exist.
 */
async function profiled<T>(
  name: string,
  children: { name: string; profile(file: string | null): Promise<unknown> }[],
  work: () => Promise<T>,
): Promise<T> {
  if (!profileDir) return work();
  const dir = profileDir;
  const hub = new CpuProfiler();
  await hub.start();
  for (const child of children) await child.profile(null);
  const result = await work();
  await hub.stop(join(dir, `hub-${name}.cpuprofile`));
  for (const child of children) await child.profile(join(dir, `${child.name}-${name}.cpuprofile`));
  return result;
}

/** The children, as `profiled` wants them. */
function profiledChildren(ctx: { fleet: FleetLink; observer: Observer }) {
  const children: { name: string; profile(file: string | null): Promise<unknown> }[] = [
    {
      name: 'simulator',
      profile: (file: string | null) =>
        ctx.fleet.request({ type: 'profile', file }, 'profiled', 30_000),
    },
  ];
  if (ctx.observer.pid !== process.pid)
    children.push({ name: 'observer', profile: (file) => ctx.observer.profile(file) });
  return children;
}

async function phase(
  ctx: Context,
  name: string,
  watch: Watch,
  milestones: Milestone[],
  start: () => Promise<void>,
): Promise<PhaseFigures> {
  console.log(`${name}...`);
  await ctx.observer.arm(watch);
  ctx.tap.arm(watch);
  await ctx.fleet.request({ type: 'arm' }, 'armed', 30_000);
  const before = await stats(ctx);
  return profiled(name, profiledChildren(ctx), () => measure(ctx, before, milestones, start));
}

async function measure(
  ctx: Context,
  before: Awaited<ReturnType<typeof stats>>,
  milestones: Milestone[],
  start: () => Promise<void>,
): Promise<PhaseFigures> {
  const origin = wallClockMs();
  await start();
  const answered = wallClockMs() - origin;
  const deadline = origin + STEP_TIMEOUT_MS;
  const observed: PhaseFigures['observed'] = {};
  for (const milestone of milestones)
    observed[milestone] = await ctx.observer.wait(
      milestone,
      Math.max(1_000, deadline - wallClockMs()),
    );
  const received: PhaseFigures['received'] = {};
  const recorded: PhaseFigures['recorded'] = {};
  for (const milestone of milestones) {
    // The hub writes what it received at most 250 ms (its batch interval) after the observer saw it.
    recorded[milestone] = await ctx.tap.recorded.wait(milestone, 5_000);
    received[milestone] = ctx.tap.received.result(milestone);
  }
  const { receipts } = await ctx.fleet.request({ type: 'receipts' }, 'receipts', 30_000);
  const after = await stats(ctx);
  return {
    receipts,
    answered,
    observed,
    received,
    recorded,
    origin,
    stats: { hub: after.hub, fleet: after.fleet, observer: after.observer },
    db: after.db,
    messages: after.observer.messages - before.observer.messages,
    phases: Object.fromEntries(
      Object.entries(after.observer.phases)
        .map(([k, n]) => [k, n - (before.observer.phases[k] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    ),
    reportBatches: ctx.tap.reportBatches,
  };
}

function lastAfter(result: MilestoneResult | undefined, origin: number): number | null {
  return result?.times ? result.times.last - origin : null;
}

function describe(label: string, result: MilestoneResult | undefined, origin: number): string {
  if (!result) return `${pad(label)}n/a`;
  const t = result.times;
  const after = (x: number | undefined) => span(x === undefined ? null : x - origin);
  let line = `${pad(label)}${after(t?.last)}   (first ${after(t?.first)}, p50 ${after(t?.p50)}, p99 ${after(t?.p99)})`;
  if (result.reached < result.expected || result.timedOut)
    line += `   ONLY ${result.reached} of ${result.expected} (timed out)`;
  if (result.failures.length > 0)
    line += `   failures: ${result.failures.map(([r, n]) => `${r} x${n}`).join(', ')}`;
  return line;
}

function describeReceipts(label: string, receipts: Receipts | null | undefined, origin: number) {
  if (receipts === undefined) return `${pad(label)}n/a (the agents' MQTT clients are out of reach)`;
  if (receipts === null) return `${pad(label)}none received`;
  const t = receipts.times;
  let line = `${pad(label)}${span(t.last - origin)}   (first ${span(t.first - origin)}, p50 ${span(t.p50 - origin)}, p99 ${span(t.p99 - origin)})`;
  if (receipts.received < deviceCount) line += `   ONLY ${receipts.received} of ${deviceCount}`;
  return line;
}

function goal(ms: number | null, reached: boolean): string {
  if (ms === null || !reached) return 'goal <= 1 s: NOT REACHED';
  return ms <= GOAL_MS ? 'goal <= 1 s: met' : `goal <= 1 s: missed by ${span(ms - GOAL_MS)}`;
}

function describeDb(label: string, db: PhaseFigures['db']): string {
  const one = (name: string, t: Timing, unit: string) =>
    `${name} ${t.calls}${t.rows ? ` (${t.rows} ${unit})` : ''} ${seconds(t.totalMs)}, max ${span(t.maxMs)}`;
  return `${pad(label)}${[
    one('state writes', db.stateWrites, 'reports'),
    one('progress writes', db.progressWrites, 'reports'),
    one('evaluations', db.evaluations, ''),
  ].join('; ')}`;
}

function describeStats(label: string, s: PhaseFigures['stats'], wallMs: number): string {
  const one = (name: string, p: ProcessStats) =>
    !Number.isNaN(p.cpuMs)
      ? `${name} CPU ${seconds(p.cpuMs)} (${((p.cpuMs / wallMs) * 100).toFixed(0)} % of a core), loop busy ${(p.elu * 100).toFixed(0)} %`
      : null;
  const parts = [one('hub', s.hub), one('simulator', s.fleet), one('observer', s.observer)];
  return `${pad(label)}${parts.filter(Boolean).join('; ')}`;
}

// --- main ---------------------------------------------------------------------------------------

const cleanup: {
  dirs: string[];
  children: { kill(): void }[];
  database: Scratch | null;
} = { dirs: [], children: [], database: null };

async function dropDatabase(): Promise<void> {
  const database = cleanup.database;
  cleanup.database = null;
  if (!database) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    database.drop().catch((error: Error) => {
      console.error(`could not drop ${database.name}: ${error.message}`);
    }),
    new Promise((resolve) => (timer = setTimeout(resolve, 10_000))),
  ]);
  clearTimeout(timer);
}

async function main(): Promise<void> {
  const limits = openFileLimits();
  const fileLimit = Math.min(limits.hard, 65_536);
  const needed = deviceCount + 1_000;
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-rollout-'));
  cleanup.dirs.push(dataDir);
  const hubDir = join(dataDir, 'hub');
  const fleetDir = join(dataDir, 'fleet');
  mkdirSync(hubDir);
  mkdirSync(fleetDir);
  const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;

  console.log(
    `machine: ${cpus().length} cores, node ${process.version}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; open files soft/hard ${limits.soft}/${limits.hard}`,
  );
  if (limits.soft < needed)
    console.log(
      `WARNING: this process (the hub) may open ${limits.soft} files; ${deviceCount} devices need about ${needed}. Run \`ulimit -n ${needed}\` first.`,
    );
  if (fileLimit < needed)
    console.log(`WARNING: the simulator process can get only ${fileLimit} open files (hard limit)`);

  if (POSTGRES_SERVER) cleanup.database = await scratchDatabase(POSTGRES_SERVER);
  const database = cleanup.database
    ? `PostgreSQL ${cleanup.database.version} (scratch database ${cleanup.database.name}, dropped at the end)`
    : 'PGlite (embedded, one pooled connection)';
  console.log(`database: ${database}`);

  const hub = await startHub({
    DATA_DIR: hubDir,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
    ROLLOUT_INTERVAL_MS: String(ROLLOUT_INTERVAL_MS),
    ...(cleanup.database ? { DATABASE_URL: cleanup.database.url } : {}),
  });
  let fleet: FleetLink | null = null;
  let observer: Observer | null = null;
  let tap: HubTap | null = null;
  try {
    await createGroup(hub, GROUP, ENVIRONMENT);
    let started = wallClockMs();
    const devices = await createDevices(hub, deviceCount, GROUP, CREATE_IN_FLIGHT);
    console.log(
      `set-up: ${deviceCount} devices created in-process in ${seconds(wallClockMs() - started)}`,
    );
    const v1 = await pushVersion(hub, 'rollout-bench', '1.0.0', fastModel());
    const v2 = await pushVersion(hub, 'rollout-bench', '2.0.0', goldenMismatchModel());
    console.log(
      `set-up: models v1 (${v1.size} B, ${v1.sha256.slice(0, 12)}) and v2 (${v2.size} B, ${v2.sha256.slice(0, 12)})`,
    );
    const devicesFile = join(dataDir, 'devices.json');
    writeFileSync(devicesFile, JSON.stringify(devices), { mode: 0o600 });
    const ids = devices.map((d) => d.id);
    const mqttUrl = `mqtt://127.0.0.1:${hub.mqtt!.port}`;

    tap = new HubTap(hub, ids);
    observer =
      observerMode === 'child'
        ? await childObserver(mqttUrl, adminToken, ids, 1_024)
        : await inlineObserver(mqttUrl, adminToken, ids);
    cleanup.children.push(observer);
    console.log(`observer: in ${observer.where}`);

    // The connection storm: every agent connects, subscribes and reports its (empty) state.
    fleet = ChildLink.start<FleetRequest, FleetReply>('simulator process', FLEET_JS, {
      fileLimit,
      heapMb: 8_192,
    });
    cleanup.children.push(fleet);
    const meter = new ProcessMeter();
    const ctx: Context = { hub, tap, db: new DbTap(hub), observer, fleet, meter };
    const pids = new Map([
      ['hub', process.pid],
      ['simulator', fleet.pid],
    ]);
    if (observer.pid !== process.pid) pids.set('observer', observer.pid);
    const rss = new RssSampler(pids);
    started = wallClockMs();
    const ticker = setInterval(() => {
      fleet!
        .request({ type: 'progress' }, 'progress', 10_000)
        .then(({ stats: s }) =>
          console.log(
            `  storm ${seconds(wallClockMs() - started)}: ${s.connected} connected, ${s.connects} connects, ${s.closes} closes, ${s.unhandled} unhandled rejections`,
          ),
        )
        .catch(() => undefined);
    }, 5_000);
    const [fleetStarted, online] = await profiled('storm', profiledChildren(ctx), async () => {
      const reply = await fleet!.request(
        {
          type: 'start',
          devicesFile,
          mqttUrl,
          hubUrl: hub.url,
          group: GROUP,
          dataDir: fleetDir,
          concurrency: FLEET_CONCURRENCY,
          connectsInFlight,
        },
        'started',
        STORM_TIMEOUT_MS,
      );
      return [reply, await observer!.wait('online', STORM_TIMEOUT_MS)] as const;
    }).finally(() => clearInterval(ticker));
    const storm = await stats(ctx);
    const stormMs = lastAfter(online, started);

    // Warm-up: v1 everywhere (the first deployment: one download, a load per agent), so that the
    // measured deployment has a previous model to roll back to.
    let warmupId = '';
    const warmup = await phase(
      ctx,
      'warmup',
      { kind: 'deploy', exclude: [], sha256: v1.sha256 },
      ['notified', 'staged', 'active'],
      async () => {
        warmupId = (
          await deploy(hub, {
            model_id: v1.id,
            environment: ENVIRONMENT,
            deployment_type: 'blue-green',
            target: GROUP,
          })
        ).id;
      },
    );
    await waitForStatus(hub, warmupId, ['succeeded'], STEP_TIMEOUT_MS);
    const warmupDetail = await getDeployment(hub, warmupId);
    await new Promise((r) => setTimeout(r, 1_000)); // let the last reports drain

    // The measured deployment: v2, blue/green.
    let deploymentId = '';
    const rollout = await phase(
      ctx,
      'deployment',
      { kind: 'deploy', exclude: [warmupId], sha256: v2.sha256 },
      ['notified', 'staged', 'active'],
      async () => {
        deploymentId = (
          await deploy(hub, {
            model_id: v2.id,
            environment: ENVIRONMENT,
            deployment_type: 'blue-green',
            target: GROUP,
            // The fan-out is measured here: no observation phase before "succeeded".
            observe_s: 0,
          })
        ).id;
      },
    );
    const succeeded = await waitForStatus(
      hub,
      deploymentId,
      ['succeeded', 'failed', 'rolled_back'],
      STEP_TIMEOUT_MS,
    );
    if (succeeded !== 'succeeded') throw new Error(`deployment ${deploymentId} is ${succeeded}`);
    const rolloutDetail = await getDeployment(hub, deploymentId);
    await new Promise((r) => setTimeout(r, 1_000));

    // The manual rollback.
    const rollback = await phase(
      ctx,
      'rollback',
      { kind: 'rollback', sha256: v1.sha256 },
      ['back'],
      async () => {
        const response = await deploymentAction(hub, deploymentId, 'rollback');
        if (response.status !== 200 && response.status !== 201)
          throw new Error(`rollback: HTTP ${response.status} ${await response.text()}`);
      },
    );
    // The phase ends with the last state write; the progress write of the same batch follows it
    // (on PostgreSQL on another connection): give it up to 5 s to land before reading.
    let rolledBackDetail = await getDeployment(hub, deploymentId);
    for (
      let i = 0;
      i < 50 && (rolledBackDetail.progress.phases.rolled_back ?? 0) < deviceCount;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
      rolledBackDetail = await getDeployment(hub, deploymentId);
    }
    rss.stop();
    const fleetNow = (await fleet.request({ type: 'stats' }, 'stats', 30_000)).stats;

    // --- figures ------------------------------------------------------------------------------
    const warmupEvents = eventTimes(warmupDetail);
    const events = eventTimes(rolloutDetail);
    const rollbackEvents = eventTimes(rolledBackDetail);
    const o = rollout.origin;
    const notifyPublish = tap.publishesFor(deploymentId, 'previous');
    const cutoverPublish = tap.publishesFor(deploymentId, 'new');
    const rollbackPublish = tap.publishes.filter(
      (p) => p.deploymentId === deploymentId && p.activate === 'previous',
    )[1];
    const notifiedMs = lastAfter(rollout.observed.notified, o);
    const backMs = lastAfter(rollback.observed.back, rollback.origin);
    const hubAt = (t: number | undefined, origin: number) =>
      span(t === undefined ? null : t - origin);

    console.log('');
    console.log(
      `${pad('devices')}${deviceCount} simulated agents in one group (FleetSimulator in its own process; health-check latency budget 60 s), blue/green, ROLLOUT_INTERVAL_MS=${ROLLOUT_INTERVAL_MS}`,
    );
    console.log(`${pad('database')}${database}`);
    console.log(`${pad('observer')}MQTT observer in ${observer.where}`);
    console.log(
      `${pad('connection storm')}${span(stormMs)} until all ${deviceCount} reported online (${online.reached} did; ${connectsInFlight > 0 ? `${connectsInFlight} connects in flight` : 'all at once'}; start returned after ${span(fleetStarted.startMs)})`,
    );
    console.log(
      `${pad('warm-up v1 (first deployment)')}all active ${span(lastAfter(warmup.observed.active, warmup.origin))}, hub succeeded ${hubAt(warmupEvents.get('succeeded'), warmup.origin)} (the simulator downloads and loads a model once for all agents)`,
    );
    console.log('');
    console.log(`deployment of v2 (N = ${deviceCount}), times from the POST:`);
    console.log(`${pad('  POST answered')}${span(rollout.answered)}`);
    console.log(
      `${pad('  desired state published')}${hubAt(notifyPublish?.at, o)} (broker done ${hubAt(notifyPublish?.done ?? undefined, o)})`,
    );
    console.log(describeReceipts('  desired state at all agents', rollout.receipts?.[0], o));
    console.log(
      `${describe('  all notified (observer)', rollout.observed.notified, o)}   ${goal(notifiedMs, rollout.observed.notified?.reached === deviceCount)}`,
    );
    console.log(describe('  all staged (observer)', rollout.observed.staged, o));
    console.log(
      `${pad('  cutover (hub: all staged)')}${hubAt(events.get('cutover'), o)} event, ${hubAt(cutoverPublish?.at, o)} published`,
    );
    console.log(describeReceipts('  cutover state at all agents', rollout.receipts?.[1], o));
    console.log(describe('  all active (observer)', rollout.observed.active, o));
    console.log(`${pad('  succeeded (hub)')}${hubAt(events.get('succeeded'), o)}`);
    for (const m of ['notified', 'staged', 'active'] as const)
      console.log(
        `${pad(`  hub: last ${m} received/written`)}${span(lastAfter(rollout.received[m], o))} / ${span(lastAfter(rollout.recorded[m], o))}`,
      );
    console.log('');
    console.log(`manual rollback (N = ${deviceCount}), times from the POST:`);
    console.log(
      `${pad('  POST answered (hub: rolled_back)')}${span(rollback.answered)} (event ${hubAt(rollbackEvents.get('rolled_back'), rollback.origin)})`,
    );
    console.log(
      `${pad('  desired state published')}${hubAt(rollbackPublish?.at, rollback.origin)} (broker done ${hubAt(rollbackPublish?.done ?? undefined, rollback.origin)})`,
    );
    console.log(
      describeReceipts('  desired state at all agents', rollback.receipts?.[0], rollback.origin),
    );
    console.log(
      `${describe('  all back on v1 (observer)', rollback.observed.back, rollback.origin)}   ${goal(backMs, rollback.observed.back?.reached === deviceCount)}`,
    );
    console.log(
      `${pad('  hub: last back received/written')}${span(lastAfter(rollback.received.back, rollback.origin))} / ${span(lastAfter(rollback.recorded.back, rollback.origin))}`,
    );
    console.log(
      `${pad('  hub progress after rollback')}${JSON.stringify(rolledBackDetail.progress.phases)}`,
    );
    console.log('');
    console.log(
      `${pad('peak RSS')}hub ${MiB(rss.peaks.get('hub') ?? 0)}, simulator ${MiB(rss.peaks.get('simulator') ?? 0)}` +
        (rss.peaks.has('observer') ? `, observer ${MiB(rss.peaks.get('observer')!)}` : ''),
    );
    const wall = (p: PhaseFigures, last: MilestoneResult | undefined) =>
      Math.max(1, (last?.times?.last ?? p.origin + 1) - p.origin);
    console.log(describeStats('storm', storm, stormMs ?? 1));
    console.log(
      describeStats('deployment of v2', rollout.stats, wall(rollout, rollout.observed.active)),
    );
    console.log(describeStats('rollback', rollback.stats, wall(rollback, rollback.observed.back)));
    console.log(describeDb('hub database, deployment of v2', rollout.db));
    console.log(describeDb('hub database, rollback', rollback.db));
    console.log(
      `${pad('state messages (observer)')}deployment ${rollout.messages} ${JSON.stringify(rollout.phases)}, rollback ${rollback.messages} ${JSON.stringify(rollback.phases)}`,
    );
    console.log(
      `${pad('hub state batches written')}deployment ${rollout.reportBatches}, rollback ${rollback.reportBatches}`,
    );
    const strays = [...rollout.observed.active!.deployments].filter((d) => d !== deploymentId);
    if (strays.length > 0) console.log(`WARNING: devices reported other deployments: ${strays}`);
    if (fleetNow.connected < deviceCount)
      console.log(
        `WARNING: only ${fleetNow.connected} of ${deviceCount} agents connected at the end`,
      );
    console.log(
      `${pad('simulator')}${fleetNow.connects} MQTT connects and ${fleetNow.closes} closes by ${deviceCount} agents, ${fleetNow.downloads} download(s)`,
    );
    if (fleetNow.unhandled > 0)
      console.log(
        `WARNING: ${fleetNow.unhandled} unhandled rejections in the agents; the first:\n${fleetNow.firstUnhandled}`,
      );
    for (const [text, n] of fleetNow.warnings) console.log(`  agent warning x${n}: ${text}`);
    console.log(
      `load average at the end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } catch (error) {
    // What the agents went through helps to read the failure.
    if (fleet?.alive) {
      const s = await fleet
        .request({ type: 'progress' }, 'progress', 10_000)
        .then((r) => r.stats)
        .catch(() => null);
      if (s) {
        console.error(
          `simulator: ${s.connected} connected, ${s.connects} connects, ${s.closes} closes, ${s.unhandled} unhandled rejections${s.firstUnhandled ? ` (first: ${s.firstUnhandled})` : ''}`,
        );
        for (const [text, n] of s.warnings) console.error(`  agent warning x${n}: ${text}`);
      }
    }
    throw error;
  } finally {
    await fleet?.close({ type: 'close' }, 'closed', 60_000);
    await observer?.close().catch(() => undefined);
    tap?.close();
    await hub.stop();
    await dropDatabase();
  }
}

await runBench('bench:rollout', { ...cleanup, release: dropDatabase }, TOTAL_TIMEOUT_MS, main);
