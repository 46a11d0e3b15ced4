import { performance } from 'node:perf_hooks';
import {
  DEFAULT_MODEL_NAME,
  type DeploymentProgress,
  type DesiredState,
  type NamedModelState,
  type Slot,
  type Telemetry,
} from '@sentinel/broker/protocol';
import type { AgentConfig } from '../config.js';
import type { ModelCache } from '../download/downloader.js';
import type { SessionPool } from '../inference/session-pool.js';
import { Slots, type InferenceResult } from '../inference/slots.js';
import type { Feeds } from '../inference/tensors.js';
import type { Logger } from '../log.js';
import { Reconciler } from '../reconcile/reconciler.js';
import { SlotStore } from '../reconcile/slot-store.js';
import type { ErrorSink } from '../report/error-log.js';
import { modelState } from '../report/reporter.js';
import { shadowCandidate } from '../shadow/candidate.js';
import { ShadowRunner } from '../shadow/shadow-runner.js';
import { Simulator } from '../simulation/simulator.js';
import type { LockView } from '../state/deferral.js';
import { TelemetryWindow } from '../telemetry/window.js';

export interface ModelUnitOptions {
  /** `default`, or the named model's name (docs/protocol.md 6.6). */
  name: string;
  config: AgentConfig;
  /** Shared by the device's models: a model both serve is loaded once. */
  pool: SessionPool;
  cache: ModelCache;
  log: Logger;
  errors: ErrorSink;
  /** This model's slot state file; `modelsDir` is the shared model cache folder. */
  statePath: string;
  modelsDir: string;
  persist: boolean;
  /** The device's update lock: held, it defers every model's swap. */
  lock(): LockView | null;
  /** Something worth reporting changed: publish the device's state (`passing`: see Reconciler). */
  onReport(passing?: boolean): void;
}

export type SlotStatus = { model_id: string; name: string; version: string; sha256: string } | null;

/** One model as `GET /v1/status` shows it. */
export interface ModelStatus {
  active_slot: Slot | null;
  slots: Record<Slot, SlotStatus>;
  deployment: DeploymentProgress | null;
  inferences: number;
  inference_errors: number;
  swaps: number;
}

/**
 * One model the device serves (`default` or a named one), with everything of its own: the blue
 * and green slots, the slot state file, the reconcile loop following its desired state, its
 * telemetry window, shadow verification and (SENTINEL_SIMULATE_FPS) simulated frames. One unit's
 * desired state never touches another's slots.
 */
export class ModelUnit {
  readonly name: string;
  readonly slots: Slots;
  readonly store: SlotStore;
  private readonly reconciler: Reconciler;
  private readonly window = new TelemetryWindow();
  private readonly shadow: ShadowRunner;
  private shadowProblem: string | null = null;
  private simulator?: Simulator;
  private readonly counters = { inferences: 0, inferenceErrors: 0 };

  constructor(private readonly o: ModelUnitOptions) {
    this.name = o.name;
    this.slots = new Slots(o.pool);
    this.shadow = new ShadowRunner(Math.random, o.pool.serving);
    this.store = new SlotStore({
      path: o.statePath,
      modelsDir: o.modelsDir,
      persist: o.persist,
      slots: this.slots,
      pool: o.pool,
      errors: o.errors,
    });
    this.reconciler = new Reconciler({
      deviceId: o.config.deviceId,
      health: o.config.health,
      errorBurst: o.config.errorBurst,
      slots: this.slots,
      store: this.store,
      pool: o.pool,
      cache: o.cache,
      log: o.log,
      errors: o.errors,
      lock: o.lock,
      onReport: (passing) => {
        this.refreshShadow();
        o.onReport(passing);
      },
    });
  }

  /** Puts the models of the state file back into their slots. */
  restore(): Promise<void> {
    return this.store.restore();
  }

  /** Synthetic frames through this model's active slot, from now on. */
  simulate(fps: number): void {
    if (this.simulator || fps <= 0) return;
    this.simulator = new Simulator({
      fps,
      maxInputBytes: this.o.config.health.maxInputBytes,
      slots: this.slots,
      window: this.window,
      infer: (feeds) => this.infer(feeds),
    });
    this.simulator.start();
  }

  async stop(): Promise<void> {
    await this.simulator?.stop();
    await this.reconciler.stop();
  }

  /** Releases the sessions (after the agent stopped everything that could still use them). */
  close(): void {
    this.slots.close();
  }

  get desired(): DesiredState | null {
    return this.reconciler.desired;
  }

  setDesired(desired: DesiredState | null, received?: DesiredState): void {
    this.reconciler.setDesired(desired, received);
    this.refreshShadow();
  }

  /** Plans again (the update lock changed, a reload). */
  schedule(): void {
    this.reconciler.schedule();
  }

  resetProgress(): void {
    this.reconciler.resetProgress();
  }

  /** The `rollback` command: back to the standby slot at once. */
  rollback(reason: string): Promise<void> {
    return this.reconciler.rollback('manual', reason);
  }

  async infer(feeds: Feeds): Promise<InferenceResult & { latency_ms: number }> {
    const started = performance.now();
    try {
      const result = await this.slots.run(feeds);
      const latency = performance.now() - started;
      this.counters.inferences += 1;
      this.window.record(latency, true);
      // Shadow verification only samples and queues here: the candidate runs off this path.
      this.shadow.offer(feeds, result.outputs, latency);
      return { ...result, latency_ms: Math.round(latency * 1000) / 1000 };
    } catch (error) {
      this.counters.inferenceErrors += 1;
      this.window.record(0, false);
      this.reconciler.inferenceFailed();
      throw error;
    }
  }

  /** A quality score the application measured (POST /v1/quality). */
  recordQuality(map: number): void {
    this.window.recordQuality(map);
  }

  /** The slots and deployment progress, as the device state reports them. */
  report(): NamedModelState {
    return modelState(this.slots.view(), this.reconciler.progress);
  }

  /** The telemetry of the window that ends now (a new one starts); named models say which. */
  telemetry(): Telemetry {
    const message = this.window.take({
      deviceId: this.o.config.deviceId,
      model: this.slots.activeModel(),
      slot: this.slots.active,
      deploymentId: this.reconciler.desired?.deployment_id ?? null,
      memoryMb: process.memoryUsage().rss / (1024 * 1024),
    });
    if (this.name !== DEFAULT_MODEL_NAME) message.serve_as = this.name;
    const shadow = this.shadow.take();
    if (shadow) message.shadow = shadow;
    return message;
  }

  status(): ModelStatus {
    const view = this.slots.view();
    const slot = (s: Slot): SlotStatus => {
      const model = view[s];
      return model
        ? { model_id: model.id, name: model.name, version: model.version, sha256: model.sha256 }
        : null;
    };
    return {
      active_slot: view.active,
      slots: { blue: slot('blue'), green: slot('green') },
      deployment: this.reconciler.progress,
      inferences: this.counters.inferences,
      inference_errors: this.counters.inferenceErrors,
      swaps: this.reconciler.swaps,
    };
  }

  /** Shadows the standby model while the desired state asks for it and the slots are ready. */
  private refreshShadow(): void {
    this.shadow.setCandidate(
      shadowCandidate(this.reconciler.desired, this.slots, (message) => {
        // Asked again on every report: say a problem once, not once per report.
        if (message === this.shadowProblem) return;
        this.shadowProblem = message;
        this.o.errors.record(message);
      }),
    );
  }
}
