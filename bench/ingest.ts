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
//                        [--outage=S]
// --profile=DIR: a CPU profile of the hub over the load steps and the drain after them
// (DIR/hub-ingest.cpuprofile), with a summary of where its time went.
// --outage=S: after the ramp, InfluxDB stopped for S seconds at the first rate of --rates, then
// started again: what the hub receives, drops and costs while its buffer fills and overflows, how
// long GET /metrics takes meanwhile, and how long it takes to catch up (e.g. --rates=10000
// --outage=40 overflows the default 200,000-point buffer after 20 s).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseMessage } from '@sentinel/broker';
import type { Principal } from '../src/auth/auth.decorators.js';
import { FleetService } from '../src/fleet/fleet.service.js';
import { createGroup } from '../test/support/fleet.js';
import { spawnHub, startHub, type HubProcess } from '../test/support/hub.js';
import { startInflux, type InfluxServer } from '../test/support/influx.js';
import { rssOf } from '../test/support/rss.js';
import { SAMPLE_PLACEMENT, telemetryPayload, type DeviceLogin } from './ingest-ipc.js';
import { summariseProfile } from './ingest-profile.js';
import {
  backlogOf,
  ClientsProcess,
  cpuMsOf,
  hubCounters,
  influxDirOf,
  machineTicks,
  influxdPid,
  maybeCounters,
  sleep,
  snapshot,
  type Running,
} from './ingest-procs.js';
import { influxCount, RAW_BATCH, rawWrite } from './ingest-raw.js';
import {
  count,
  HUB_BATCH,
  HUB_FLUSH_S,
  measureStep,
  outage,
  OUTAGE_SAMPLE_MS,
  perS,
  RECOVERY_TIMEOUT_MS,
  SAMPLE_TIMEOUT_MS,
  setRate,
  WARMUP_MS,
  type Step,
} from './ingest-steps.js';

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
const outageS = flag('outage') === null ? null : Number(flag('outage'));

if (
  !Number.isInteger(deviceCount) ||
  deviceCount < 1 ||
  rates.some((r) => !Number.isFinite(r) || r <= 0) ||
  !Number.isInteger(clientProcesses) ||
  clientProcesses < 1 ||
  clientProcesses > deviceCount ||
  !(windowS >= 1) ||
  (outageS !== null && !(outageS >= 1)) ||
  args.some((a) => a.startsWith('--') && !/^--(rates|clients|window|profile|outage)=/.test(a))
) {
  console.error(
    'usage: node dist/bench/ingest.js [DEVICES] [--rates=R1,R2,...] [--clients=N] [--window=SECONDS] [--profile=DIR] [--outage=SECONDS]',
  );
  process.exit(2);
}

const HUB_DB = 'bench_hub';
const RAW_MIN_POINTS = 100_000;
const RAW_MAX_POINTS = 600_000;
const CONNECTS_IN_FLIGHT = 100;
const CLIENT_TIMEOUT_MS = 60_000;
const DRAIN_TIMEOUT_MS = 30_000;
const TOTAL_TIMEOUT_MS = 4 * 60_000;
const PROFILER_JS = fileURLToPath(new URL('./ingest-profiler.js', import.meta.url));
const BENCH_PRINCIPAL: Principal = {
  kind: 'token',
  tokenId: 'bench-ingest',
  name: 'bench-ingest',
  role: 'admin',
};

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const pct = (n: number) => `${n.toFixed(0)} %`;
const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');

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
    await createGroup(hub, SAMPLE_PLACEMENT.group, SAMPLE_PLACEMENT.environment);
    const fleet = hub.app.get(FleetService);
    const width = String(deviceCount - 1).length;
    const devices: DeviceLogin[] = [];
    // One at a time: pglite-socket runs the pool's connections on one session (electric-sql/pglite#1046).
    for (let index = 0; index < deviceCount; index++) {
      const id = `bench-${String(index).padStart(width, '0')}`;
      const issued = await fleet.createDevice(
        { id, group: SAMPLE_PLACEMENT.group },
        BENCH_PRINCIPAL,
      );
      devices.push({ id, password: issued.secret });
    }
    return devices;
  } finally {
    await hub.stop();
  }
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
    Number.isNaN(s.scrapeMaxMs)
      ? `> ${SAMPLE_TIMEOUT_MS / 1000} s`.padStart(9)
      : `${s.scrapeMaxMs.toFixed(0)} ms`.padStart(9),
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
    run: Running | null;
    influxDir: string | null;
  } = { clients: [], hub: null, influx: null, run: null, influxDir: null };
  process.on('exit', () => {
    for (const c of state.clients) c.child.kill('SIGKILL');
    state.hub?.child.kill('SIGKILL');
    // startInflux's own stop() is async; here only a synchronous kill and clean-up will do.
    const pid = state.run?.influxdPid ?? null;
    if (state.influx && pid !== null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (state.influx && state.influxDir) rmSync(state.influxDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
  const totalTimeoutMs =
    TOTAL_TIMEOUT_MS + (outageS === null ? 0 : outageS * 1000 + RECOVERY_TIMEOUT_MS);
  setTimeout(() => {
    console.error(`bench:ingest gave up after ${(totalTimeoutMs / 60_000).toFixed(1)} min`);
    process.exit(1);
  }, totalTimeoutMs).unref();

  const sample = telemetryPayload('bench-0', Date.now(), 1);
  const check = parseMessage('telemetry', sample);
  if (!check.ok) throw new Error(`the bench's telemetry payload is invalid: ${check.error}`);

  const started = performance.now();
  // The load average lags (it still counts a run that just ended): measure one second instead.
  const quiet0 = machineTicks();
  await sleep(1_000);
  const quiet1 = machineTicks();
  const busyBefore = ((quiet1.busy - quiet0.busy) / (quiet1.total - quiet0.total)) * 100;
  console.log(
    `machine: ${cpus().length} cores, node ${process.version}, ${pct(busyBefore)} busy before the bench (load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')})`,
  );
  if (busyBefore > 20)
    console.log(
      'WARNING: the machine is already busy; the figures below share it (see the "others" column)',
    );
  const influx = await startInflux();
  state.influx = influx;
  const firstInfluxd = influxdPid();
  state.influxDir = influxDirOf(firstInfluxd);
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
    // The devices here send far more than an agent does: no per-device telemetry limit.
    MQTT_TELEMETRY_RATE: '0',
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
  const run: Running = { hub, influxdPid: firstInfluxd, clients: state.clients };
  state.run = run;
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
    const step = await measureStep(run, offered, windowS);
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
    const counters = await maybeCounters(hub, SAMPLE_TIMEOUT_MS);
    if (!counters) continue;
    final = counters;
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

  // The raw reference before any outage: the hub, idle now, must not be working off a backlog.
  const rawPoints = Math.min(RAW_MAX_POINTS, Math.max(RAW_MIN_POINTS, final.written));
  const ids = devices.map((d) => d.id);
  const raw1 = await rawWrite(influx, run.influxdPid!, ids, rawPoints, 1);
  const raw4 = await rawWrite(influx, run.influxdPid!, ids, rawPoints, 4);
  const rawCounts = [
    await influxCount(influx, 'bench_raw_1', 'autogen'),
    await influxCount(influx, 'bench_raw_4', 'autogen'),
  ];

  const outageRate = rates[0];
  let down: Awaited<ReturnType<typeof outage>> | null = null;
  if (outageS !== null) {
    console.log(
      `outage: InfluxDB stopped for ${outageS} s at ${perS(outageRate)} (TELEMETRY_BUFFER_POINTS default)`,
    );
    down = await outage(run, influx, outageRate, outageS);
  }

  await Promise.all(state.clients.map((c) => c.close()));
  state.clients = [];

  await hub.stop();
  state.hub = null;
  await influx.stop();
  state.influx = null;

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
    'step    offered      sent  received   written  dropped  backlog^   growth  hub CPU hub RSS^ influxd  devices  machine  others  metrics^  kept up',
  );
  for (const s of steps) console.log(`  ${describeStep(s)}`);
  console.log(
    '  (per second over each window; CPU in % of one core, machine in % of all cores, others = processes not of this bench, metrics = GET /metrics time; ^ peak in the window)',
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
    `ratio            sustained hub / raw: ${ratio(hubRate, rate1)} of 1 writer, ${ratio(hubRate, rate4)} of 4 writers (goal >= 0.8); best hub written/s in any step / raw 1 writer: ${ratio(bestWritten, rate1)} (raw has the machine to itself: no MQTT, JSON, devices)`,
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
  if (down) {
    console.log('');
    console.log(
      `InfluxDB outage  ${outageS} s at ${perS(outageRate)} offered, then back; every ${OUTAGE_SAMPLE_MS / 1000} s:`,
    );
    console.log(
      '       t  influxdb      sent  received   written   dropped   backlog  hub CPU  GET /metrics',
    );
    const or = (n: number, format: (n: number) => string) => (Number.isNaN(n) ? '-' : format(n));
    for (const r of down.rows)
      console.log(
        [
          `${r.t.toFixed(0).padStart(6)} s`,
          r.phase.padStart(9),
          perS(r.sent).padStart(9),
          or(r.received, perS).padStart(9),
          or(r.written, perS).padStart(9),
          or(r.dropped, perS).padStart(9),
          or(r.backlog, count).padStart(9),
          pct(r.hubCpu).padStart(8),
          Number.isNaN(r.scrapeMs)
            ? `  > ${OUTAGE_SAMPLE_MS} ms`
            : `${r.scrapeMs.toFixed(0).padStart(9)} ms`,
        ].join(' '),
      );
    console.log(
      '  (received, written, dropped: per second since the hub last answered; "-": it did not answer within the interval)',
    );
    console.log(
      `  caught up ${down.recoveredS === null ? `not within ${RECOVERY_TIMEOUT_MS / 1000} s` : `${down.recoveredS.toFixed(1)} s`} after InfluxDB was back`,
    );
  }
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
