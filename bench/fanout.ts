// Fan-out of one desired state to N devices of one group, embedded Aedes vs a real Mosquitto (the
// hub in external mode, same database and devices). The devices are mqtt.js clients in a separate
// process (bench/fanout-clients.ts). Prints figures; asserts nothing; all traffic on 127.0.0.1.
//   npm run bench:fanout [-- N [CONNECTS_IN_FLIGHT]]      (defaults: 10000 devices, 90 in flight)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { groupDesiredTopic } from '@sentinel/broker';
import type { Principal } from '../src/auth/auth.decorators.js';
import { BrokerService } from '../src/broker/broker.service.js';
import { FleetService } from '../src/fleet/fleet.service.js';
import { createGroup, pinGroup } from '../test/support/fleet.js';
import { api, startHub, type InProcessHub } from '../test/support/hub.js';
import { mosquittoPasswdLine, startMosquitto } from '../test/support/mosquitto.js';
import { fastModel } from '../test/support/onnx-models.js';
import { json, pushModel } from '../test/support/push.js';
import { rssOf } from '../test/support/rss.js';
import {
  wallClockMs,
  type ChildMessage,
  type ChildMessageType,
  type DeviceLogin,
  type ParentMessage,
} from './fanout-ipc.js';

const deviceCount = Number(process.argv[2] ?? 10_000);
// Mosquitto's listen backlog is 100 (a 2,000-client burst overflowed it): stay below it, and use
// the same limit for both brokers so the storms compare.
const connectsInFlight = Number(process.argv[3] ?? 90);
const GROUP = 'fanout';
const HUB_USER = 'sentinel-hub';
const HUB_PASSWORD = `bench-${randomBytes(12).toString('hex')}`;
const STEP_TIMEOUT_MS = 120_000;
const STORM_TIMEOUT_MS = STEP_TIMEOUT_MS + deviceCount * 10;
const CLIENT_TIMEOUT_MS = 60_000;
const TOTAL_TIMEOUT_MS = 30 * 60_000;
// One at a time: pglite-socket runs the pool's connections on one session, so concurrent
// transactions interleave and fail ("portal does not exist"; electric-sql/pglite#1046).
const CREATE_IN_FLIGHT = 1;
const CLIENTS_JS = fileURLToPath(new URL('./fanout-clients.js', import.meta.url));
const BENCH_PRINCIPAL: Principal = {
  kind: 'token',
  tokenId: 'bench-fanout',
  name: 'bench-fanout',
  role: 'admin',
};

if (
  !Number.isInteger(deviceCount) ||
  deviceCount < 1 ||
  !Number.isInteger(connectsInFlight) ||
  connectsInFlight < 1
) {
  console.error('usage: node dist/bench/fanout.js [DEVICES] [CONNECTS_IN_FLIGHT]');
  process.exit(2);
}

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
/** Sub-second spans in ms, so that short fan-outs keep their digits. */
const span = (ms: number) => (ms < 1_000 ? `${ms.toFixed(0)} ms` : seconds(ms));
const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');

/** Soft and hard "Max open files" of this process (a spawned mosquitto inherits them). */
function openFileLimits(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = (line ?? '').split(/\s+/).slice(3, 5);
  const parse = (value: string | undefined) => (value === 'unlimited' ? Infinity : Number(value));
  return { soft: parse(soft), hard: parse(hard) };
}

/** The pid of the mosquitto started with the config file in `dir` (startMosquitto does not expose it). */
function mosquittoPid(dir: string): number {
  const config = `${dir}/mosquitto.conf`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(config)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error(`no mosquitto process with ${config}`);
}

/** The device process, spoken to by request/reply over IPC; every wait is bounded. */
class ClientsProcess {
  private readonly inbox: ChildMessage[] = [];
  private readonly waiters: {
    type: ChildMessageType;
    resolve: (m: ChildMessage) => void;
    reject: (e: Error) => void;
  }[] = [];
  private readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'failed')
        return this.failAll(new Error(`device process: ${message.error}`));
      const index = this.waiters.findIndex((w) => w.type === message.type);
      if (index === -1) this.inbox.push(message);
      else this.waiters.splice(index, 1)[0].resolve(message);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.failAll(new Error(`device process exited (${signal ?? code})`));
        resolve();
      }),
    );
  }

  /** Through bash, to raise its open-file limit as far as the hard limit allows. */
  static start(fileLimit: number): ClientsProcess {
    const script =
      'ulimit -n "$1" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" --max-old-space-size=8192 "$2"';
    const child = spawn('bash', ['-c', script, process.execPath, String(fileLimit), CLIENTS_JS], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new ClientsProcess(child);
  }

  send(message: ParentMessage): void {
    this.child.send(message);
  }

  expect<T extends ChildMessageType>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    const queued = this.inbox.findIndex((m) => m.type === type);
    if (queued !== -1)
      return Promise.resolve(this.inbox.splice(queued, 1)[0] as Extract<ChildMessage, { type: T }>);
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      return Promise.reject(new Error(`device process exited before '${type}'`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no '${type}' from the device process within ${timeoutMs / 1000} s`));
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
        this.send({ type: 'close' });
        await this.expect('closed', 30_000);
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

/**
 * Notes when the hub hands a message for `topic` to its MQTT transport (embedded broker or the
 * client of the external one). The fan-out is timed from there: the PUT before it is a database
 * transaction, the same for both brokers.
 */
function tapPublishes(hub: InProcessHub, topic: string): () => number | null {
  const transport = hub.app.get(BrokerService).mqtt;
  const publish = transport.publish.bind(transport);
  let last: number | null = null;
  transport.publish = (t, payload, options) => {
    if (t === topic) last = wallClockMs();
    return publish(t, payload, options);
  };
  return () => last;
}

async function createDevices(hub: InProcessHub, count: number): Promise<DeviceLogin[]> {
  // In-process: the REST route does the same work plus HTTP, which only slows the set-up down.
  const fleet = hub.app.get(FleetService);
  const width = String(count - 1).length;
  const devices: DeviceLogin[] = new Array<DeviceLogin>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const id = `bench-${String(index).padStart(width, '0')}`;
      const issued = await fleet.createDevice({ id, group: GROUP }, BENCH_PRINCIPAL);
      devices[index] = { id, password: issued.secret };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CREATE_IN_FLIGHT, count) }, worker));
  return devices;
}

async function pushVersion(hub: InProcessHub, version: string): Promise<string> {
  const response = await pushModel(hub, fastModel(), { name: 'fanout-bench', version });
  if (response.status !== 201)
    throw new Error(`push ${version}: HTTP ${response.status} ${await response.text()}`);
  return (await json<{ id: string }>(response)).id;
}

async function text(hub: InProcessHub, path: string): Promise<string> {
  const response = await api(hub)(path);
  if (response.status !== 200)
    throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return response.text();
}

interface RunResult {
  connected: number;
  failed: number;
  errors: [string, number][];
  stormMs: number;
  expected: number;
  received: number;
  timedOut: boolean;
  dropped: number;
  /** ms after the publish. */
  first: number;
  p50: number;
  p99: number;
  last: number;
  putToPublishMs: number;
  brokerRssIdle: number;
  brokerRss: number;
  hubRss: number;
}

/** One storm and one fan-out against whatever broker `url` points at. */
async function run(
  state: { clients: ClientsProcess | null },
  hub: InProcessHub,
  url: string,
  devices: DeviceLogin[],
  modelId: string,
  brokerPid: number,
  fileLimit: number,
): Promise<RunResult> {
  const topic = groupDesiredTopic(GROUP);
  const publishedAt = tapPublishes(hub, topic);
  const brokerRssIdle = rssOf(brokerPid);
  const clients = ClientsProcess.start(fileLimit);
  state.clients = clients;
  try {
    clients.send({
      type: 'connect',
      url,
      topic,
      devices,
      concurrency: connectsInFlight,
      clientTimeoutMs: CLIENT_TIMEOUT_MS,
    });
    const ready = await clients.expect('ready', STORM_TIMEOUT_MS);
    // Let the retained deliveries of the storm drain before taking memory and starting the clock.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const brokerRss = rssOf(brokerPid);
    const hubRss = rssOf(process.pid);

    clients.send({ type: 'measure', modelId, timeoutMs: STEP_TIMEOUT_MS });
    await clients.expect('armed', STEP_TIMEOUT_MS);
    const received = clients.expect('received', STEP_TIMEOUT_MS + 10_000);
    const putAt = wallClockMs();
    await pinGroup(hub, GROUP, modelId);
    const result = await received;
    const origin = publishedAt() ?? putAt;
    const after = (instant: number | undefined) => (instant === undefined ? NaN : instant - origin);
    return {
      connected: ready.connected,
      failed: ready.failed,
      errors: ready.errors,
      stormMs: ready.stormMs,
      expected: result.expected,
      received: result.received,
      timedOut: result.timedOut,
      dropped: result.dropped,
      first: after(result.times?.first),
      p50: after(result.times?.p50),
      p99: after(result.times?.p99),
      last: after(result.times?.last),
      putToPublishMs: origin - putAt,
      brokerRssIdle,
      brokerRss,
      hubRss,
    };
  } finally {
    await clients.close();
    state.clients = null;
  }
}

function describeRun(label: string, r: RunResult): string[] {
  const lines: string[] = [];
  if (r.failed > 0)
    lines.push(
      `  ${label}: ${r.failed} of ${deviceCount} clients failed to connect: ${r.errors.map(([e, n]) => `${e} (${n})`).join('; ')}`,
    );
  if (r.received < r.expected || r.timedOut)
    lines.push(
      `  ${label}: only ${r.received} of ${r.expected} connected clients got the new state (timed out: ${r.timedOut})`,
    );
  if (r.dropped > 0) lines.push(`  ${label}: ${r.dropped} connections closed after subscribing`);
  return lines;
}

async function main(): Promise<void> {
  const limits = openFileLimits();
  const fileLimit = Math.min(limits.hard, 65_536);
  const needed = deviceCount + 1_000;
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-bench-fanout-'));
  const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
  const state: {
    clients: ClientsProcess | null;
    mosquittoPid: number | null;
    mosquittoDir: string | null;
  } = {
    clients: null,
    mosquittoPid: null,
    mosquittoDir: null,
  };
  process.on('exit', () => {
    state.clients?.child.kill('SIGKILL');
    if (state.mosquittoPid !== null) {
      try {
        process.kill(state.mosquittoPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (state.mosquittoDir) rmSync(state.mosquittoDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
  setTimeout(() => {
    console.error(`bench:fanout gave up after ${TOTAL_TIMEOUT_MS / 60_000} min`);
    process.exit(1);
  }, TOTAL_TIMEOUT_MS).unref();

  console.log(
    `machine: ${cpus().length} cores, node ${process.version}; open files soft/hard ${limits.soft}/${limits.hard}`,
  );
  if (limits.soft < needed)
    console.log(
      `WARNING: this process (the hub, and the mosquitto it spawns) may open ${limits.soft} files; ${deviceCount} devices need about ${needed}. Run \`ulimit -n ${needed}\` first.`,
    );
  if (fileLimit < needed)
    console.log(`WARNING: the device process can get only ${fileLimit} open files (hard limit)`);

  // 1) The embedded broker; the fleet is created here and kept (same DATA_DIR) for the second run.
  const base = {
    DATA_DIR: dataDir,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
  };
  let hub = await startHub(base);
  let embedded: RunResult;
  let modelIds: string[];
  let passwd: string;
  let acl: string;
  try {
    await createGroup(hub, GROUP);
    let started = wallClockMs();
    const devices = await createDevices(hub, deviceCount);
    console.log(
      `set-up: ${deviceCount} devices created in-process in ${seconds(wallClockMs() - started)}`,
    );
    modelIds = [];
    for (const version of ['1.0.0', '2.0.0', '3.0.0'])
      modelIds.push(await pushVersion(hub, version));
    // What every device finds retained when it subscribes; each measurement pins a newer version.
    await pinGroup(hub, GROUP, modelIds[0]);
    started = wallClockMs();
    passwd = await text(hub, '/api/v1/broker/mosquitto-passwd');
    acl = await text(hub, `/api/v1/broker/mosquitto-acl?hub_user=${HUB_USER}`);
    console.log(
      `set-up: mosquitto password + ACL files exported in ${seconds(wallClockMs() - started)}`,
    );

    console.log(
      `run 1: embedded broker (${deviceCount} clients, ${connectsInFlight} connects in flight)`,
    );
    embedded = await run(
      state,
      hub,
      `mqtt://127.0.0.1:${hub.mqtt!.port}`,
      devices,
      modelIds[1],
      process.pid,
      fileLimit,
    );
    await hub.stop();

    // 2) Mosquitto, the hub in external mode on the same database.
    const mosquitto = await startMosquitto(
      `${mosquittoPasswdLine(HUB_USER, HUB_PASSWORD)}\n${passwd}`,
      acl,
    );
    state.mosquittoDir = mosquitto.dir;
    state.mosquittoPid = mosquittoPid(mosquitto.dir);
    let external: RunResult;
    try {
      hub = await startHub({
        ...base,
        MQTT_URL: `mqtt://127.0.0.1:${mosquitto.port}`,
        MQTT_USERNAME: HUB_USER,
        MQTT_PASSWORD: HUB_PASSWORD,
      });
      try {
        console.log(
          `run 2: mosquitto (${deviceCount} clients, ${connectsInFlight} connects in flight)`,
        );
        external = await run(
          state,
          hub,
          `mqtt://127.0.0.1:${mosquitto.port}`,
          devices,
          modelIds[2],
          state.mosquittoPid,
          fileLimit,
        );
      } finally {
        await hub.stop();
      }
    } finally {
      await mosquitto.stop();
      state.mosquittoPid = null;
      state.mosquittoDir = null;
    }

    const e = embedded;
    const m = external;
    console.log('');
    console.log(
      `devices                         ${deviceCount} in one group (clients in 1 process, ${connectsInFlight} connects in flight: below mosquitto's listen backlog of 100)`,
    );
    console.log(
      `connected                       embedded ${e.connected}   mosquitto ${m.connected}`,
    );
    console.log(
      `connection storm  embedded      ${seconds(e.stormMs)}   mosquitto ${seconds(m.stormMs)}   ratio ${ratio(e.stormMs, m.stormMs)}`,
    );
    console.log(
      `fan-out to all    embedded      ${span(e.last)}   mosquitto ${span(m.last)}   ratio ${ratio(e.last, m.last)}   ` +
        `(p50 ${span(e.p50)}/${span(m.p50)}, p99 ${span(e.p99)}/${span(m.p99)}, first ${span(e.first)}/${span(m.first)})`,
    );
    console.log(
      `broker RSS        embedded hub  ${MiB(e.brokerRss)} (${MiB(e.brokerRssIdle)} before the clients)   mosquitto ${MiB(m.brokerRss)} (${MiB(m.brokerRssIdle)} before)`,
    );
    console.log(`hub RSS, external mode          ${MiB(m.hubRss)}`);
    console.log(
      `PUT -> publish (not in fan-out) embedded ${e.putToPublishMs.toFixed(1)} ms   mosquitto ${m.putToPublishMs.toFixed(1)} ms`,
    );
    for (const line of [...describeRun('embedded', e), ...describeRun('mosquitto', m)])
      console.log(line);
  } catch (error) {
    await state.clients?.close().catch(() => undefined);
    throw error;
  }
}

try {
  await main();
} catch (error) {
  console.error(`bench:fanout failed: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = 1;
}
// Anything left open (a hub that did not stop) must not keep the bench alive.
process.exit();
