import type { Slots, InferenceResult } from '../inference/slots.js';
import { firstMismatch } from '../inference/health-check.js';
import type { Feeds } from '../inference/tensors.js';
import { FrameLoop } from '../telemetry/frame-loop.js';
import { simFeedsFor, type SimFeeds } from '../telemetry/sim-feeds.js';
import type { TelemetryWindow } from '../telemetry/window.js';

export interface SimulatorOptions {
  fps: number;
  maxInputBytes: number;
  slots: Slots;
  window: TelemetryWindow;
  infer(feeds: Feeds): Promise<InferenceResult>;
}

/**
 * Synthetic camera frames through the active model (SENTINEL_SIMULATE_FPS), for demos and scale
 * tests: a golden input when the model has one, whose answer stands for the model's quality.
 */
export class Simulator {
  private readonly loop: FrameLoop;
  private readonly feeds = new Map<string, SimFeeds>();

  constructor(private readonly o: SimulatorOptions) {
    this.loop = new FrameLoop(o.fps, () => this.frame());
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One synthetic frame through the active model; a golden input when the model has one. */
  private async frame(): Promise<void> {
    const { slots } = this.o;
    const model = slots.activeModel();
    const slot = slots.active;
    if (!model || !slot) return;
    let prepared = this.feeds.get(model.sha256);
    if (!prepared) {
      const inputs = slots.session(slot)!.inputMetadata;
      prepared = simFeedsFor(model, inputs, this.o.maxInputBytes);
      this.feeds.set(model.sha256, prepared);
    }
    const result = await this.o.infer(prepared.feeds).catch(() => null);
    const declaredMap = model.metadata?.map;
    if (
      result &&
      prepared.golden &&
      typeof declaredMap === 'number' &&
      result.model.sha256 === model.sha256
    ) {
      const output = result.outputs[prepared.golden.name];
      const agrees =
        output &&
        firstMismatch(prepared.golden.output, output.data as Float32Array, prepared.golden.atol) ===
          null;
      // The model's validated mAP holds while it still answers its golden input as expected.
      this.o.window.recordQuality(agrees ? declaredMap : 0);
    }
  }
}
