// Shared by bench/rollout.ts (the hub's process) and its children, bench/rollout-fleet.ts (the
// simulated devices) and bench/rollout-observer.ts (an MQTT observer): the IPC messages, the
// per-device milestone bookkeeping, process meters and a request/reply link to a child.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { percentile, wallClockMs } from './fanout-ipc.js';

export { percentile, wallClockMs };

/** Per device, the first moment it reported: online, the deployment at all, staged, active, back on the old model. */
export const MILESTONES = ['online', 'notified', 'staged', 'active', 'back'] as const;
export type Milestone = (typeof MILESTONES)[number];

/** What the device states are searched for once a deployment or a rollback starts. */
export type Watch =
  /**
   * A deployment whose id is not in `exclude` (the POST that creates it answers after devices may
   * have reported it). Active means it reports phase active with the model of `sha256` serving.
   */
  | { kind: 'deploy'; exclude: string[]; sha256: string }
  /** Back: the active slot holds the model of `sha256` again. */
  | { kind: 'rollback'; sha256: string };

/** Wall-clock instants (ms), comparable across processes. */
export interface Times {
  first: number;
  p50: number;
  p99: number;
  last: number;
}

export interface MilestoneResult {
  milestone: Milestone;
  expected: number;
  reached: number;
  timedOut: boolean;
  /** Null when no device reached it. */
  times: Times | null;
  /** Deployment ids the devices reported under the current deploy watch. */
  deployments: string[];
  /** The most common failed/rolled_back reports (`phase:reason`) under the current watch. */
  failures: [string, number][];
}

export interface Receipts {
  received: number;
  times: Times;
}

/** Nearest-rank summary of wall-clock instants; null for none. */
export function summarise(instants: readonly number[]): Times | null {
  if (instants.length === 0) return null;
  const sorted = [...instants].sort((a, b) => a - b);
  return {
    first: sorted[0],
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    last: sorted[sorted.length - 1],
  };
}

export interface ProcessStats {
  rss: number;
  /** CPU time (user + system) since the previous reading. */
  cpuMs: number;
  /** Event-loop utilisation (0..1) since the previous reading. */
  elu: number;
}

export interface ObserverStats extends ProcessStats {
  messages: number;
  /** Messages so far by the deployment phase they report. */
  phases: Record<string, number>;
}

export interface FleetStats extends ProcessStats {
  /** Agents whose MQTT client is connected now. */
  connected: number;
  /** MQTT sessions opened and closed by all agents so far (reconnects show as connects > agents). */
  connects: number;
  closes: number;
  downloads: number;
  sessions: number;
  /** Unhandled promise rejections (an agent bug; the process survives them here), first one. */
  unhandled: number;
  firstUnhandled: string | null;
  /** The agents' most common warnings and errors so far. */
  warnings: [string, number][];
}

/**
 * What the simulated agents' telemetry windows hold: frames at `fps` per second with latencies
 * around `latencyMs` (+-10 %), by the sha256 of the model the agent serves at that moment.
 */
export interface TelemetryPlan {
  /** The agents' SENTINEL_TELEMETRY_INTERVAL_S. */
  intervalS: number;
  profiles: Record<string, { fps: number; latencyMs: number }>;
}

/** Starts a CPU profile of the child (file null), or stops it and writes it to `file`. */
export type ProfileRequest = { type: 'profile'; file: string | null };

export type FleetRequest =
  | {
      type: 'start';
      devicesFile: string;
      mqttUrl: string;
      hubUrl: string;
      group: string;
      dataDir: string;
      /** FleetSimulator's `concurrency`. */
      concurrency: number;
      /**
       * Agents between start and CONNACK at any one time; 0 = FleetSimulator.start(), which starts
       * them all at once (Agent.start() returns before the MQTT connection is up).
       */
      connectsInFlight: number;
      /** Telemetry (bench/rollback.ts); without it the agents publish a window an hour. */
      telemetry?: TelemetryPlan;
    }
  /** From now on, note when each agent receives the next two group desired states (by seq). */
  | { type: 'arm' }
  | { type: 'receipts' }
  | { type: 'stats' }
  /** Like stats, without taking the CPU and event-loop readings. */
  | { type: 'progress' }
  | ProfileRequest
  | { type: 'close' };

export type FleetReply =
  | { type: 'started'; agents: number; startMs: number }
  | {
      type: 'stats';
      stats: FleetStats;
    }
  | { type: 'progress'; stats: Omit<FleetStats, keyof ProcessStats> }
  | { type: 'armed' }
  | { type: 'profiled' }
  /**
   * When the agents' MQTT clients received the first and the second group desired state published
   * since 'arm' (null where no agent did); null when the agents' clients cannot be reached.
   */
  | { type: 'receipts'; receipts: [Receipts | null, Receipts | null] | null }
  | { type: 'closed' }
  | { type: 'failed'; error: string };

export type ObserverRequest =
  | { type: 'connect'; url: string; token: string; devices: string[] }
  | { type: 'arm'; watch: Watch }
  | { type: 'wait'; milestone: Milestone; timeoutMs: number }
  | { type: 'stats' }
  | ProfileRequest
  | { type: 'close' };

export type ObserverReply =
  | { type: 'ready' }
  | { type: 'armed' }
  | { type: 'reached'; result: MilestoneResult }
  | { type: 'stats'; stats: ObserverStats }
  | { type: 'profiled' }
  | { type: 'closed' }
  | { type: 'failed'; error: string };

/** A CPU profile of this process, through the inspector (sampled every 500 µs). */
export class CpuProfiler {
  private session: Session | null = null;

  async start(): Promise<void> {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
    this.session = session;
  }

  /** Writes the profile (Chrome DevTools' .cpuprofile) to `file`. */
  async stop(file: string): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = null;
    try {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
    } finally {
      session.disconnect();
    }
  }

  /** A child's answer to a ProfileRequest. */
  async handle(request: ProfileRequest): Promise<void> {
    if (request.file === null) await this.start();
    else await this.stop(request.file);
  }
}

/** CPU time and event-loop utilisation of this process between two readings. */
export class ProcessMeter {
  private cpu = process.cpuUsage();
  private elu = performance.eventLoopUtilization();

  take(): ProcessStats {
    const cpu = process.cpuUsage(this.cpu);
    const elu = performance.eventLoopUtilization(this.elu);
    this.cpu = process.cpuUsage();
    this.elu = performance.eventLoopUtilization();
    return {
      rss: process.memoryUsage.rss(),
      cpuMs: (cpu.user + cpu.system) / 1000,
      elu: elu.utilization,
    };
  }
}

/** The part of a device state message the milestones look at (parsed, not validated). */
export interface StateLike {
  device_id?: string;
  online?: boolean;
  active_slot?: string | null;
  slots?: Record<string, { sha256?: string } | null> | null;
  deployment?: { deployment_id?: string | null; phase?: string; reason?: string } | null;
}

export function servingSha256(state: StateLike): string | null {
  const slot = state.active_slot;
  return slot ? (state.slots?.[slot]?.sha256 ?? null) : null;
}

/**
 * The first instant each device reached each milestone, for a fixed list of devices. `record` is
 * called for every state message; `wait` resolves once every device reached a milestone, or at a
 * timeout with how many did.
 */
export class Milestones {
  private readonly index = new Map<string, number>();
  private readonly firsts = {} as Record<Milestone, Float64Array>;
  private readonly counts = {} as Record<Milestone, number>;
  private watch: Watch | null = null;
  private exclude = new Set<string>();
  private readonly deployments = new Set<string>();
  private readonly failures = new Map<number, string>();
  private readonly waiters = new Set<{ milestone: Milestone; done: () => void }>();

  constructor(deviceIds: readonly string[]) {
    deviceIds.forEach((id, i) => this.index.set(id, i));
    for (const milestone of MILESTONES) {
      this.firsts[milestone] = new Float64Array(deviceIds.length).fill(NaN);
      this.counts[milestone] = 0;
    }
  }

  get size(): number {
    return this.index.size;
  }

  /** Starts looking for `watch`; forgets everything but `online`. */
  arm(watch: Watch): void {
    this.watch = watch;
    this.exclude = new Set(watch.kind === 'deploy' ? watch.exclude : []);
    this.deployments.clear();
    this.failures.clear();
    for (const milestone of MILESTONES) {
      if (milestone === 'online') continue;
      this.firsts[milestone].fill(NaN);
      this.counts[milestone] = 0;
    }
  }

  record(state: StateLike, at: number): void {
    const i = state.device_id === undefined ? undefined : this.index.get(state.device_id);
    if (i === undefined) return;
    if (state.online) this.mark('online', i, at);
    const watch = this.watch;
    if (!watch) return;
    if (watch.kind === 'rollback') {
      if (servingSha256(state) === watch.sha256) this.mark('back', i, at);
      return;
    }
    const progress = state.deployment;
    const id = progress?.deployment_id;
    if (!progress || !id || this.exclude.has(id)) return;
    this.deployments.add(id);
    this.mark('notified', i, at);
    const phase = progress.phase;
    if (phase === 'staged' || phase === 'active') this.mark('staged', i, at);
    if (phase === 'active' && servingSha256(state) === watch.sha256) this.mark('active', i, at);
    if (phase === 'failed' || phase === 'rolled_back')
      this.failures.set(i, `${phase}:${progress.reason ?? '?'}`);
    else this.failures.delete(i);
  }

  result(milestone: Milestone, timedOut = false): MilestoneResult {
    const reachedAt = Array.from(this.firsts[milestone]).filter((t) => !Number.isNaN(t));
    const reasons = new Map<string, number>();
    for (const reason of this.failures.values())
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    return {
      milestone,
      expected: this.size,
      reached: reachedAt.length,
      timedOut,
      times: summarise(reachedAt),
      deployments: [...this.deployments],
      failures: [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 3),
    };
  }

  /** Resolves once every device reached `milestone`, or after `timeoutMs` with those that did. */
  wait(milestone: Milestone, timeoutMs: number): Promise<MilestoneResult> {
    if (this.counts[milestone] >= this.size) return Promise.resolve(this.result(milestone));
    return new Promise((resolve) => {
      const waiter = {
        milestone,
        done: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(this.result(milestone));
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(this.result(milestone, true));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private mark(milestone: Milestone, i: number, at: number): void {
    const firsts = this.firsts[milestone];
    if (!Number.isNaN(firsts[i])) return;
    firsts[i] = at;
    if (++this.counts[milestone] < this.size) return;
    for (const waiter of [...this.waiters]) if (waiter.milestone === milestone) waiter.done();
  }
}

type Typed = { type: string };

/** A child process spoken to by request/reply over IPC; every wait is bounded. */
export class ChildLink<Request extends Typed, Reply extends Typed> {
  private readonly inbox: Reply[] = [];
  private readonly waiters: {
    type: Reply['type'];
    resolve: (m: Reply) => void;
    reject: (e: Error) => void;
  }[] = [];
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.on('message', (message: Reply) => {
      if (message.type === 'failed')
        return this.failAll(
          new Error(`${name}: ${(message as unknown as { error: string }).error}`),
        );
      const index = this.waiters.findIndex((w) => w.type === message.type);
      if (index === -1) this.inbox.push(message);
      else this.waiters.splice(index, 1)[0].resolve(message);
    });
    // Sending to a child that has gone: an 'error' event, which must not end this process.
    child.on('error', (error) => this.failAll(new Error(`${name}: ${error.message}`)));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.failAll(new Error(`${name} exited (${signal ?? code})`));
        resolve();
      }),
    );
  }

  /** Through bash, to raise its open-file limit as far as the hard limit allows. */
  static start<Q extends Typed, R extends Typed>(
    name: string,
    script: string,
    options: { fileLimit: number; heapMb: number },
  ): ChildLink<Q, R> {
    const command =
      'ulimit -n "$1" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "--max-old-space-size=$2" "$3"';
    const child = spawn(
      'bash',
      ['-c', command, process.execPath, String(options.fileLimit), String(options.heapMb), script],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    return new ChildLink<Q, R>(name, child);
  }

  /** The node process (bash execs it, so it keeps the pid). */
  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(message: Request): void {
    if (!this.child.connected) throw new Error(`${this.name} is gone`);
    this.child.send(message, (error) => {
      if (error) this.failAll(new Error(`${this.name}: ${error.message}`));
    });
  }

  async request<T extends Reply['type']>(
    message: Request,
    type: T,
    timeoutMs: number,
  ): Promise<Extract<Reply, { type: T }>> {
    if (!this.child.connected) throw new Error(`${this.name} is gone`);
    const reply = this.expect(type, timeoutMs);
    this.send(message);
    return reply;
  }

  expect<T extends Reply['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<Reply, { type: T }>> {
    const queued = this.inbox.findIndex((m) => m.type === type);
    if (queued !== -1)
      return Promise.resolve(this.inbox.splice(queued, 1)[0] as Extract<Reply, { type: T }>);
    if (!this.alive) return Promise.reject(new Error(`${this.name} exited before '${type}'`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no '${type}' from ${this.name} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const waiter = {
        type,
        resolve: (m: Reply) => {
          clearTimeout(timer);
          resolve(m as Extract<Reply, { type: T }>);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Asks the child to close; kills it if that does not end it within `timeoutMs`. */
  async close(message: Request, closed: Reply['type'], timeoutMs: number): Promise<void> {
    if (this.alive) {
      try {
        await this.request(message, closed, timeoutMs);
      } catch {
        this.child.kill('SIGKILL');
      }
    }
    await this.exited;
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

/** A child's side: replies to the parent, `then` once the message left. */
export function reply<R extends Typed>(message: R, then?: () => void): void {
  process.send!(message, undefined, undefined, () => then?.());
}
