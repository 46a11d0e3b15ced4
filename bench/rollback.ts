// Issue 6's benchmark: a degraded canary on N simulated devices, rolled back by the rules. The
// devices are the edge agent's FleetSimulator in a process of their own (bench/rollout-fleet.ts)
// with a frame feeder: every agent's telemetry window gets synthetic frames by the model it serves
// (v1 fast, v2 at half the FPS and twice the latency), and the agents publish their windows
// themselves. The hub runs in this process with a real influxd (or the embedded store), on the
// product's defaults (rules, rollout loop). The figure: from the first telemetry window of the new
// version that the rules may judge (the policy ignores the first warmup_s of a step) until the
// whole cohort reported serving the old model again, seen by an MQTT observer in its own process.
// Goal: at most one rules interval + 1 s. Prints figures; asserts nothing; all on 127.0.0.1.
//   npm run bench:rollback [-- N] [--type=canary|blue-green] [--rules-interval=S]
//                          [--telemetry-interval=S] [--cohort=PCT] [--store=influx|embedded]
//                          [--postgres[=URL]] [--profile=FILE]
// --type=blue-green: v2 goes to every device blue/green; after the cutover the deployment observes
// it (observe_s, default 300) and the rules judge it against the same devices' windows from before
// the cutover: the figure runs from the first judged post-cutover window to every device back on v1.
// N: devices (default 10000). --rules-interval: the hub's RULES_INTERVAL_S (default 10, the
// product's). --telemetry-interval: the agents' SENTINEL_TELEMETRY_INTERVAL_S (default 10, the
// agent's). --cohort: the canary's first step in percent (default 10). --store=embedded: the
// telemetry table of the hub's own database instead of InfluxDB. --postgres: the hub on a scratch
// database of that PostgreSQL server (default DATABASE_URL, else postgres://postgres@127.0.0.1/postgres;
// created and dropped) instead of the embedded PGlite. --profile=FILE: a CPU
// profile of the hub from the cohort serving v2 until it is back (FILE.cpuprofile, and a summary).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataSource } from 'typeorm';
import { ALL_DEVICE_TELEMETRY, groupDesiredTopic, inCohort } from '@sentinel/broker';
import { BrokerService } from '../src/broker/broker.service.js';
import { MetricsService } from '../src/metrics/metrics.service.js';
import { DEFAULT_RULES } from '../src/rules/domain/health.js';
import { RulesService } from '../src/rules/rules.service.js';
import { TELEMETRY_STORE, type TelemetryStore } from '../src/telemetry/telemetry-store.js';
import { deploy, getDeployment, type DeploymentDetail } from '../test/support/deployments.js';
import { createGroup } from '../test/support/fleet.js';
import { startHub, type InProcessHub } from '../test/support/hub.js';
import { skipWithoutInflux, startInflux, type InfluxServer } from '../test/support/influx.js';
import { fastModel, goldenMismatchModel } from '../test/support/onnx-models.js';
import { summariseProfile } from './ingest-profile.js';
import {
  ChildLink,
  CpuProfiler,
  ProcessMeter,
  wallClockMs,
  type FleetReply,
  type FleetRequest,
  type MilestoneResult,
  type ProcessStats,
  type TelemetryPlan,
} from './rollout-ipc.js';
import {
  childObserver,
  createDevices,
  openFileLimits,
  pushVersion,
  RssSampler,
  runBench,
  scratchDatabase,
  type Scratch,
  waitForStatus,
  type FleetLink,
  type Observer,
} from './rollout-hub.js';

const args = process.argv.slice(2);
const positional = args.filter((a) => !a.startsWith('--'));
const flag = (name: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? null;
const deviceCount = Number(positional[0] ?? 10_000);
const rulesIntervalS = Number(flag('rules-interval') ?? 10);
const telemetryIntervalS = Number(flag('telemetry-interval') ?? 10);
const cohortPercent = Number(flag('cohort') ?? 10);
const kind = flag('type') ?? 'canary';
const store = flag('store') ?? 'influx';
const profileFile = flag('profile');
const postgresFlag = args.find((a) => a === '--postgres' || a.startsWith('--postgres='));
const POSTGRES_SERVER =
  postgresFlag === undefined
    ? undefined
    : postgresFlag.slice('--postgres='.length) ||
      process.env.DATABASE_URL ||
      'postgres://postgres@127.0.0.1:5432/postgres';

if (
  !Number.isInteger(deviceCount) ||
  deviceCount < 1 ||
  positional.length > 1 ||
  !(rulesIntervalS >= 0.1) ||
  !(telemetryIntervalS > 0) ||
  !(cohortPercent > 0 && cohortPercent < 100) ||
  !['influx', 'embedded'].includes(store) ||
  !['canary', 'blue-green'].includes(kind) ||
  args.some(
    (a) =>
      a.startsWith('--') &&
      !/^--(type|rules-interval|telemetry-interval|cohort|store|profile|postgres)=/.test(a) &&
      a !== '--postgres',
  )
) {
  console.error(
    'usage: node dist/bench/rollback.js [DEVICES] [--type=canary|blue-green] [--rules-interval=S] [--telemetry-interval=S] [--cohort=PCT] [--store=influx|embedded] [--postgres[=URL]] [--profile=FILE]',
  );
  process.exit(2);
}
if (store === 'influx' && skipWithoutInflux) {
  console.error(`bench:rollback needs InfluxDB: ${skipWithoutInflux} (or --store=embedded)`);
  process.exit(2);
}

const GROUP = 'rollback';
const ENVIRONMENT = 'production';
const SALT = 'bench-rollback';
const V1 = '1.0.0';
const V2 = '2.0.0';
/** Synthetic frames: v2 is the degraded one, half the FPS (the rules' limit: -10 %, significant). */
const PROFILE_V1 = { fps: 20, latencyMs: 25 };
const PROFILE_V2 = { fps: 10, latencyMs: 60 };
const GOAL_MS = rulesIntervalS * 1000 + 1000;
const STORM_TIMEOUT_MS = 40_000 + deviceCount * 50;
const STEP_TIMEOUT_MS = 60_000 + deviceCount * 10;
/** The rules need warmup_s, then a pass; everything past that is slack for a loaded machine. */
const ROLLBACK_TIMEOUT_MS =
  (DEFAULT_RULES.warmup_s + 2 * rulesIntervalS + 2 * telemetryIntervalS) * 1000 + STEP_TIMEOUT_MS;
const TOTAL_TIMEOUT_MS = 10 * 60_000 + deviceCount * 150;
const FLEET_CONCURRENCY = 200;
const CONNECTS_IN_FLIGHT = 100;
const FLEET_JS = fileURLToPath(new URL('./rollout-fleet.js', import.meta.url));

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const span = (ms: number | null | undefined) =>
  ms === null || ms === undefined || Number.isNaN(ms)
    ? 'n/a'
    : Math.abs(ms) < 1_000
      ? `${ms.toFixed(0)} ms`
      : `${(ms / 1000).toFixed(2)} s`;
const pad = (label: string, width = 42) => label.padEnd(width);

// --- taps inside the hub ------------------------------------------------------------------------

/**
 * Every telemetry window of the new version the hub's broker received (when, and its `ts`), and the
 * mean FPS and window length of each version's windows (what the feeder delivered).
 */
class TelemetryTap {
  readonly windows: { at: number; ts: number; fps: number }[] = [];
  readonly versions = new Map<string, { windows: number; fps: number; windowS: number }>();
  messages = 0;

  static async attach(hub: InProcessHub, version: string): Promise<TelemetryTap> {
    const tap = new TelemetryTap();
    await hub.app.get(BrokerService).mqtt.subscribe(ALL_DEVICE_TELEMETRY, (_topic, payload) => {
      const at = wallClockMs();
      tap.messages++;
      try {
        const m = JSON.parse(payload.toString('utf8')) as {
          model_version?: string | null;
          ts: string;
          fps: number;
          window_s: number;
        };
        const sums = tap.versions.get(m.model_version ?? 'none') ?? {
          windows: 0,
          fps: 0,
          windowS: 0,
        };
        sums.windows++;
        sums.fps += m.fps;
        sums.windowS += m.window_s;
        tap.versions.set(m.model_version ?? 'none', sums);
        if (m.model_version === version) tap.windows.push({ at, ts: Date.parse(m.ts), fps: m.fps });
      } catch {
        // the hub counts it as invalid
      }
    });
    return tap;
  }

  /** The first window with its `ts` at or after `from` (the rules take windows by their ts). */
  firstFrom(from: number) {
    return this.windows.reduce<(typeof this.windows)[number] | null>(
      (first, w) => (w.ts >= from && (!first || w.at < first.at) ? w : first),
      null,
    );
  }

  describe(): string {
    return [...this.versions]
      .map(
        ([v, s]) =>
          `${v}: ${s.windows} windows, mean ${(s.fps / s.windows).toFixed(2)} fps over ${(s.windowS / s.windows).toFixed(2)} s`,
      )
      .join('; ');
  }
}

/**
 * The rules' evaluations of a deployment (start, end: regular passes and a step's first judgement
 * alike), their queries of the telemetry store, and the group's desired-state publishes.
 */
class HubTap {
  readonly passes: { start: number; end: number }[] = [];
  readonly queries: { start: number; end: number; versions: number }[] = [];
  readonly publishes: { at: number; done: number | null; activate: string | null }[] = [];

  constructor(hub: InProcessHub) {
    const rules = hub.app.get(RulesService);
    const evaluateOne = rules.evaluateOne.bind(rules);
    rules.evaluateOne = async (...args: Parameters<RulesService['evaluateOne']>) => {
      const pass = { start: wallClockMs(), end: NaN };
      this.passes.push(pass);
      try {
        return await evaluateOne(...args);
      } finally {
        pass.end = wallClockMs();
      }
    };
    const store = hub.app.get<TelemetryStore>(TELEMETRY_STORE);
    const aggregate = store.aggregateByDevice.bind(store);
    store.aggregateByDevice = async (query) => {
      const entry = { start: wallClockMs(), end: NaN, versions: 0 };
      this.queries.push(entry);
      const result = await aggregate(query);
      entry.end = wallClockMs();
      entry.versions = new Set(result.map((r) => r.model_version)).size;
      return result;
    };
    const transport = hub.app.get(BrokerService).mqtt;
    const publish = transport.publish.bind(transport);
    const topic = groupDesiredTopic(GROUP);
    transport.publish = (t, payload, options) => {
      if (t !== topic) return publish(t, payload, options);
      const entry = {
        at: wallClockMs(),
        done: null as number | null,
        activate: (JSON.parse(payload.toString()) as { activate?: string }).activate ?? null,
      };
      this.publishes.push(entry);
      return publish(t, payload, options).then(() => void (entry.done = wallClockMs()));
    };
  }
}

async function counter(hub: InProcessHub, name: 'received' | 'written' | 'dropped') {
  const metrics = hub.app.get(MetricsService);
  const metric = {
    received: metrics.telemetryReceived,
    written: metrics.telemetryWritten,
    dropped: metrics.telemetryDropped,
  }[name];
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

// --- main ---------------------------------------------------------------------------------------

const cleanup: {
  dirs: string[];
  children: { kill(): void }[];
  influx: InfluxServer | null;
  database: Scratch | null;
} = { dirs: [], children: [], influx: null, database: null };

async function release(): Promise<void> {
  const { influx, database } = cleanup;
  cleanup.influx = null;
  cleanup.database = null;
  await influx?.stop().catch(() => undefined);
  await database
    ?.drop()
    .catch((error: Error) => console.error(`could not drop ${database.name}: ${error.message}`));
}

function describe(label: string, result: MilestoneResult, origin: number): string {
  const t = result.times;
  const after = (x: number | undefined) => span(x === undefined ? null : x - origin);
  let line = `${pad(label)}${after(t?.last)}   (first ${after(t?.first)}, p50 ${after(t?.p50)}, p99 ${after(t?.p99)})`;
  if (result.reached < result.expected || result.timedOut)
    line += `   ONLY ${result.reached} of ${result.expected} (timed out)`;
  if (result.failures.length > 0)
    line += `   failures: ${result.failures.map(([r, n]) => `${r} x${n}`).join(', ')}`;
  return line;
}

function cpuLine(name: string, s: ProcessStats, wallMs: number): string {
  return `${name} CPU ${((s.cpuMs / wallMs) * 100).toFixed(0)} % of a core, loop busy ${(s.elu * 100).toFixed(0)} %`;
}

async function main(): Promise<void> {
  const limits = openFileLimits();
  const fileLimit = Math.min(limits.hard, 65_536);
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-rollback-'));
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
  if (limits.soft < deviceCount + 1_000)
    console.log(`WARNING: run \`ulimit -n ${deviceCount + 1_000}\` first (the hub's connections)`);

  if (store === 'influx') cleanup.influx = await startInflux();
  if (POSTGRES_SERVER) cleanup.database = await scratchDatabase(POSTGRES_SERVER);
  const hub = await startHub({
    DATA_DIR: hubDir,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
    RULES_INTERVAL_S: String(rulesIntervalS),
    ...(cleanup.influx ? { INFLUX_URL: cleanup.influx.url, INFLUX_DB: 'bench_rollback' } : {}),
    ...(cleanup.database ? { DATABASE_URL: cleanup.database.url } : {}),
  });
  let fleet: FleetLink | null = null;
  let observer: Observer | null = null;
  try {
    await createGroup(hub, GROUP, ENVIRONMENT);
    // One at a time on PGlite (pglite-socket runs the pool on one session; electric-sql/pglite#1046).
    const devices = await createDevices(hub, deviceCount, GROUP, cleanup.database ? 8 : 1);
    const v1 = await pushVersion(hub, 'rollback-bench', V1, fastModel());
    const v2 = await pushVersion(hub, 'rollback-bench', V2, goldenMismatchModel());
    // Blue/green: every device is judged (against its own windows before the cutover).
    const cohort = devices
      .map((d) => d.id)
      .filter(
        (id) => kind === 'blue-green' || inCohort(id, { percent: cohortPercent, salt: SALT }),
      );
    if (cohort.length === 0)
      throw new Error(`a ${cohortPercent} % cohort of ${deviceCount} is empty`);
    const devicesFile = join(dataDir, 'devices.json');
    writeFileSync(devicesFile, JSON.stringify(devices), { mode: 0o600 });
    const mqttUrl = `mqtt://127.0.0.1:${hub.mqtt!.port}`;
    const tap = new HubTap(hub);
    const telemetry = await TelemetryTap.attach(hub, V2);
    observer = await childObserver(mqttUrl, adminToken, cohort, 1_024);
    cleanup.children.push(observer);

    const plan: TelemetryPlan = {
      intervalS: telemetryIntervalS,
      profiles: { [v1.sha256]: PROFILE_V1, [v2.sha256]: PROFILE_V2 },
    };
    fleet = ChildLink.start<FleetRequest, FleetReply>('simulator process', FLEET_JS, {
      fileLimit,
      heapMb: 8_192,
    });
    cleanup.children.push(fleet);
    const rss = new RssSampler(
      new Map([
        ['hub', process.pid],
        ['simulator', fleet.pid],
        ['observer', observer.pid],
      ]),
    );
    const stormStarted = wallClockMs();
    await fleet.request(
      {
        type: 'start',
        devicesFile,
        mqttUrl,
        hubUrl: hub.url,
        group: GROUP,
        dataDir: fleetDir,
        concurrency: FLEET_CONCURRENCY,
        connectsInFlight: CONNECTS_IN_FLIGHT,
        telemetry: plan,
      },
      'started',
      STORM_TIMEOUT_MS,
    );
    console.log(`storm: ${deviceCount} agents connected in ${span(wallClockMs() - stormStarted)}`);

    // v1 everywhere, so that the canary has a previous model to go back to.
    const warmup = await deploy(hub, {
      model_id: v1.id,
      environment: ENVIRONMENT,
      deployment_type: 'blue-green',
      target: GROUP,
    });
    await waitForStatus(hub, warmup.id, ['succeeded'], STEP_TIMEOUT_MS);
    // A whole rules window (window_s) of v1 telemetry from every device before the deployment: the
    // baseline of a blue/green deployment, and of canary devices judged against their own past.
    const steadyMs = (DEFAULT_RULES.window_s + telemetryIntervalS) * 1000 + 1_000;
    await new Promise((r) => setTimeout(r, steadyMs));
    console.log(
      `warm-up: v1 on all ${deviceCount} devices, then ${span(steadyMs)} of v1 telemetry`,
    );

    const meter = new ProcessMeter();
    const fleetStats = () =>
      fleet!.request({ type: 'stats' }, 'stats', 30_000).then((r) => r.stats);
    const observerStats = () => observer!.stats();
    await fleetStats();
    await observerStats();
    const before = {
      received: await counter(hub, 'received'),
      written: await counter(hub, 'written'),
      dropped: await counter(hub, 'dropped'),
    };

    // The canary: the cohort stages v2 and serves it; the rules see it degraded and roll back.
    await observer.arm({ kind: 'deploy', exclude: [warmup.id], sha256: v2.sha256 });
    const created = wallClockMs();
    const canary = await deploy(
      hub,
      kind === 'blue-green'
        ? {
            model_id: v2.id,
            environment: ENVIRONMENT,
            deployment_type: 'blue-green',
            target: GROUP,
          }
        : {
            model_id: v2.id,
            environment: ENVIRONMENT,
            deployment_type: 'canary',
            target: GROUP,
            canary: { steps: [cohortPercent, 100], step_interval_s: 3600, salt: SALT },
          },
    );
    const active = await observer.wait('active', STEP_TIMEOUT_MS);
    const statusNow = (await getDeployment(hub, canary.id)).status;
    if (statusNow !== 'in_progress')
      throw new Error(
        `the canary is ${statusNow} before the whole cohort served v2 (${active.reached} of ${active.expected} did); raise warmup_s`,
      );
    const profiler = profileFile ? new CpuProfiler() : null;
    await profiler?.start();
    await fleet.request({ type: 'arm' }, 'armed', 30_000);
    await observer.arm({ kind: 'rollback', sha256: v1.sha256 });
    const back = await observer.wait('back', ROLLBACK_TIMEOUT_MS);
    const { receipts } = await fleet.request({ type: 'receipts' }, 'receipts', 30_000);
    if (profiler) await profiler.stop(profileFile!);
    const ended = wallClockMs();
    const detail: DeploymentDetail = await getDeployment(hub, canary.id);
    rss.stop();
    const hubCpu = meter.take();
    const simulator = await fleetStats();
    const watcher = await observerStats();
    const after = {
      received: await counter(hub, 'received'),
      written: await counter(hub, 'written'),
      dropped: await counter(hub, 'dropped'),
    };

    // --- figures --------------------------------------------------------------------------------
    const [row]: { step_started_at: Date }[] = await hub.app
      .get(DataSource)
      .query('SELECT step_started_at FROM deployments WHERE id = $1', [canary.id]);
    const stepStarted = row!.step_started_at.getTime();
    const settled = stepStarted + DEFAULT_RULES.warmup_s * 1000;
    const event = detail.events.find((e) => e.type === 'rolled_back') as
      (DeploymentDetail['events'][number] & { at: string }) | undefined;
    const rolledBackAt = event ? Date.parse(event.at) : NaN;
    const firstV2 = telemetry.firstFrom(-Infinity);
    const firstJudged = telemetry.firstFrom(settled);
    const t0 = firstJudged?.at ?? NaN;
    const detecting = tap.passes.find((p) => p.start <= rolledBackAt && rolledBackAt <= p.end);
    const passesAfterT0 = tap.passes.filter((p) => p.end >= t0 && p.start <= rolledBackAt);
    const rollbackPublish = detecting && tap.publishes.find((p) => p.at >= detecting.start);
    const totalMs = (back.times?.last ?? NaN) - t0;
    const complete = back.reached === back.expected && event?.actor === 'rules';

    console.log('');
    console.log(
      kind === 'blue-green'
        ? `${pad('devices')}${deviceCount} simulated agents (FleetSimulator, own process), one group; blue/green to all, judged after the cutover against the same devices before it`
        : `${pad('devices')}${deviceCount} simulated agents (FleetSimulator, own process), one group; canary cohort ${cohortPercent} % = ${cohort.length} devices`,
    );
    console.log(
      `${pad('telemetry')}${store === 'influx' ? 'InfluxDB 1.x (influxd, v1 API)' : 'embedded (SQL table, PGlite)'}; a window per agent every ${telemetryIntervalS} s; synthetic frames: v1 ${PROFILE_V1.fps} fps ~${PROFILE_V1.latencyMs} ms, v2 ${PROFILE_V2.fps} fps ~${PROFILE_V2.latencyMs} ms`,
    );
    console.log(
      `${pad('database')}${cleanup.database ? `PostgreSQL ${cleanup.database.version} (scratch database, dropped at the end)` : "PGlite (embedded, in a worker thread of the hub's process)"}`,
    );
    console.log(
      `${pad('rules')}every ${rulesIntervalS} s (RULES_INTERVAL_S), default policy: warmup_s ${DEFAULT_RULES.warmup_s}, window_s ${DEFAULT_RULES.window_s}, fps drop > ${DEFAULT_RULES.fps_drop_pct} %, min ${DEFAULT_RULES.min_devices} device / ${DEFAULT_RULES.min_samples} windows`,
    );
    console.log('');
    console.log(
      kind === 'blue-green'
        ? 'times from the cutover (the hub publishes activate: new to the group):'
        : 'times from the canary step start (the hub publishes the cohort its desired state):',
    );
    const fromStep = (t: number | undefined | null) =>
      span(t === undefined || t === null ? null : t - stepStarted);
    console.log(describe('  cohort all serving v2 (observer)', active, stepStarted));
    console.log(`${pad('  first v2 window received')}${fromStep(firstV2?.at)}`);
    console.log(`${pad('  warm-up over (rules judge from here)')}${fromStep(settled)}`);
    console.log(
      `${pad('  first judged v2 window (T0)')}${fromStep(t0)} (ts ${fromStep(firstJudged?.ts)}, ${firstJudged?.fps ?? 'n/a'} fps)`,
    );
    console.log('');
    console.log('times from T0, the first v2 window the rules may judge:');
    for (const pass of passesAfterT0) {
      const queries = tap.queries.filter((q) => q.start >= pass.start && q.end <= pass.end);
      console.log(
        `${pad(`  rules evaluation`)}${span(pass.start - t0)} .. ${span(pass.end - t0)} (${span(pass.end - pass.start)}; telemetry query ${queries.map((q) => span(q.end - q.start)).join(', ')})${pass === detecting ? '  <- degraded, rolled back' : ''}`,
      );
    }
    console.log(`${pad('  rollback event (rules)')}${span(rolledBackAt - t0)}`);
    console.log(
      `${pad('  rollback published')}${span((rollbackPublish?.at ?? NaN) - t0)} (broker done ${span((rollbackPublish?.done ?? NaN) - t0)})`,
    );
    const delivered = receipts?.[0];
    console.log(
      `${pad('  rollback at all agents (MQTT clients)')}${
        delivered
          ? `${span(delivered.times.last - t0)}   (first ${span(delivered.times.first - t0)}, p50 ${span(delivered.times.p50 - t0)}; ${delivered.received} agents)`
          : 'n/a'
      }`,
    );
    console.log(
      `${describe('  cohort all back on v1 (observer)', back, t0)}   goal <= ${span(GOAL_MS)}: ${
        !complete
          ? 'NOT REACHED'
          : totalMs <= GOAL_MS
            ? 'met'
            : `missed by ${span(totalMs - GOAL_MS)}`
      }`,
    );
    if (detecting)
      console.log(
        `${pad('  of which')}waiting for an evaluation ${span(detecting.start - t0)}, the evaluation ${span(rolledBackAt - detecting.start)}, rollback to all back ${span((back.times?.last ?? NaN) - rolledBackAt)}`,
      );
    console.log(`${pad('  from the step start')}${span((back.times?.last ?? NaN) - stepStarted)}`);
    console.log(
      `${pad('  event')}actor ${event?.actor ?? 'n/a'}: ${String((event?.figures as { why?: string } | undefined)?.why ?? 'no rollback event')}`,
    );
    console.log('');
    const wall = ended - created;
    console.log(
      `${pad('telemetry during the canary')}${after.received - before.received} received, ${after.written - before.written} written, ${after.dropped - before.dropped} dropped (hub metrics); ${telemetry.windows.length} v2 windows`,
    );
    console.log(`${pad('telemetry windows since the start')}${telemetry.describe()}`);
    console.log(
      `${pad('canary to all back')}${cpuLine('hub', hubCpu, wall)}; ${cpuLine('simulator', simulator, wall)}; ${cpuLine('observer', watcher, wall)}`,
    );
    console.log(
      `${pad('peak RSS')}hub ${MiB(rss.peaks.get('hub') ?? 0)}, simulator ${MiB(rss.peaks.get('simulator') ?? 0)}, observer ${MiB(rss.peaks.get('observer') ?? 0)}`,
    );
    if (simulator.unhandled > 0)
      console.log(`WARNING: ${simulator.unhandled} unhandled rejections in the agents`);
    for (const [text, n] of simulator.warnings) console.log(`  agent warning x${n}: ${text}`);
    console.log(
      `load average at the end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    if (profileFile) {
      console.log(`hub CPU profile, cohort on v2 until all back: ${profileFile}`);
      for (const line of summariseProfile(profileFile)) console.log(`  ${line}`);
    }
    if (!complete) process.exitCode = 1;
  } finally {
    await fleet?.close({ type: 'close' }, 'closed', 60_000).catch(() => undefined);
    await observer?.close().catch(() => undefined);
    await hub.stop();
    await release();
  }
}

await runBench('bench:rollback', { ...cleanup, release: release }, TOTAL_TIMEOUT_MS, main);
