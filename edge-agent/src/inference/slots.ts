import type ort from 'onnxruntime-node';
import type { ModelRef, Slot } from '@sentinel/broker/protocol';
import { otherSlot, type SlotsView } from '../state/plan.js';
import type { Feeds } from './tensors.js';
import type { Session, SessionPool } from './session-pool.js';

/** A session placed in a slot, with the inferences running on it right now. */
class SlotRuntime {
  inflight = 0;
  retired = false;
  constructor(
    readonly model: ModelRef,
    readonly session: Session,
  ) {}
}

export interface InferenceResult {
  outputs: ort.InferenceSession.OnnxValueMapType;
  slot: Slot;
  model: ModelRef;
}

export class NoModelError extends Error {
  override name = 'NoModelError';
  constructor() {
    super('no model is active yet');
  }
}

/**
 * The blue and green slots. Every inference takes the active slot's runtime when it starts and
 * finishes on it, so a swap (one assignment) never interrupts one: in-flight inferences end on the
 * old session, new ones start on the new. A session is released only when it has left its slot
 * and its last inference has finished.
 */
export class Slots {
  private activeSlot: Slot | null = null;
  private readonly runtimes: Record<Slot, SlotRuntime | null> = { blue: null, green: null };

  constructor(private readonly pool: SessionPool) {}

  get active(): Slot | null {
    return this.activeSlot;
  }

  get standby(): Slot {
    return this.activeSlot === null ? 'blue' : otherSlot(this.activeSlot);
  }

  view(): SlotsView {
    return {
      active: this.activeSlot,
      blue: this.runtimes.blue?.model ?? null,
      green: this.runtimes.green?.model ?? null,
    };
  }

  activeModel(): ModelRef | null {
    return this.activeSlot ? (this.runtimes[this.activeSlot]?.model ?? null) : null;
  }

  session(slot: Slot): Session | null {
    return this.runtimes[slot]?.session ?? null;
  }

  /** Places an acquired session (from the pool, already health-checked) into a slot that is not serving. */
  install(slot: Slot, model: ModelRef, session: Session): void {
    if (slot === this.activeSlot)
      throw new Error(`slot ${slot} is serving; load into the standby slot`);
    this.retire(this.runtimes[slot]);
    this.runtimes[slot] = new SlotRuntime(model, session);
  }

  /** Empties a slot that is not serving. */
  clear(slot: Slot): void {
    if (slot === this.activeSlot) throw new Error(`slot ${slot} is serving`);
    this.retire(this.runtimes[slot]);
    this.runtimes[slot] = null;
  }

  /** The swap. */
  activate(slot: Slot): void {
    if (!this.runtimes[slot]) throw new Error(`slot ${slot} is empty`);
    this.activeSlot = slot;
  }

  /** A served inference on the active slot (counted in the pool's serving gauge). */
  async run(feeds: Feeds): Promise<InferenceResult> {
    const slot = this.activeSlot;
    if (!slot) throw new NoModelError();
    const gauge = this.pool.serving;
    gauge.enter();
    try {
      return await this.runOn(slot, feeds);
    } finally {
      gauge.leave();
    }
  }

  /**
   * An inference on a given slot (the standby one for shadow verification), counted like a served
   * one so that the session outlives it when the slot changes meanwhile.
   */
  async runOn(slot: Slot, feeds: Feeds): Promise<InferenceResult> {
    const runtime = this.runtimes[slot];
    if (!runtime) throw new NoModelError();
    runtime.inflight += 1;
    try {
      const outputs = await runtime.session.run(feeds);
      return { outputs, slot, model: runtime.model };
    } finally {
      runtime.inflight -= 1;
      if (runtime.retired && runtime.inflight === 0) this.pool.release(runtime.model.sha256);
    }
  }

  /** Releases both sessions (agent shutdown), after their inferences finish. */
  close(): void {
    for (const slot of ['blue', 'green'] as const) {
      this.retire(this.runtimes[slot]);
      this.runtimes[slot] = null;
    }
    this.activeSlot = null;
  }

  private retire(runtime: SlotRuntime | null): void {
    if (!runtime || runtime.retired) return;
    runtime.retired = true;
    if (runtime.inflight === 0) this.pool.release(runtime.model.sha256);
  }
}
