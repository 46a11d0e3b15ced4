// The devices of bench/fanout.ts: one mqtt.js client per device in this process, driven over IPC.
// connect -> connects and subscribes everyone, replies 'ready' with the storm time;
// measure -> replies 'armed', then 'received' once every client got a desired state naming the model;
// close   -> ends every client and exits. Started by fanout.ts only (needs an IPC channel).
import type { MqttClient } from 'mqtt';
import {
  percentile,
  wallClockMs,
  type ChildMessage,
  type DeviceLogin,
  type ParentMessage,
} from './fanout-ipc.js';
import { connectDeviceClient } from './device-client.js';

const END_TIMEOUT_MS = 20_000;

interface Measurement {
  modelId: string;
  needle: Buffer;
  seen: Uint8Array;
  receivedAt: number[];
  expected: number;
  timer: NodeJS.Timeout;
}

const clients: MqttClient[] = [];
let dropped = 0;
let measurement: Measurement | null = null;

function send(message: ChildMessage, then?: () => void): void {
  process.send!(message, undefined, undefined, () => then?.());
}

function onMessage(index: number, payload: Buffer): void {
  const m = measurement;
  if (!m || m.seen[index] === 1) return;
  // Cheap filter first; parse only candidates (the retained state from before has another model).
  if (payload.indexOf(m.needle) === -1) return;
  const at = wallClockMs();
  const state = JSON.parse(payload.toString('utf8')) as { model?: { id?: string } | null };
  if (state.model?.id !== m.modelId) return;
  m.seen[index] = 1;
  m.receivedAt.push(at);
  if (m.receivedAt.length >= m.expected) finishMeasurement(false);
}

function finishMeasurement(timedOut: boolean): void {
  const m = measurement;
  if (!m) return;
  measurement = null;
  clearTimeout(m.timer);
  const sorted = [...m.receivedAt].sort((a, b) => a - b);
  send({
    type: 'received',
    expected: m.expected,
    received: sorted.length,
    times:
      sorted.length === 0
        ? null
        : {
            first: sorted[0],
            p50: percentile(sorted, 50),
            p99: percentile(sorted, 99),
            last: sorted[sorted.length - 1],
          },
    timedOut,
    dropped,
  });
}

/** Resolves once the client is connected and its subscription granted; ends it on any failure. */
function connectOne(
  url: string,
  topic: string,
  device: DeviceLogin,
  index: number,
  timeoutMs: number,
): Promise<MqttClient> {
  return connectDeviceClient(url, device, {
    timeoutMs,
    awaits: 'SUBACK',
    onLateClose: () => dropped++,
    onMessage: (_topic, payload) => onMessage(index, payload),
    ready: async (client) => {
      const granted = await client.subscribeAsync(topic, { qos: 1 });
      if (!granted?.length || granted[0].qos === 128) throw new Error('subscription refused');
    },
  });
}

async function connectAll(message: Extract<ParentMessage, { type: 'connect' }>): Promise<void> {
  const { url, topic, devices, concurrency, clientTimeoutMs } = message;
  const errors = new Map<string, number>();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < devices.length) {
      const index = next++;
      try {
        clients.push(await connectOne(url, topic, devices[index], index, clientTimeoutMs));
      } catch (error) {
        failed++;
        const reason = (error as Error).message;
        errors.set(reason, (errors.get(reason) ?? 0) + 1);
      }
    }
  };
  const started = wallClockMs();
  await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));
  const stormMs = wallClockMs() - started;
  const top = [...errors].sort((a, b) => b[1] - a[1]).slice(0, 3);
  send({ type: 'ready', connected: clients.length, failed, errors: top, stormMs });
}

function startMeasurement(modelId: string, timeoutMs: number, deviceCount: number): void {
  measurement = {
    modelId,
    needle: Buffer.from(modelId, 'utf8'),
    seen: new Uint8Array(deviceCount),
    receivedAt: [],
    expected: clients.filter((client) => client.connected).length,
    timer: setTimeout(() => finishMeasurement(true), timeoutMs),
  };
  send({ type: 'armed' });
}

async function closeAll(): Promise<void> {
  measurement = null;
  const ended = Promise.all(clients.map((client) => client.endAsync()));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, END_TIMEOUT_MS)));
  await Promise.race([ended, timeout]);
  clearTimeout(timer);
  for (const client of clients) if (client.connected) client.end(true);
  send({ type: 'closed' }, () => process.exit(0));
}

if (!process.send) {
  console.error('fanout-clients is started by bench/fanout.js (it needs an IPC channel)');
  process.exit(2);
}

let deviceCount = 0;
process.on('message', (message: ParentMessage) => {
  const run = async () => {
    if (message.type === 'connect') {
      deviceCount = message.devices.length;
      await connectAll(message);
    } else if (message.type === 'measure')
      startMeasurement(message.modelId, message.timeoutMs, deviceCount);
    else await closeAll();
  };
  run().catch((error: unknown) => send({ type: 'failed', error: String(error) }));
});
// The parent went away (crash, Ctrl-C): nothing left to report to.
process.on('disconnect', () => process.exit(0));
