import { performance } from 'node:perf_hooks';
import type ort from 'onnxruntime-node';
import type { ModelRef, ShadowTelemetry } from '@sentinel/broker/protocol';
import type { Feeds } from '../inference/tensors.js';
import { agreement, type FlatTensor, type ShadowSettings } from './compare.js';
import { ServingGauge } from '../inference/serving-gauge.js';
import { ShadowWindow } from './shadow-window.js';

type Outputs = ort.InferenceSession.OnnxValueMapType;

/** The model under shadow verification and how to run it (the standby slot). */
export interface ShadowCandidate {
  model: ModelRef;
  deploymentId: string | null;
  settings: ShadowSettings;
  sampleRate: number;
  queue: number;
  run(feeds: Feeds): Promise<Outputs>;
}

interface Job {
  feeds: Feeds;
  active: FlatTensor;
  activeLatencyMs: number;
  /** The serving gauge's count when the sample was queued. */
  servedAt: number;
}

export const DEFAULT_SHADOW_QUEUE = 2;

/**
 * A sampled input runs anyway once this many served inferences finished while it waited: on a
 * device whose serving path never idles, the candidate still gets a run per so many served
 * inferences (each delays at most the served inferences already queued behind it, here about
 * 1 in 2,000), instead of none.
 */
export const SHADOW_STARVED_AFTER = 2_000;

/**
 * Whether the candidate may run its next sample now: when no served inference is in flight, or
 * once `servedWhileWaiting` served inferences finished since the sample (or the last candidate
 * run, whichever is later) and the serving path never idled.
 */
export function shadowMayRun(
  servingBusy: boolean,
  servedWhileWaiting: number,
  starvedAfter = SHADOW_STARVED_AFTER,
): boolean {
  return !servingBusy || servedWhileWaiting >= starvedAfter;
}

/** An output tensor as plain numbers (int64 as numbers). */
export function flat(outputs: Outputs, name: string | null): FlatTensor | null {
  const key = name ?? Object.keys(outputs)[0];
  const tensor = key === undefined ? undefined : (outputs[key] as ort.Tensor | undefined);
  if (!tensor) return null;
  const data = tensor.data as ArrayLike<number> | BigInt64Array;
  return {
    dims: [...tensor.dims],
    data: data instanceof BigInt64Array ? Array.from(data, Number) : (data as ArrayLike<number>),
  };
}

/**
 * Runs the candidate beside the serving model, off the serving path: `offer` (called after a served
 * inference) only samples and queues, in constant time. onnxruntime-node runs inferences on the
 * event loop, so a candidate inference started while a served one waits would run ahead of it:
 * the candidate runs only when no served inference is in flight (`shadowMayRun`; checked again
 * one event-loop turn later, so that an application answering in a loop gets its next inference
 * in first), one at a time. A sample that finds the queue full is dropped (counted) instead of
 * waiting. Results never reach the application: only the comparison, in the telemetry's `shadow`
 * block.
 */
export class ShadowRunner {
  private candidate: ShadowCandidate | null = null;
  private window = new ShadowWindow();
  private readonly queue: Job[] = [];
  private running = false;
  private idleCheck: NodeJS.Immediate | null = null;
  private unsubscribe: (() => void) | null = null;
  /** The serving gauge's count when the last candidate run ended. */
  private lastRunAt = 0;

  constructor(
    private readonly random: () => number = Math.random,
    private readonly serving: ServingGauge = new ServingGauge(),
    private readonly starvedAfter = SHADOW_STARVED_AFTER,
  ) {}

  /** Starts (or stops, with null) shadowing a candidate; a new candidate starts a new window. */
  setCandidate(candidate: ShadowCandidate | null): void {
    const same =
      candidate !== null &&
      this.candidate !== null &&
      candidate.model.sha256 === this.candidate.model.sha256 &&
      candidate.deploymentId === this.candidate.deploymentId;
    if (!same) {
      this.queue.length = 0;
      this.window = new ShadowWindow();
    }
    this.candidate = candidate;
    if (!candidate) this.quiet();
  }

  get active(): boolean {
    return this.candidate !== null;
  }

  /** After a served inference: maybe queue the same input for the candidate. */
  offer(feeds: Feeds, outputs: Outputs, latencyMs: number): void {
    const candidate = this.candidate;
    if (!candidate || this.random() >= candidate.sampleRate) return;
    // `queue` samples wait besides the one running (or about to run).
    if (this.queue.length >= candidate.queue + (this.running ? 0 : 1)) {
      this.window.drop();
      return;
    }
    const active = flat(outputs, candidate.settings.output);
    if (!active) return;
    this.queue.push({ feeds, active, activeLatencyMs: latencyMs, servedAt: this.serving.served });
    this.pump();
  }

  /** The window's `shadow` telemetry block, or null when no candidate is shadowed. */
  take(): ShadowTelemetry | null {
    const candidate = this.candidate;
    if (!candidate) return null;
    return this.window.take({
      model: candidate.model,
      deploymentId: candidate.deploymentId,
      comparison: candidate.settings.comparison,
    });
  }

  /** Resolves once the queue is empty and no candidate runs (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running || (this.queue.length > 0 && this.candidate))
      await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Starts the next sample when the serving path lets it, else waits for the next served inference. */
  private readonly pump = (): void => {
    if (this.running) return;
    const job = this.queue[0];
    if (!job || !this.candidate) return this.quiet();
    this.unsubscribe ??= this.serving.subscribe(this.pump);
    const waited = this.serving.served - Math.max(job.servedAt, this.lastRunAt);
    if (this.serving.busy) {
      if (shadowMayRun(true, waited, this.starvedAfter)) this.start();
      return;
    }
    // Idle now; but a served inference that just ended may have a caller about to ask for the
    // next one in this same turn: look again once that one is queued.
    this.idleCheck ??= setImmediate(() => {
      this.idleCheck = null;
      if (!this.running && this.queue.length > 0 && !this.serving.busy) this.start();
    });
  };

  /** No sample waits: stop listening to the serving path. */
  private quiet(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.idleCheck) clearImmediate(this.idleCheck);
    this.idleCheck = null;
  }

  private start(): void {
    const job = this.queue.shift();
    const candidate = this.candidate;
    if (!job || !candidate) return;
    this.running = true;
    void this.runOne(candidate, job).finally(() => {
      this.running = false;
      this.lastRunAt = this.serving.served;
      this.pump();
    });
  }

  private async runOne(candidate: ShadowCandidate, job: Job): Promise<void> {
    const window = this.window;
    const started = performance.now();
    try {
      const outputs = await candidate.run(job.feeds);
      const latencyMs = performance.now() - started;
      const output = flat(outputs, candidate.settings.output);
      const score = output
        ? agreement(candidate.settings.comparison, job.active, output, {
            minScore: candidate.settings.minScore,
          })
        : 0;
      // A candidate that changed meanwhile starts a new window: this sample is not its.
      if (window === this.window)
        window.record({ latencyMs, activeLatencyMs: job.activeLatencyMs, agreement: score });
    } catch {
      if (window === this.window) window.error();
    }
  }
}
