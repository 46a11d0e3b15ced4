// The devices of bench/ingest.ts: one mqtt.js client per device (user name = client id = device
// id, password = its secret), each publishing QoS 0 telemetry on its own topic only. Driven over
// IPC: connect -> 'ready'; rate -> from now on that many messages per second across this process's
// devices, round robin, from a 5 ms timer; count -> the counters; close -> ends every client and
// exits. Started by ingest.ts only (needs an IPC channel).
import { deviceTelemetryTopic } from '@sentinel/broker';
import type { MqttClient } from 'mqtt';
import {
  telemetryPayload,
  type ChildMessage,
  type DeviceLogin,
  type ParentMessage,
  type PublishCounts,
} from './ingest-ipc.js';
import { connectDeviceClient } from './device-client.js';

const TICK_MS = 5;
/** Most catch-up after a late timer (50 ms of messages); the rest counts as 'behind'. */
const MAX_LAG_S = 0.05;
/**
 * A device whose socket still holds this many unsent bytes skips its turn ('heldBack'): the broker
 * is not reading fast enough, and a real agent would not queue telemetry without bound either.
 */
const MAX_UNSENT_BYTES = 8 * 1024;
const END_TIMEOUT_MS = 20_000;

interface Device {
  id: string;
  topic: string;
  client: MqttClient;
  /** Last `ts` sent, in ms: each message gets a later one, so no two points of a series collide. */
  lastTs: number;
  n: number;
}

const devices: Device[] = [];
const counts: PublishCounts = {
  published: 0,
  heldBack: 0,
  behind: 0,
  closed: 0,
  offline: 0,
};
let rate = 0;
let rateStart = 0;
/** Messages due since rateStart that were sent or given up. */
let accounted = 0;
let cursor = 0;
let timer: NodeJS.Timeout | null = null;

function send(message: ChildMessage, then?: () => void): void {
  process.send!(message, undefined, undefined, () => then?.());
}

function tick(): void {
  if (rate === 0 || devices.length === 0) return;
  const due = Math.floor(((performance.now() - rateStart) / 1000) * rate) - accounted;
  if (due <= 0) return;
  accounted += due;
  const cap = Math.ceil(rate * MAX_LAG_S);
  if (due > cap) counts.behind += due - cap;
  const now = Date.now();
  for (let k = Math.min(due, cap); k > 0; k--) {
    const device = devices[cursor];
    cursor = (cursor + 1) % devices.length;
    const { client } = device;
    if (!client.connected) {
      counts.offline++;
      continue;
    }
    if (client.stream.writableLength > MAX_UNSENT_BYTES) {
      counts.heldBack++;
      continue;
    }
    const ts = Math.max(now, device.lastTs + 1);
    device.lastTs = ts;
    client.publish(device.topic, telemetryPayload(device.id, ts, device.n++), { qos: 0 });
    counts.published++;
  }
}

function setRate(perSecond: number): void {
  rate = perSecond;
  rateStart = performance.now();
  accounted = 0;
  if (rate > 0 && timer === null) timer = setInterval(tick, TICK_MS);
  if (rate === 0 && timer !== null) {
    clearInterval(timer);
    timer = null;
  }
}

/** Resolves once the client has its CONNACK; ends it on any failure. */
function connectOne(url: string, login: DeviceLogin, timeoutMs: number): Promise<MqttClient> {
  return connectDeviceClient(url, login, {
    timeoutMs,
    awaits: 'CONNACK',
    onLateClose: () => counts.closed++,
  });
}

async function connectAll(message: Extract<ParentMessage, { type: 'connect' }>): Promise<void> {
  const { url, devices: logins, concurrency, clientTimeoutMs } = message;
  const errors = new Map<string, number>();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < logins.length) {
      const login = logins[next++];
      try {
        const client = await connectOne(url, login, clientTimeoutMs);
        devices.push({
          id: login.id,
          topic: deviceTelemetryTopic(login.id),
          client,
          lastTs: 0,
          n: 0,
        });
      } catch (error) {
        failed++;
        const reason = (error as Error).message;
        errors.set(reason, (errors.get(reason) ?? 0) + 1);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, logins.length) }, worker));
  const top = [...errors].sort((a, b) => b[1] - a[1]).slice(0, 3);
  send({
    type: 'ready',
    connected: devices.length,
    failed,
    errors: top,
    ms: performance.now() - started,
  });
}

async function closeAll(): Promise<void> {
  setRate(0);
  const ended = Promise.all(devices.map(({ client }) => client.endAsync()));
  let timeout: NodeJS.Timeout | undefined;
  await Promise.race([
    ended,
    new Promise<void>((resolve) => (timeout = setTimeout(resolve, END_TIMEOUT_MS))),
  ]);
  clearTimeout(timeout);
  for (const { client } of devices) if (client.connected) client.end(true);
  send({ type: 'closed' }, () => process.exit(0));
}

if (!process.send) {
  console.error('ingest-clients is started by bench/ingest.js (it needs an IPC channel)');
  process.exit(2);
}

process.on('message', (message: ParentMessage) => {
  const run = async () => {
    if (message.type === 'connect') await connectAll(message);
    else if (message.type === 'rate') {
      setRate(message.perSecond);
      send({ type: 'rate' });
    } else if (message.type === 'count') {
      send({ type: 'count', ...counts });
    } else await closeAll();
  };
  run().catch((error: unknown) => send({ type: 'failed', error: String(error) }));
});
// The parent went away (crash, Ctrl-C): nothing left to report to.
process.on('disconnect', () => process.exit(0));
