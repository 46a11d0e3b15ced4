import {
  LATENCY_BUCKET_COUNT,
  histogramFromCounts,
  latencyBucket,
  type ModelRef,
  type Slot,
  type Telemetry,
} from '@sentinel/broker/protocol';

/** Latencies kept per window for the percentiles; beyond this a uniform reservoir sample. */
const MAX_SAMPLES = 20_000;

export interface WindowContext {
  deviceId: string;
  model: ModelRef | null;
  slot: Slot | null;
  deploymentId: string | null;
  memoryMb: number;
}

function emptyBuckets(): number[] {
  return new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
}

/** Nearest-rank percentile of sorted values (0 for none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/**
 * One telemetry window: every inference's latency and outcome, and the quality scores reported
 * during it. `take` turns it into a Telemetry message and starts the next window. Besides the
 * window's own percentiles, the message carries the histogram of every successful inference's
 * latency (`latency_hist`, the shared buckets of @sentinel/broker), which the hub can merge across
 * devices; it counts every inference, not only the reservoir sample.
 */
export class TelemetryWindow {
  private started: number;
  private frames = 0;
  private errors = 0;
  private seen = 0;
  private max = 0;
  private samples: number[] = [];
  private buckets = emptyBuckets();
  private quality: number[] = [];

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.started = clock();
  }

  record(latencyMs: number, ok: boolean): void {
    if (!ok) {
      this.errors += 1;
      return;
    }
    this.frames += 1;
    this.max = Math.max(this.max, latencyMs);
    // A monotonic clock never gives a negative or NaN latency; if one came, it stays out.
    if (latencyMs >= 0) this.buckets[latencyBucket(latencyMs)] += 1;
    this.seen += 1;
    if (this.samples.length < MAX_SAMPLES) this.samples.push(latencyMs);
    else {
      const slot = Math.floor(this.random() * this.seen);
      if (slot < MAX_SAMPLES) this.samples[slot] = latencyMs;
    }
  }

  /** A quality score in 0..1 (mAP reported by the application, or the golden agreement). */
  recordQuality(score: number): void {
    this.quality.push(score);
  }

  take(context: WindowContext): Telemetry {
    const now = this.clock();
    const windowS = Math.max((now - this.started) / 1000, 0.001);
    const sorted = [...this.samples].sort((a, b) => a - b);
    const round = (v: number) => Math.round(v * 1000) / 1000;
    const message: Telemetry = {
      device_id: context.deviceId,
      ts: new Date(now).toISOString(),
      window_s: round(windowS),
      frames: this.frames,
      fps: round(this.frames / windowS),
      latency_ms: {
        p50: round(percentile(sorted, 50)),
        p95: round(percentile(sorted, 95)),
        max: round(this.max),
      },
      latency_hist: histogramFromCounts(this.buckets),
      memory_mb: round(context.memoryMb),
      errors: this.errors,
      model_id: context.model?.id ?? null,
      model_version: context.model?.version ?? null,
      slot: context.slot,
      deployment_id: context.deploymentId,
    };
    if (this.quality.length > 0) {
      message.map = round(this.quality.reduce((a, b) => a + b, 0) / this.quality.length);
    }
    this.started = now;
    this.frames = this.errors = this.seen = this.max = 0;
    this.samples = [];
    this.buckets = emptyBuckets();
    this.quality = [];
    return message;
  }
}
