import type { ModelRef, ShadowTelemetry } from '@sentinel/broker/protocol';
import { percentile } from '../telemetry/window.js';
import type { Comparison } from './compare.js';

/** Samples kept per window for the percentiles; beyond this the newest replace the oldest. */
const MAX_SAMPLES = 5_000;

/**
 * One telemetry window of shadow runs: per sample the candidate's latency, the serving model's
 * latency on the same input, and their agreement; dropped samples and candidate errors counted.
 */
export class ShadowWindow {
  private samples = 0;
  private dropped = 0;
  private errors = 0;
  private latencies: number[] = [];
  private activeLatencies: number[] = [];
  private agreementSum = 0;

  record(sample: { latencyMs: number; activeLatencyMs: number; agreement: number }): void {
    this.samples += 1;
    this.agreementSum += sample.agreement;
    if (this.latencies.length >= MAX_SAMPLES) {
      this.latencies.shift();
      this.activeLatencies.shift();
    }
    this.latencies.push(sample.latencyMs);
    this.activeLatencies.push(sample.activeLatencyMs);
  }

  drop(): void {
    this.dropped += 1;
  }

  error(): void {
    this.errors += 1;
  }

  get empty(): boolean {
    return this.samples + this.dropped + this.errors === 0;
  }

  /** The window as the telemetry's `shadow` block, and a fresh window. */
  take(context: {
    model: ModelRef;
    deploymentId: string | null;
    comparison: Comparison;
  }): ShadowTelemetry {
    const round = (v: number) => Math.round(v * 1000) / 1000;
    const stats = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)) };
    };
    const block: ShadowTelemetry = {
      deployment_id: context.deploymentId,
      model_id: context.model.id,
      model_version: context.model.version,
      comparison: context.comparison,
      samples: this.samples,
      dropped: this.dropped,
      errors: this.errors,
    };
    if (this.samples > 0) {
      block.latency_ms = stats(this.latencies);
      block.active_latency_ms = stats(this.activeLatencies);
      block.agreement = round(this.agreementSum / this.samples);
    }
    this.samples = this.dropped = this.errors = this.agreementSum = 0;
    this.latencies = [];
    this.activeLatencies = [];
    return block;
  }
}
