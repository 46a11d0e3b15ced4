import type {
  DeploymentProgress,
  DesiredState,
  FailureReason,
  ModelRef,
  Slot,
} from '@sentinel/broker/protocol';
import type { AgentConfig } from '../config.js';
import type { ModelCache } from '../download/downloader.js';
import { reasonOf } from '../errors.js';
import { healthCheck } from '../inference/health-check.js';
import type { SessionPool } from '../inference/session-pool.js';
import type { Slots } from '../inference/slots.js';
import type { Logger } from '../log.js';
import type { ErrorSink } from '../report/error-log.js';
import { nextStep, phaseOf, targetOf, withServed } from '../state/plan.js';
import type { LockView } from '../state/deferral.js';
import type { SlotStore } from './slot-store.js';
import { SwapGate } from './swap-gate.js';

export interface ReconcilerOptions {
  deviceId: string;
  health: AgentConfig['health'];
  errorBurst: AgentConfig['errorBurst'];
  slots: Slots;
  store: SlotStore;
  pool: SessionPool;
  cache: ModelCache;
  log: Logger;
  errors: ErrorSink;
  /** The application's update lock (the device's, shared by its reconcilers). */
  lock(): LockView | null;
  /**
   * Something worth reporting changed (deployment progress, an error): publish the state.
   * `passing`: the progress moved to a phase that usually lasts a moment (downloading, verifying).
   */
  onReport(passing?: boolean): void;
}

type Fields = Omit<DeploymentProgress, 'deployment_id' | 'seq'>;

/**
 * One model's reconcile loop: takes desired states in, moves its two slots towards the newest one
 * a step at a time (stage into the standby slot, swap), watches the swap for a burst of errors and
 * rolls back locally, and reports its deployment progress out. It knows nothing of MQTT.
 */
export class Reconciler {
  private desiredNow: DesiredState | null = null;
  private progressNow: DeploymentProgress | null = null;
  private notifiedKey = '';
  private running?: Promise<void>;
  private dirty = false;
  private stopped = false;
  private burst: { sha256: string; until: number; errors: number } | null = null;
  private swapCount = 0;
  private readonly gate: SwapGate;

  constructor(private readonly o: ReconcilerOptions) {
    this.gate = new SwapGate(o.store, o.lock, () => this.schedule(), o.log);
  }

  get desired(): DesiredState | null {
    return this.desiredNow;
  }

  get progress(): DeploymentProgress | null {
    return this.progressNow;
  }

  get swaps(): number {
    return this.swapCount;
  }

  /**
   * The newest desired state (null: none). `received`, a desired state that just arrived, gives
   * its deployment's transient failures another chance: the hub sent the deployment again.
   */
  setDesired(desired: DesiredState | null, received?: DesiredState): void {
    this.desiredNow = desired;
    if (received) this.o.store.clearTransient(received.deployment_id);
    this.schedule();
  }

  /** Forgets the progress of a deployment that no longer applies (the device changed groups). */
  resetProgress(): void {
    this.progressNow = null;
  }

  /** Runs reconcile until no new desired state arrived meanwhile; one run at a time. */
  schedule(): void {
    this.dirty = true;
    if (this.running || this.stopped) return;
    this.running = (async () => {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        try {
          await this.reconcile();
        } catch (error) {
          this.o.errors.record(`reconcile: ${(error as Error).message}`);
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.gate.stop();
    await this.running?.catch(() => undefined);
  }

  /** An inference failed: within the error-burst window after a swap, enough of them roll back. */
  inferenceFailed(): void {
    const burst = this.burst;
    if (!burst || Date.now() > burst.until) return;
    if (this.o.slots.activeModel()?.sha256 !== burst.sha256) return;
    burst.errors += 1;
    if (burst.errors >= this.o.errorBurst.errors) {
      this.burst = null;
      void this.rollback(
        'error_burst',
        `${burst.errors} inference errors within ${this.o.errorBurst.windowS} s of the swap`,
      );
    }
  }

  /** Swaps back to the standby slot at once and refuses the model it left for this deployment. */
  async rollback(reason: FailureReason, detail: string): Promise<void> {
    const slots = this.o.slots;
    const leaving = slots.activeModel();
    if (!slots.active || !leaving || !slots.view()[slots.standby]) {
      this.o.errors.record(`rollback impossible: no model in the standby slot (${detail})`);
      this.o.onReport();
      return;
    }
    const desired = this.desiredNow;
    this.o.store.veto({
      deployment_id: desired?.deployment_id ?? null,
      sha256: leaving.sha256,
      reason,
      detail,
    });
    await this.swapTo(slots.standby, null);
    this.burst = null;
    this.o.log.warn('rolled back locally', { reason, detail, from: leaving.version });
    if (desired) this.report(desired, { phase: 'rolled_back', reason, detail }, true);
    this.schedule();
  }

  /** Steps towards the newest desired state until there is nothing to do or it changes. */
  private async reconcile(): Promise<void> {
    const { slots, store } = this.o;
    for (;;) {
      if (this.stopped) return;
      const desired = this.desiredNow;
      if (!desired) {
        this.progressNow = null;
        this.o.onReport();
        return;
      }
      const key = `${desired.deployment_id}:${desired.seq}`;
      const target = targetOf(desired, this.o.deviceId);
      const step = nextStep(target, slots.view(), desired.deployment_id, store.vetoes);
      if (key !== this.notifiedKey) {
        this.notifiedKey = key;
        // 'notified' only ahead of a download: a device with nothing to do or a swap to make
        // reports where it ends up at once. Two messages from every device for every desired
        // state were 20,000 state messages through the hub for one rollback of a 10,000-device group.
        if (step.kind === 'stage') this.report(desired, { phase: 'notified' }, target.inCohort);
      }
      if (step.kind === 'idle') {
        this.reportPhase(desired, target.inCohort);
        return;
      }
      const model = step.kind === 'stage' ? step.model : slots.view()[step.slot]!;
      if (step.kind === 'activate') {
        // The application's update lock may hold the swap (a download and stage never wait).
        const deferred = await this.gate.check(desired, model, slots.view());
        if (deferred) return this.report(desired, deferred, target.inCohort);
      }
      try {
        if (step.kind === 'activate') await this.swapTo(step.slot, desired);
        else await this.stage(step.slot, step.model, desired, target.inCohort);
      } catch (error) {
        const reason = reasonOf(error);
        const detail = (error as Error).message;
        this.o.log.warn('model refused', { sha256: model.sha256, reason, detail });
        this.o.errors.record(`${model.name}@${model.version}: ${detail}`);
        store.veto({ deployment_id: desired.deployment_id, sha256: model.sha256, reason, detail });
        await store.saveOrRecord();
      }
    }
  }

  /** Download, verify, load and health-check a model into the standby slot. */
  private async stage(
    slot: Slot,
    model: ModelRef,
    desired: DesiredState,
    inCohort: boolean,
  ): Promise<void> {
    const { slots, store, pool } = this.o;
    const fetched = await this.o.cache.fetch(model, {
      onDownloading: ({ bytes, total }) =>
        this.report(desired, { phase: 'downloading', bytes, total_bytes: total }, inCohort),
      onVerifying: () => this.report(desired, { phase: 'verifying' }, inCohort),
    });
    const session = await pool.acquire(model.sha256, fetched.path);
    try {
      await healthCheck(session, model, this.o.health);
      // On disk before in the slot: a state that cannot be saved (disk_full) changes nothing.
      if (slots.active !== slot) await store.save({ ...slots.view(), [slot]: model });
    } catch (error) {
      pool.release(model.sha256);
      throw error;
    }
    if (slots.active === slot) {
      // A rollback swapped while this model loaded: that slot serves now. Re-plan instead.
      pool.release(model.sha256);
      return store.saveOrRecord();
    }
    slots.install(slot, model, session);
    this.o.log.info('model staged', {
      slot,
      name: model.name,
      version: model.version,
      downloaded: fetched.downloaded,
    });
  }

  private async swapTo(slot: Slot, desired: DesiredState | null): Promise<void> {
    const { slots, store } = this.o;
    const before = slots.activeModel();
    const now = slots.view()[slot]!;
    if (desired) {
      // On disk first: a swap that cannot be recorded (disk_full) does not happen.
      const served = withServed(store.served, `${desired.deployment_id}:${now.sha256}`);
      await store.save({ ...slots.view(), active: slot }, served);
    }
    slots.activate(slot);
    this.swapCount += 1;
    if (!desired) await store.saveOrRecord(); // a rollback swaps even on a full disk
    this.o.log.info('swapped', { slot, from: before?.version ?? null, to: now.version });
    const burst = this.o.errorBurst;
    this.burst =
      burst.errors > 0 && before !== null
        ? { sha256: now.sha256, until: Date.now() + burst.windowS * 1000, errors: 0 }
        : null;
  }

  private reportPhase(desired: DesiredState, inCohort: boolean): void {
    const model = desired.model;
    const servedBefore =
      model !== null && this.o.store.served.includes(`${desired.deployment_id}:${model.sha256}`);
    const phase = phaseOf(desired, this.o.slots.view(), this.o.store.vetoes, servedBefore);
    this.report(desired, phase, inCohort);
  }

  private report(desired: DesiredState, fields: Fields, inCohort: boolean): void {
    const next: DeploymentProgress = {
      deployment_id: desired.deployment_id,
      seq: desired.seq,
      ...fields,
      in_cohort: inCohort,
    };
    if (next.detail && next.detail.length > 2048) next.detail = next.detail.slice(0, 2048);
    const same = JSON.stringify(next) === JSON.stringify(this.progressNow);
    this.progressNow = next;
    if (!same) this.o.onReport(next.phase === 'downloading' || next.phase === 'verifying');
  }
}
