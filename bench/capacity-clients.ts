// The devices of bench/capacity.ts: one mqtt.js client per device in this process, connected the
// way the edge agent connects (its offline state as retained Last Will; subscriptions to its device
// desired and commands topics, then to its group's desired topic; then its retained state report),
// driven over IPC:
// connect -> connected (more devices; those connected stay), publish -> published (state reports or
// telemetry windows at a given rate), arm / received (group desired states that reached every
// client), close -> closed. Started by capacity.ts only (needs an IPC channel).
import type { MqttClient } from 'mqtt';
import {
  deviceCommandsTopic,
  deviceDesiredTopic,
  deviceStateTopic,
  deviceTelemetryTopic,
  groupDesiredTopic,
} from '@sentinel/broker';
import {
  statePayload,
  windowPayload,
  type CapacityReply,
  type CapacityRequest,
  type DeviceLogin,
  type WindowTags,
} from './capacity-ipc.js';
import { reply } from './rollout-ipc.js';
import { connectDeviceClient } from './device-client.js';

const END_TIMEOUT_MS = 20_000;
/** What the devices serve until told otherwise (the clients' first state report). */
const FIRST_TAGS: WindowTags = {
  model_id: '0b6f8c1e-3f0e-4a59-9d2a-1c2b3d4e5f60',
  model_version: '1.0.0',
  slot: 'blue',
  deployment_id: null,
};

interface Device {
  id: string;
  client: MqttClient;
  sent: number;
}

const devices: Device[] = [];
let counting: { needle: Buffer; seen: Set<string>; expected: number; done: () => void } | null =
  null;

function onGroupDesired(id: string, payload: Buffer): void {
  const c = counting;
  if (!c || c.seen.has(id) || payload.indexOf(c.needle) === -1) return;
  c.seen.add(id);
  if (c.seen.size >= c.expected) c.done();
}

/** Resolves once the device is subscribed and its retained state is acknowledged. */
async function connectOne(
  url: string,
  group: string,
  login: DeviceLogin,
  timeoutMs: number,
): Promise<Device> {
  const groupTopic = groupDesiredTopic(group);
  const client = await connectDeviceClient(url, login, {
    timeoutMs,
    awaits: 'the state report',
    will: {
      topic: deviceStateTopic(login.id),
      payload: Buffer.from(statePayload(login.id, false, 0, FIRST_TAGS)),
      qos: 1,
      retain: true,
    },
    onMessage: (topic, payload) => {
      if (topic === groupTopic) onGroupDesired(login.id, payload);
    },
    ready: async (c) => {
      await c.subscribeAsync([deviceDesiredTopic(login.id), deviceCommandsTopic(login.id)], {
        qos: 1,
      });
      await c.subscribeAsync(groupTopic, { qos: 1 });
      await c.publishAsync(
        deviceStateTopic(login.id),
        statePayload(login.id, true, 0, FIRST_TAGS),
        {
          qos: 1,
          retain: true,
        },
      );
    },
  });
  return { id: login.id, client, sent: 1 };
}

async function connectAll(m: Extract<CapacityRequest, { type: 'connect' }>): Promise<void> {
  const errors = new Map<string, number>();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < m.devices.length) {
      const login = m.devices[next++];
      try {
        devices.push(await connectOne(m.url, m.group, login, m.clientTimeoutMs));
      } catch (error) {
        failed++;
        const reason = (error as Error).message;
        errors.set(reason, (errors.get(reason) ?? 0) + 1);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(m.inFlight, m.devices.length) }, worker));
  reply<CapacityReply>({
    type: 'connected',
    connected: devices.length,
    failed,
    errors: [...errors].sort((a, b) => b[1] - a[1]).slice(0, 3),
    ms: performance.now() - started,
  });
}

/** Round-robin over the devices, `perSecond` messages a second in 10 ms ticks. */
async function publishAll(m: Extract<CapacityRequest, { type: 'publish' }>): Promise<void> {
  const total = devices.length * m.perDevice;
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.ceil(((performance.now() - started) / 1000) * m.perSecond));
    for (; sent < due; sent++) {
      const device = devices[sent % devices.length];
      const n = device.sent++;
      if (m.kind === 'state')
        device.client.publish(
          deviceStateTopic(device.id),
          statePayload(device.id, true, n, m.tags),
          {
            qos: 1,
            retain: true,
          },
        );
      else
        device.client.publish(
          deviceTelemetryTopic(device.id),
          windowPayload(device.id, n, m.tags),
          {
            qos: 0,
          },
        );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  reply<CapacityReply>({ type: 'published', sent, ms: performance.now() - started });
}

function arm(needle: string): void {
  counting = {
    needle: Buffer.from(needle, 'utf8'),
    seen: new Set(),
    expected: devices.filter((d) => d.client.connected).length,
    done: () => undefined,
  };
  reply<CapacityReply>({ type: 'armed' });
}

async function received(timeoutMs: number): Promise<void> {
  const c = counting;
  if (!c) throw new Error('received before arm');
  let timedOut = false;
  if (c.seen.size < c.expected)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timedOut = true;
        resolve();
      }, timeoutMs);
      c.done = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  counting = null;
  reply<CapacityReply>({
    type: 'received',
    expected: c.expected,
    received: c.seen.size,
    timedOut,
  });
}

async function closeAll(): Promise<void> {
  counting = null;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(devices.map((d) => d.client.endAsync())),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, END_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  for (const d of devices) if (d.client.connected) d.client.end(true);
  reply<CapacityReply>({ type: 'closed' }, () => process.exit(0));
}

if (!process.send) {
  console.error('capacity-clients is started by bench/capacity.js (it needs an IPC channel)');
  process.exit(2);
}

process.on('message', (message: CapacityRequest) => {
  const run = async () => {
    if (message.type === 'connect') await connectAll(message);
    else if (message.type === 'publish') await publishAll(message);
    else if (message.type === 'arm') arm(message.needle);
    else if (message.type === 'received') await received(message.timeoutMs);
    else await closeAll();
  };
  run().catch((error: unknown) => reply<CapacityReply>({ type: 'failed', error: String(error) }));
});
// The parent went away (crash, Ctrl-C): nothing left to report to.
process.on('disconnect', () => process.exit(0));
