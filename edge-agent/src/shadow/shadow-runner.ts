import { performance } from 'node:perf_hooks';
import type ort from 'onnxruntime-node';
import type { ModelRef, ShadowTelemetry } from '@sentinel/broker/protocol';
import type { Feeds } from '../inference/tensors.js';
import { agreement, type FlatTensor, type ShadowSettings } from './compare.js';
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
}

export const DEFAULT_SHADOW_QUEUE = 2;

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
 * inference) only samples and queues, in constant time; one candidate inference runs at a time,
 * and a full queue drops the sample (counted) instead of waiting. Results never reach the
 * application: only the comparison, in the telemetry's `shadow` block.
 */
export class ShadowRunner {
  private candidate: ShadowCandidate | null = null;
  private window = new ShadowWindow();
  private readonly queue: Job[] = [];
  private draining = false;

  constructor(private readonly random: () => number = Math.random) {}

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
  }

  get active(): boolean {
    return this.candidate !== null;
  }

  /** After a served inference: maybe queue the same input for the candidate. */
  offer(feeds: Feeds, outputs: Outputs, latencyMs: number): void {
    const candidate = this.candidate;
    if (!candidate || this.random() >= candidate.sampleRate) return;
    if (this.queue.length >= candidate.queue) {
      this.window.drop();
      return;
    }
    const active = flat(outputs, candidate.settings.output);
    if (!active) return;
    this.queue.push({ feeds, active, activeLatencyMs: latencyMs });
    if (!this.draining) void this.drain();
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

  /** Resolves once the queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.draining) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        const candidate = this.candidate;
        if (!candidate) break;
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
    } finally {
      this.draining = false;
    }
  }
}
