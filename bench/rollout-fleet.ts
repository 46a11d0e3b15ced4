// The devices of bench/rollout.ts: a FleetSimulator (many real agents in one process, one
// onnxruntime session pool and one model cache) in a process of its own, driven over IPC:
// start -> started (paced connects; with a telemetry plan, a frame feeder), arm -> armed and receipts (when the agents' clients got the
// next desired states), stats / progress, profile -> profiled, close -> closed (paced stops).
// Started by rollout.ts only (needs an IPC channel).
import { readFileSync } from 'node:fs';
import {
  FleetSimulator,
  loadAgentConfig,
  type Logger,
  type SimulatedDevice,
} from '@sentinel/edge-agent';
import type { MqttClient } from 'mqtt';
import { groupDesiredTopic } from '@sentinel/broker';
import {
  CpuProfiler,
  ProcessMeter,
  reply,
  summarise,
  wallClockMs,
  type Receipts,
  type FleetReply,
  type FleetRequest,
  type FleetStats,
  type ProcessStats,
  type TelemetryPlan,
} from './rollout-ipc.js';

const STOP_TIMEOUT_MS = 60_000;
/** Agents stopped at once: all 10,000 at once (FleetSimulator.stop()) crashed the hub, see the report. */
const STOPS_IN_FLIGHT = 100;
/**
 * The health check's latency budget. 10,000 agents share one CPU and one onnxruntime session here,
 * so a warm-up inference waits behind thousands of others: at the default 1 s, a few hundred
 * devices failed their health check on queueing alone, which a real device would not see.
 */
const HEALTH_LATENCY_MS = '60000';
/** A paced start moves on from an agent that did not connect within this (it keeps retrying). */
const CONNECT_TIMEOUT_MS = 30_000;
/** How often the frame feeder credits every agent with the frames of the time gone by. */
const FEED_MS = 100;

const meter = new ProcessMeter();
const profiler = new CpuProfiler();
let fleet: FleetSimulator | null = null;
const counts = { connects: 0, closes: 0, unhandled: 0, firstUnhandled: null as string | null };
const warnings = new Map<string, number>();

/** The agents' log, counted instead of written: 10,000 agents would drown the terminal. */
const countingLogger: Logger = {
  error: (message, fields) => warn(message, fields),
  warn: (message, fields) => warn(message, fields),
  info: (message) => {
    if (message === 'mqtt connected') counts.connects++;
  },
  debug: (message) => {
    if (message === 'mqtt closed') counts.closes++;
  },
};

function warn(message: string, fields?: Record<string, unknown>): void {
  const text = (typeof fields?.error === 'string' ? `${message}: ${fields.error}` : message)
    // One line per kind, not per device or time stamp.
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')
    .slice(0, 160);
  warnings.set(text, (warnings.get(text) ?? 0) + 1);
}

// An agent promise that rejects unhandled would end the process, and every simulated device with
// it; count it and report it instead (it is a finding about the agent, not about the bench).
process.on('unhandledRejection', (reason) => {
  counts.unhandled++;
  counts.firstUnhandled ??=
    reason instanceof Error ? (reason.stack ?? reason.message) : String(reason);
});

async function start(message: Extract<FleetRequest, { type: 'start' }>): Promise<void> {
  const devices = JSON.parse(readFileSync(message.devicesFile, 'utf8')) as SimulatedDevice[];
  if (devices.length === 0) throw new Error('no devices');
  // Validated like a real agent's settings; the per-device fields are the simulator's.
  const {
    deviceId: _deviceId,
    mqttUsername: _username,
    mqttPassword: _password,
    ...base
  } = loadAgentConfig({
    SENTINEL_DEVICE_ID: devices[0].id,
    SENTINEL_MQTT_URL: message.mqttUrl,
    SENTINEL_HUB_URL: message.hubUrl,
    SENTINEL_GROUP: message.group,
    SENTINEL_DATA_DIR: message.dataDir,
    SENTINEL_API: 'off',
    SENTINEL_TELEMETRY_INTERVAL_S: String(message.telemetry?.intervalS ?? 3600),
    SENTINEL_LOG_LEVEL: 'error',
    SENTINEL_HEALTH_LATENCY_MS: HEALTH_LATENCY_MS,
  });
  fleet = new FleetSimulator({
    devices,
    base,
    concurrency: message.concurrency,
    logger: countingLogger,
  });
  const started = performance.now();
  if (message.connectsInFlight > 0) await startPaced(fleet, message.connectsInFlight);
  else await fleet.start();
  tapDesired(fleet, groupDesiredTopic(message.group));
  if (message.telemetry) feedFrames(fleet, message.telemetry);
  reply<FleetReply>({
    type: 'started',
    agents: fleet.agents.length,
    startMs: performance.now() - started,
  });
}

/**
 * Per agent, when its MQTT client received group desired states: a second 'message' listener on
 * the agent's client. The client is a private field of Agent; without it there are no receipts.
 */
const receipts = {
  tapped: false,
  /** Desired states with a seq above this count; set by 'arm' to the highest seq seen so far. */
  floor: 0,
  maxSeq: 0,
  generation: 0,
  first: [] as number[],
  second: [] as number[],
};

function tapDesired(simulator: FleetSimulator, topic: string): void {
  for (const agent of simulator.agents) {
    const client = (agent as unknown as { client?: MqttClient }).client;
    if (!client) return;
    let generation = -1;
    let lastSeq = 0;
    let count = 0;
    client.on('message', (t, payload) => {
      if (t !== topic || payload.length === 0) return;
      const at = wallClockMs();
      const seq = (JSON.parse(payload.toString('utf8')) as { seq?: number }).seq ?? 0;
      receipts.maxSeq = Math.max(receipts.maxSeq, seq);
      if (generation !== receipts.generation) {
        generation = receipts.generation;
        lastSeq = receipts.floor;
        count = 0;
      }
      if (seq <= lastSeq) return;
      lastSeq = seq;
      count++;
      if (count === 1) receipts.first.push(at);
      else if (count === 2) receipts.second.push(at);
    });
  }
  receipts.tapped = true;
}

function armReceipts(): void {
  receipts.floor = receipts.maxSeq;
  receipts.generation++;
  receipts.first = [];
  receipts.second = [];
}

function receiptsNow(): FleetReply {
  if (!receipts.tapped) return { type: 'receipts', receipts: null };
  const of = (list: number[]): Receipts | null => {
    const times = summarise(list);
    return times ? { received: list.length, times } : null;
  };
  return { type: 'receipts', receipts: [of(receipts.first), of(receipts.second)] };
}

/** The parts of an Agent the frame feeder uses (private fields: the simulator has no public hook). */
interface FramedAgent {
  window: { record(latencyMs: number, ok: boolean): void; take(...args: unknown[]): unknown };
  slots: { activeModel(): { sha256: string } | null };
}

/**
 * Synthetic frames for every agent, by the model it serves at the moment: 10,000 agents running
 * real inference at camera rates would need far more than this machine's cores, and what
 * bench/rollback measures is the hub's path (ingest, rules, rollback) and the agents' swap back,
 * not inference. The agents publish their windows themselves (their own timer, slot, model and
 * deployment tags); only the frames recorded into the windows are the feeder's. Each agent is
 * credited the frames of the time since its last credit every FEED_MS and right before it closes
 * a window, so that a window holds `fps` x its length even when this loaded process runs timers
 * late (a credit per tick alone put a stalled tick's frames into the next window).
 */
function feedFrames(simulator: FleetSimulator, plan: TelemetryPlan): void {
  const agents = simulator.agents.map((agent) => agent as unknown as FramedAgent);
  const credited = new Float64Array(agents.length).fill(performance.now());
  const owed = new Float64Array(agents.length);
  const credit = (i: number) => {
    const agent = agents[i];
    const now = performance.now();
    const elapsedS = (now - credited[i]) / 1000;
    credited[i] = now;
    const sha256 = agent.slots.activeModel()?.sha256;
    const profile = sha256 === undefined ? undefined : plan.profiles[sha256];
    if (!profile) return;
    owed[i] += profile.fps * elapsedS;
    for (; owed[i] >= 1; owed[i] -= 1)
      agent.window.record(profile.latencyMs * (0.9 + 0.2 * Math.random()), true);
  };
  agents.forEach((agent, i) => {
    const take = agent.window.take.bind(agent.window);
    agent.window.take = (...args: unknown[]) => {
      credit(i);
      return take(...args);
    };
  });
  setInterval(() => {
    for (let i = 0; i < agents.length; i++) credit(i);
  }, FEED_MS).unref();
}

/** Starts the agents with at most `inFlight` of them waiting for their CONNACK. */
async function startPaced(simulator: FleetSimulator, inFlight: number): Promise<void> {
  const agents = simulator.agents;
  let next = 0;
  const worker = async () => {
    while (next < agents.length) {
      const agent = agents[next++];
      await agent.start();
      const deadline = performance.now() + CONNECT_TIMEOUT_MS;
      while (!agent.status().connected && performance.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, agents.length) }, worker));
}

function progress(): Omit<FleetStats, keyof ProcessStats> {
  const agents = fleet?.agents ?? [];
  return {
    connected: agents.filter((agent) => agent.status().connected).length,
    ...counts,
    downloads: fleet?.cache.downloads ?? 0,
    sessions: fleet?.pool.size ?? 0,
    warnings: [...warnings].sort((a, b) => b[1] - a[1]).slice(0, 5),
  };
}

/** Stops the agents a slice at a time (each says goodbye with a retained offline state). */
async function stopPaced(): Promise<void> {
  const agents = fleet?.agents ?? [];
  for (let i = 0; i < agents.length; i += STOPS_IN_FLIGHT)
    await Promise.all(
      agents.slice(i, i + STOPS_IN_FLIGHT).map((agent) => agent.stop().catch(() => undefined)),
    );
}

async function close(): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)));
  await Promise.race([stopPaced(), timeout]);
  clearTimeout(timer);
  reply<FleetReply>({ type: 'closed' }, () => process.exit(0));
}

if (!process.send) {
  console.error('rollout-fleet is started by bench/rollout.js (it needs an IPC channel)');
  process.exit(2);
}

process.on('message', (message: FleetRequest) => {
  const run = async () => {
    if (message.type === 'start') await start(message);
    else if (message.type === 'stats')
      reply<FleetReply>({ type: 'stats', stats: { ...meter.take(), ...progress() } });
    else if (message.type === 'profile') {
      await profiler.handle(message);
      reply<FleetReply>({ type: 'profiled' });
    } else if (message.type === 'arm') {
      armReceipts();
      reply<FleetReply>({ type: 'armed' });
    } else if (message.type === 'receipts') reply<FleetReply>(receiptsNow());
    else if (message.type === 'progress')
      reply<FleetReply>({ type: 'progress', stats: progress() });
    else await close();
  };
  run().catch((error: unknown) => reply<FleetReply>({ type: 'failed', error: String(error) }));
});
// The parent went away (crash, Ctrl-C): nothing left to report to.
process.on('disconnect', () => process.exit(0));
