// The observer of bench/rollout.ts: an MQTT client logged in as `observer` that notes, per device,
// when its state messages first show each milestone (bench/rollout-ipc.ts). Runs in the bench's
// process (`--observer=inline`) or, by default, as this script in a process of its own, driven over
// IPC: connect -> ready, arm -> armed, wait -> reached, stats, close -> closed.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAsync, type MqttClient } from 'mqtt';
import { ALL_DEVICE_STATE } from '@sentinel/broker';
import {
  CpuProfiler,
  Milestones,
  ProcessMeter,
  reply,
  wallClockMs,
  type ObserverReply,
  type ObserverRequest,
  type StateLike,
} from './rollout-ipc.js';

/** Parses (without schema validation, to stay cheap) and records every device state it sees. */
export class StateObserver {
  readonly milestones: Milestones;
  messages = 0;
  /** Messages by the deployment phase they report ('-' without one). */
  readonly phases = new Map<string, number>();
  private constructor(
    private readonly client: MqttClient,
    devices: readonly string[],
  ) {
    this.milestones = new Milestones(devices);
    client.on('message', (_topic, payload) => {
      const at = wallClockMs();
      this.messages++;
      if (payload.length === 0) return;
      let state: StateLike;
      try {
        state = JSON.parse(payload.toString('utf8')) as StateLike;
      } catch {
        return;
      }
      const phase = state.deployment?.phase ?? (state.online === false ? 'offline' : '-');
      this.phases.set(phase, (this.phases.get(phase) ?? 0) + 1);
      this.milestones.record(state, at);
    });
  }

  static async connect(url: string, token: string, devices: readonly string[]) {
    const client = await connectAsync(url, {
      username: 'observer',
      password: token,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
    });
    const observer = new StateObserver(client, devices);
    const granted = await client.subscribeAsync(ALL_DEVICE_STATE, { qos: 1 });
    if (granted[0]?.qos === 128) throw new Error(`the broker refused ${ALL_DEVICE_STATE}`);
    return observer;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

async function childMain(): Promise<void> {
  const meter = new ProcessMeter();
  const profiler = new CpuProfiler();
  let observer: StateObserver | null = null;
  const need = () => {
    if (!observer) throw new Error('not connected');
    return observer;
  };
  process.on('message', (message: ObserverRequest) => {
    const run = async () => {
      switch (message.type) {
        case 'connect':
          observer = await StateObserver.connect(message.url, message.token, message.devices);
          return reply<ObserverReply>({ type: 'ready' });
        case 'arm':
          need().milestones.arm(message.watch);
          return reply<ObserverReply>({ type: 'armed' });
        case 'wait': {
          const result = await need().milestones.wait(message.milestone, message.timeoutMs);
          return reply<ObserverReply>({ type: 'reached', result });
        }
        case 'stats':
          return reply<ObserverReply>({
            type: 'stats',
            stats: {
              ...meter.take(),
              messages: observer?.messages ?? 0,
              phases: Object.fromEntries(observer?.phases ?? []),
            },
          });
        case 'profile':
          await profiler.handle(message);
          return reply<ObserverReply>({ type: 'profiled' });
        case 'close':
          await observer?.close().catch(() => undefined);
          return reply<ObserverReply>({ type: 'closed' }, () => process.exit(0));
      }
    };
    run().catch((error: unknown) => reply<ObserverReply>({ type: 'failed', error: String(error) }));
  });
  // The parent went away (crash, Ctrl-C): nothing left to report to.
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.send) {
    console.error('rollout-observer is started by bench/rollout.js (it needs an IPC channel)');
    process.exit(2);
  }
  await childMain();
}
