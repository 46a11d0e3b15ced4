// Issue 12 item 5: the per-unit costs the capacity plan in docs/scaling.md is extrapolated from.
// The hub runs as a real process (so its CPU time and RSS are its own, read from /proc: user +
// system time, what process.cpuUsage() would say inside it), the devices are in processes of their
// own. CPU is measured as CPU time, not wall-clock, because the machine is shared. Prints figures;
// asserts nothing; all on 127.0.0.1; every part is bounded (3 min) and stops what it started.
//   npm run bench:capacity -- --part=connections [--steps=1000,2000,5000] [--pglite]
//   npm run bench:capacity -- --part=deployment [--devices=1000]          (real agents)
//   npm run bench:capacity -- --part=redis [--steps=1000,2000]            (cluster mode)
//   npm run bench:capacity -- --part=influx [--devices=1000] [--pglite]   (InfluxDB 1.x)
// The hub's database is a scratch database (created and dropped) on --postgres=URL (default
// DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres); --pglite: the embedded PGlite.
// connections: hub RSS and heap at 0 and each step of connected devices (mqtt.js clients that
//   connect like an agent: will, three subscriptions, a retained state report), CPU per connect,
//   per 1,000 state reports, per 1,000 telemetry windows (embedded SQL store) and per 1,000
//   deliveries of a group desired state (fan-out).
// deployment: rows written per device (pg_stat_user_tables) and hub CPU for a reconnect storm and
//   a blue/green deployment of real agents (the edge agent's FleetSimulator, bench/rollout-fleet.ts).
// redis: Redis memory per connected device (INFO used_memory, keys by kind) and Redis traffic per
//   report and per delivery, with the hub in cluster mode (REDIS_URL) on its own redis-server.
// influx: InfluxDB series per device before and after the device's model changes, CPU per 1,000
//   windows written to InfluxDB.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { createGroup, pinGroup } from '../test/support/fleet.js';
import { spawnHub, startHub, type HubProcess } from '../test/support/hub.js';
import { startInflux } from '../test/support/influx.js';
import { fastModel, goldenMismatchModel } from '../test/support/onnx-models.js';
import type { CapacityReply, CapacityRequest, DeviceLogin, WindowTags } from './capacity-ipc.js';
import {
  footprint,
  HubCpu,
  hubMetrics,
  influxSeries,
  KiB,
  MiB,
  redisInfo,
  redisKeys,
  startRedis,
  tableCounts,
  tableDelta,
  total,
  until,
  type Footprint,
  type TableCounts,
} from './capacity-probes.js';
import { sleep } from './ingest-procs.js';
import { slope } from './ingest-steps.js';
import {
  createDevices,
  openFileLimits,
  pushVersion,
  runBench,
  scratchDatabase,
  type BenchCleanup,
  type Scratch,
} from './rollout-hub.js';
import { ChildLink, type FleetReply, type FleetRequest } from './rollout-ipc.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const found = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return found === undefined ? undefined : found.split('=').slice(1).join('=');
};
const part = flag('part') ?? 'connections';
// PostgreSQL (a scratch database, dropped at the end) unless --pglite: a fleet this size runs on
// PostgreSQL, and creating thousands of devices on PGlite goes one at a time (minutes).
const pglite = flag('pglite') !== undefined;
const postgresServer =
  flag('postgres') || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const GC_JS = fileURLToPath(new URL('./capacity-gc.js', import.meta.url));
const defaultSteps = part === 'redis' ? '1000,2000' : '1000,2000,5000';
const steps = (flag('steps') ?? defaultSteps).split(',').map(Number);
const deviceCount = Number(flag('devices') ?? 1000);
if (
  !['connections', 'deployment', 'redis', 'influx'].includes(part) ||
  steps.some((s, i) => !Number.isInteger(s) || s < 1 || (i > 0 && s <= steps[i - 1])) ||
  !Number.isInteger(deviceCount) ||
  deviceCount < 1
) {
  console.error(
    'usage: node dist/bench/capacity.js --part=connections|deployment|redis|influx [--steps=N1,N2,...] [--devices=N] [--postgres=URL] [--pglite]',
  );
  process.exit(2);
}

const GROUP = 'capacity';
// Three minutes; on PGlite the set-up alone (devices created one at a time) takes one or two more.
const TIMEOUT_MS = (pglite ? 5 : 3) * 60_000;
const CONNECTS_IN_FLIGHT = 100;
const CLIENT_TIMEOUT_MS = 60_000;
/** PostgreSQL flushes a backend's statistics at the latest 10 s after its last transaction. */
const STATS_SETTLE_MS = 12_000;
const CLIENTS_JS = fileURLToPath(new URL('./capacity-clients.js', import.meta.url));
const FLEET_JS = fileURLToPath(new URL('./rollout-fleet.js', import.meta.url));
const V1: WindowTags = {
  model_id: '0b6f8c1e-3f0e-4a59-9d2a-1c2b3d4e5f60',
  model_version: '1.0.0',
  slot: 'blue',
  deployment_id: null,
};
const V2: WindowTags = {
  ...V1,
  model_id: '7a2d9e4f-1c3b-4d5e-8f60-718293a4b5c6',
  model_version: '2.0.0',
  slot: 'green',
};

const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;
const cpuS = (n: number) => `${(n / 1000).toFixed(2)} CPU-s`;
const cleanup: BenchCleanup & { engines: (() => Promise<void>)[] } = {
  dirs: [],
  children: [],
  engines: [],
  async release() {
    for (const stop of cleanup.engines.splice(0).reverse()) await stop().catch(() => undefined);
  },
};

type Clients = ChildLink<CapacityRequest, CapacityReply>;

/**
 * `count` devices in group `capacity` created in a hub in this process, then the hub as a process
 * of its own on the same DATA_DIR (and database). Returns the hub, the devices and the models.
 */
async function setUp(count: number, env: Record<string, string>, database: Scratch | null) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-capacity-'));
  cleanup.dirs.push(dataDir);
  const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
  const base: Record<string, string> = {
    DATA_DIR: dataDir,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
    ...(database ? { DATABASE_URL: database.url } : {}),
  };
  const started = performance.now();
  const inProcess = await startHub(base);
  let models: { v1: { id: string }; v2: { id: string } };
  let devices: DeviceLogin[];
  try {
    await createGroup(inProcess, GROUP, 'production');
    // One creation at a time on PGlite (electric-sql/pglite#1046, see createDevices).
    devices = await createDevices(inProcess, count, GROUP, database ? 8 : 1);
    models = {
      v1: await pushVersion(inProcess, 'capacity', '1.0.0', fastModel()),
      v2: await pushVersion(inProcess, 'capacity', '2.0.0', goldenMismatchModel()),
    };
  } finally {
    await inProcess.stop();
  }
  const hub = await spawnHub({
    ...base,
    NODE_OPTIONS: `--expose-gc --import=${pathToFileURL(GC_JS).href}`,
    ...env,
  });
  cleanup.children.push({ kill: () => hub.child.kill('SIGKILL') });
  cleanup.engines.push(() => hub.stop());
  if (!hub.mqtt) throw new Error('the hub did not start its embedded broker');
  console.log(
    `set-up: ${count} devices created in ${((performance.now() - started) / 1000).toFixed(1)} s; hub pid ${hub.child.pid} on ${database ? `PostgreSQL ${database.version}` : 'PGlite'}`,
  );
  return { hub, devices, models, dataDir, mqttUrl: `mqtt://127.0.0.1:${hub.mqtt.port}` };
}

/** A scratch database on the PostgreSQL server (null with --pglite, where `allowPglite`). */
async function database(allowPglite: boolean): Promise<Scratch | null> {
  if (pglite && allowPglite) return null;
  const scratch = await scratchDatabase(postgresServer);
  cleanup.engines.push(() => scratch.drop());
  return scratch;
}

function startClients(): Clients {
  const { hard } = openFileLimits();
  const link = ChildLink.start<CapacityRequest, CapacityReply>('device process', CLIENTS_JS, {
    fileLimit: Math.min(hard, 65_536),
    heapMb: 4_096,
  });
  cleanup.children.push(link);
  return link;
}

async function connect(clients: Clients, url: string, devices: DeviceLogin[]) {
  const reply = await clients.request(
    {
      type: 'connect',
      url,
      group: GROUP,
      devices,
      inFlight: CONNECTS_IN_FLIGHT,
      clientTimeoutMs: CLIENT_TIMEOUT_MS,
    },
    'connected',
    TIMEOUT_MS,
  );
  if (reply.failed > 0)
    console.log(`  ${reply.failed} devices did not connect: ${JSON.stringify(reply.errors)}`);
  return reply;
}

/** The hub's CPU time over `seconds` with nothing to do (the rollout loop, timers, GC). */
async function idleRate(hub: HubProcess, seconds = 3): Promise<number> {
  const cpu = new HubCpu(hub.child.pid!);
  await sleep(seconds * 1000);
  const { cpuMs, wallMs } = cpu.take();
  return cpuMs / wallMs;
}

/**
 * Publishes `perDevice` messages of `kind` from every connected device and waits until the hub
 * counted them all (`counter` of /metrics grew by as many); hub CPU over that, less its idle rate.
 */
async function costOf(
  hub: HubProcess,
  clients: Clients,
  kind: 'state' | 'telemetry',
  counters: string[],
  perDevice: number,
  perSecond: number,
  idle: number,
  tags: WindowTags,
) {
  const count = async () => {
    const m = await hubMetrics(hub);
    return counters.reduce((s, c) => s + total(m, c), 0);
  };
  const before = await count();
  const cpu = new HubCpu(hub.child.pid!);
  const { sent } = await clients.request(
    { type: 'publish', kind, perDevice, perSecond, tags },
    'published',
    TIMEOUT_MS,
  );
  const all = await until(async () => (await count()) - before >= sent, 60_000);
  await sleep(1_000); // the last batch's write
  const { cpuMs, wallMs } = cpu.take();
  const counted = (await count()) - before;
  const net = cpuMs - idle * wallMs;
  return { sent, counted, all, cpuMs, wallMs, per1000: (net / sent) * 1000 };
}

// --- connections: memory per device, CPU per connect, report, window and delivery --------------

async function connections(): Promise<void> {
  const db = await database(true);
  const max = steps[steps.length - 1];
  const { hub, devices, models, mqttUrl } = await setUp(max, { MQTT_TELEMETRY_RATE: '0' }, db);
  await sleep(3_000);
  const readings: { devices: number; at: Footprint }[] = [{ devices: 0, at: await footprint(hub) }];
  const idle = await idleRate(hub);
  console.log(
    `hub idle: ${MiB(readings[0].at.rss)} RSS, ${MiB(readings[0].at.heapUsed)} heap; ${(idle * 1000).toFixed(0)} ms CPU per s`,
  );
  const clients = startClients();
  let connected = 0;
  const connects: number[] = [];
  for (const step of steps) {
    const cpu = new HubCpu(hub.child.pid!);
    const reply = await connect(clients, mqttUrl, devices.slice(connected, step));
    const { cpuMs, wallMs } = cpu.take();
    const added = reply.connected - connected;
    connected = reply.connected;
    connects.push((cpuMs - idle * wallMs) / added);
    await sleep(3_000);
    const at = await footprint(hub);
    readings.push({ devices: connected, at });
    console.log(
      `${String(connected).padStart(6)} connected: RSS ${MiB(at.rss)}, heap ${MiB(at.heapUsed)}; ${added} connects in ${(wallMs / 1000).toFixed(1)} s wall, ${ms(connects.at(-1)!)} hub CPU per connect`,
    );
  }
  const rssSlope = slope(readings.map((r) => [r.devices, r.at.rss]));
  const heapSlope = slope(readings.map((r) => [r.devices, r.at.heapUsed]));
  console.log(
    `slope (least squares over 0..${connected}): RSS ${KiB(rssSlope)}/device, heap ${KiB(heapSlope)}/device`,
  );

  const rate = Math.min(2_000, connected * 2);
  const reports = await costOf(
    hub,
    clients,
    'state',
    ['sentinel_device_reports_total'],
    2,
    rate,
    idle,
    V1,
  );
  console.log(
    `state reports: ${reports.sent} at ${rate}/s, ${reports.counted} counted${reports.all ? '' : ' (NOT all)'}; hub ${cpuS(reports.cpuMs)} over ${(reports.wallMs / 1000).toFixed(1)} s => ${cpuS(reports.per1000)} per 1,000 reports (idle rate subtracted)`,
  );
  const windows = await costOf(
    hub,
    clients,
    'telemetry',
    ['sentinel_telemetry_written_total', 'sentinel_telemetry_dropped_total'],
    2,
    rate,
    idle,
    V1,
  );
  const dropped = total(await hubMetrics(hub), 'sentinel_telemetry_dropped_total');
  console.log(
    `telemetry windows (embedded SQL store): ${windows.sent} at ${rate}/s, ${windows.counted} written or dropped (${dropped} dropped)${windows.all ? '' : ' (NOT all)'}; hub ${cpuS(windows.cpuMs)} => ${cpuS(windows.per1000)} per 1,000 windows`,
  );

  // The rules keep the last 3 minutes of accepted windows in memory (RecentTelemetry): with an
  // agent's window every 10 s, 18 per device. Top up to 18 and read the footprint again.
  const beforeWindows = await footprint(hub);
  await costOf(
    hub,
    clients,
    'telemetry',
    ['sentinel_telemetry_written_total'],
    16,
    4_000,
    idle,
    V1,
  );
  const withWindows = await footprint(hub);
  console.log(
    `18 windows per device held (3 min of telemetry): RSS ${MiB(withWindows.rss)}, heap ${MiB(withWindows.heapUsed)} => +${KiB((withWindows.rss - beforeWindows.rss) / connected)} RSS, +${KiB((withWindows.heapUsed - beforeWindows.heapUsed) / connected)} heap per device`,
  );

  // Fan-out: one group desired state (a pin) to every connected device.
  await clients.request({ type: 'arm', needle: models.v1.id }, 'armed', 10_000);
  const cpu = new HubCpu(hub.child.pid!);
  await pinGroup(hub, GROUP, models.v1.id);
  const got = await clients.request({ type: 'received', timeoutMs: 60_000 }, 'received', 70_000);
  const fan = cpu.take();
  const fanNet = fan.cpuMs - idle * fan.wallMs;
  console.log(
    `fan-out: ${got.received}/${got.expected} devices got the group's desired state in ${(fan.wallMs / 1000).toFixed(2)} s wall; hub ${cpuS(fan.cpuMs)} => ${cpuS((fanNet / got.received) * 1000)} per 1,000 deliveries (the PUT's transaction included)`,
  );
  await clients.close({ type: 'close' }, 'closed', 30_000);
}

// --- deployment: rows per device for a reconnect storm and a blue/green deployment ------------

async function deployment(): Promise<void> {
  const db = (await database(false))!;
  const { hub, devices, models, dataDir, mqttUrl } = await setUp(deviceCount, {}, db);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  cleanup.engines.push(() => client.end());
  let ownQueries = 0;
  const query = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) => {
    ownQueries++;
    return (await client.query<T>(text, values)).rows;
  };
  const snapshot = async (): Promise<TableCounts> => {
    await sleep(STATS_SETTLE_MS);
    ownQueries += 2;
    return tableCounts(client);
  };
  const print = (
    what: string,
    before: TableCounts,
    after: TableCounts,
    own: number,
    cpu: { cpuMs: number; wallMs: number },
  ) => {
    const delta = tableDelta(before, after);
    console.log(
      `${what}: hub ${cpuS(cpu.cpuMs)} in ${(cpu.wallMs / 1000).toFixed(1)} s wall => ${ms(cpu.cpuMs / deviceCount)} CPU per device`,
    );
    console.log(
      `  transactions committed: ${delta.commits - own} (${((delta.commits - own) / deviceCount).toFixed(2)} per device; read-only ones of the hub included, e.g. its rollout loop every second; the bench's own ${own} left out)`,
    );
    for (const r of delta.rows)
      console.log(
        `  ${r.table.padEnd(28)} +${r.ins} ins, ${r.upd} upd, ${r.del} del  = ${((r.ins + r.upd + r.del) / deviceCount).toFixed(2)} rows written per device`,
      );
    const sum = delta.rows.reduce((s, r) => s + r.ins + r.upd + r.del, 0);
    console.log(`  all tables: ${(sum / deviceCount).toFixed(2)} rows written per device`);
  };

  const devicesFile = join(dataDir, 'devices.json');
  writeFileSync(devicesFile, JSON.stringify(devices), { mode: 0o600 });
  const fleet = ChildLink.start<FleetRequest, FleetReply>('simulator process', FLEET_JS, {
    fileLimit: Math.min(openFileLimits().hard, 65_536),
    heapMb: 8_192,
  });
  cleanup.children.push(fleet);
  const fleetDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-capacity-fleet-'));
  cleanup.dirs.push(fleetDir);

  // The reconnect storm: every agent connects, subscribes and reports its state.
  let before = await snapshot();
  let own = ownQueries;
  let cpu = new HubCpu(hub.child.pid!);
  await fleet.request(
    {
      type: 'start',
      devicesFile,
      mqttUrl,
      hubUrl: hub.url,
      group: GROUP,
      dataDir: fleetDir,
      concurrency: 200,
      connectsInFlight: CONNECTS_IN_FLIGHT,
    },
    'started',
    TIMEOUT_MS,
  );
  await until(
    async () =>
      Number((await query<{ n: string }>('SELECT count(*) AS n FROM devices WHERE online'))[0].n) >=
      deviceCount,
    60_000,
  );
  let used = cpu.take();
  let after = await snapshot();
  print(`reconnect storm of ${deviceCount} real agents`, before, after, ownQueries - own - 2, used);

  const deployAndWait = async (modelId: string, label: string) => {
    before = await snapshot();
    own = ownQueries;
    cpu = new HubCpu(hub.child.pid!);
    const response = await fetch(`${hub.url}/api/v1/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model_id: modelId,
        environment: 'production',
        deployment_type: 'blue-green',
        target: GROUP,
        observe_s: 0,
      }),
    });
    if (response.status !== 201)
      throw new Error(`deploy: HTTP ${response.status} ${await response.text()}`);
    const id = ((await response.json()) as { id: string }).id;
    let status = '';
    await until(async () => {
      status = (
        await query<{ status: string }>('SELECT status FROM deployments WHERE id = $1', [id])
      )[0].status;
      return ['succeeded', 'failed', 'rolled_back'].includes(status);
    }, 120_000);
    used = cpu.take();
    after = await snapshot();
    print(`${label} (${status})`, before, after, ownQueries - own - 2, used);
  };
  // The first deployment downloads v1 to every agent; the second is the one a fleet sees often.
  await deployAndWait(models.v1.id, 'first blue/green deployment (v1)');
  await deployAndWait(models.v2.id, 'second blue/green deployment (v2)');
  const sizes = await query<{ relname: string; bytes: string }>(
    `SELECT relname, pg_total_relation_size(relid) AS bytes FROM pg_stat_user_tables`,
  );
  const live = (await tableCounts(client)).tables;
  console.log(
    `bytes per row kept (table, indexes and TOAST): ${sizes
      .map((r) => ({ ...r, rows: live.get(r.relname)?.live ?? 0 }))
      .filter((r) => r.rows >= deviceCount)
      .map((r) => `${r.relname} ${(Number(r.bytes) / r.rows).toFixed(0)} B`)
      .join(', ')}`,
  );
  console.log(
    `rows kept: ${[...live]
      .filter(([, t]) => t.live > 0)
      .map(([name, t]) => `${name} ${t.live}`)
      .join(', ')}`,
  );
  await fleet.close({ type: 'close' }, 'closed', 60_000);
}

// --- redis: memory and traffic per device in cluster mode --------------------------------------

async function redis(): Promise<void> {
  const server = await startRedis();
  cleanup.engines.push(() => server.stop());
  const db = (await database(false))!;
  const max = steps[steps.length - 1];
  const { hub, devices, models, mqttUrl } = await setUp(
    max,
    { REDIS_URL: server.url, MQTT_TELEMETRY_RATE: '0' },
    db,
  );
  await sleep(2_000);
  const used = () => redisInfo(server.client, 'used_memory');
  const readings: [number, number][] = [[0, await used()]];
  console.log(
    `redis (own server) with the hub and no device: used_memory ${KiB(readings[0][1])}, ${await server.client.dbsize()} keys`,
  );
  const clients = startClients();
  let connected = 0;
  for (const step of steps) {
    connected = (await connect(clients, mqttUrl, devices.slice(connected, step))).connected;
    await sleep(2_000);
    readings.push([connected, await used()]);
    console.log(
      `${String(connected).padStart(6)} connected: used_memory ${MiB(readings.at(-1)![1])}, ${await server.client.dbsize()} keys`,
    );
  }
  console.log(`slope: ${KiB(slope(readings))} of Redis memory per connected device`);
  for (const [kind, k] of [...(await redisKeys(server.client))].sort(
    (a, b) => b[1].bytes - a[1].bytes,
  ))
    console.log(
      `  ${kind.padEnd(32)} ${k.type.padEnd(6)} ${String(k.keys).padStart(6)} keys, ${KiB(k.bytes)} (${(k.bytes / connected).toFixed(0)} B per device)`,
    );

  const traffic = async () => ({
    commands: await redisInfo(server.client, 'total_commands_processed'),
    bytes: await redisInfo(server.client, 'total_net_input_bytes'),
    out: await redisInfo(server.client, 'total_net_output_bytes'),
  });
  const per = (
    label: string,
    a: Awaited<ReturnType<typeof traffic>>,
    b: Awaited<ReturnType<typeof traffic>>,
    n: number,
  ) =>
    console.log(
      `${label}: ${((b.commands - a.commands) / n).toFixed(2)} Redis commands, ${((b.bytes - a.bytes) / n).toFixed(0)} B in and ${((b.out - a.out) / n).toFixed(0)} B out of Redis per message`,
    );
  const idle = await idleRate(hub);
  let t0 = await traffic();
  const reports = await costOf(
    hub,
    clients,
    'state',
    ['sentinel_device_reports_total'],
    2,
    Math.min(2_000, connected * 2),
    idle,
    V1,
  );
  per(`state reports (${reports.sent}, retained)`, t0, await traffic(), reports.sent);
  t0 = await traffic();
  const windows = await costOf(
    hub,
    clients,
    'telemetry',
    ['sentinel_telemetry_written_total', 'sentinel_telemetry_dropped_total'],
    2,
    Math.min(2_000, connected * 2),
    idle,
    V1,
  );
  per(`telemetry windows (${windows.sent})`, t0, await traffic(), windows.sent);
  await clients.request({ type: 'arm', needle: models.v1.id }, 'armed', 10_000);
  t0 = await traffic();
  await pinGroup(hub, GROUP, models.v1.id);
  const got = await clients.request({ type: 'received', timeoutMs: 60_000 }, 'received', 70_000);
  per(
    `fan-out to ${got.received}/${got.expected} devices (one group desired state, per fan-out)`,
    t0,
    await traffic(),
    1,
  );
  console.log(
    `hub in cluster mode: ${cpuS(reports.per1000)} per 1,000 reports, ${cpuS(windows.per1000)} per 1,000 windows (PostgreSQL store)`,
  );
  await clients.close({ type: 'close' }, 'closed', 30_000);
  await sleep(3_000);
  const after = await used();
  console.log(
    `after every device disconnected: used_memory ${MiB(after)}, ${await server.client.dbsize()} keys`,
  );
}

// --- influx: series per device, CPU per window written to InfluxDB -----------------------------

async function influx(): Promise<void> {
  const server = await startInflux();
  cleanup.engines.push(() => server.stop());
  const INFLUX_DB = 'bench_capacity';
  const { hub, devices, mqttUrl } = await setUp(
    deviceCount,
    { INFLUX_URL: server.url, INFLUX_DB, MQTT_TELEMETRY_RATE: '0' },
    await database(true),
  );
  const clients = startClients();
  const { connected } = await connect(clients, mqttUrl, devices);
  const idle = await idleRate(hub);
  const rate = Math.min(2_000, connected * 2);
  const counters = ['sentinel_telemetry_written_total', 'sentinel_telemetry_dropped_total'];
  const first = await costOf(hub, clients, 'telemetry', counters, 3, rate, idle, V1);
  const seriesV1 = await influxSeries(server.url, INFLUX_DB);
  console.log(
    `${connected} devices, 3 windows each on v1: ${first.counted}/${first.sent} written or dropped; ${seriesV1} series = ${(seriesV1 / connected).toFixed(2)} per device; hub ${cpuS(first.per1000)} per 1,000 windows (InfluxDB)`,
  );
  // The devices now serve v2 in the other slot (as after a deployment): a state report first, so
  // that the hub's telemetry scope knows the model the windows name.
  await costOf(hub, clients, 'state', ['sentinel_device_reports_total'], 1, rate, idle, V2);
  await sleep(2_000);
  const second = await costOf(hub, clients, 'telemetry', counters, 3, rate, idle, V2);
  const seriesV2 = await influxSeries(server.url, INFLUX_DB);
  const dropped = total(await hubMetrics(hub), 'sentinel_telemetry_dropped_total');
  console.log(
    `after the model change (v2, other slot): ${second.counted}/${second.sent} written or dropped (${dropped} dropped in all); ${seriesV2} series = ${(seriesV2 / connected).toFixed(2)} per device`,
  );
  await clients.close({ type: 'close' }, 'closed', 30_000);
}

console.log(
  `bench:capacity --part=${part}: ${cpus().length} cores, node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const parts: Record<string, () => Promise<void>> = { connections, deployment, redis, influx };
await runBench(`bench:capacity --part=${part}`, cleanup, TIMEOUT_MS, async () => {
  try {
    await parts[part]();
  } finally {
    await cleanup.release();
  }
});
