import { join } from 'node:path';
import type { Slot } from '@sentinel/broker/protocol';
import type { SessionPool } from '../inference/session-pool.js';
import type { Slots } from '../inference/slots.js';
import type { ErrorSink } from '../report/error-log.js';
import { TRANSIENT_REASONS, type SlotsView, type Veto } from '../state/plan.js';
import { EMPTY_STATE, readState, writeState, type PersistedState } from '../state/state-file.js';

const MAX_VETOES = 100;

export interface SlotStoreOptions {
  /** The state file (state.json). */
  path: string;
  /** The model cache folder, where a restored slot's model is read from. */
  modelsDir: string;
  /** false keeps the state in memory only (fleet simulator). */
  persist: boolean;
  slots: Slots;
  pool: SessionPool;
  errors: ErrorSink;
}

/**
 * The slot state on disk (state.json): which slot serves, what each slot holds, the models refused
 * per deployment (vetoes), the models that served per deployment, and the last group known.
 */
export class SlotStore {
  private state: PersistedState = structuredClone(EMPTY_STATE);

  constructor(private readonly options: SlotStoreOptions) {}

  /** Reads the file and puts its models back into their slots. */
  async restore(): Promise<void> {
    const { slots, pool, persist, path, modelsDir } = this.options;
    if (persist) this.state = await readState(path);
    // Transient failures get another chance after a restart.
    this.clearTransient();
    for (const slot of ['blue', 'green'] as const) {
      const model = this.state[slot];
      if (!model) continue;
      try {
        // Straight from the cache folder: a restart must not wait for the network.
        const session = await pool.acquire(model.sha256, join(modelsDir, `${model.sha256}.onnx`));
        slots.install(slot, model, session);
      } catch (error) {
        this.options.errors.record(
          `cannot restore slot ${slot} (${model.name}@${model.version}): ${(error as Error).message}`,
        );
        this.state[slot] = null;
      }
    }
    const active = this.state.active;
    if (active && slots.view()[active]) slots.activate(active);
    else if (active) {
      const other: Slot = active === 'blue' ? 'green' : 'blue';
      if (slots.view()[other]) slots.activate(other);
    }
  }

  get vetoes(): readonly Veto[] {
    return this.state.vetoes;
  }

  get served(): readonly string[] {
    return this.state.served;
  }

  get group(): string | null {
    return this.state.group;
  }

  /** When this device first deferred a swap, and to what (see PersistedState.deferred). */
  get firstDeferral(): { key: string; at: number } | null {
    return this.state.deferred ?? null;
  }

  /** Remembers the first deferral of a swap; a failed save is recorded, the memory holds. */
  async rememberDeferral(deferral: { key: string; at: number }): Promise<void> {
    this.state.deferred = deferral;
    await this.saveOrRecord();
  }

  veto(veto: Veto): void {
    this.state.vetoes = [...this.state.vetoes.slice(-(MAX_VETOES - 1)), veto];
  }

  /** Forgets transient failures: all of them, or those of one deployment. */
  clearTransient(deploymentId?: string | null): void {
    this.state.vetoes = this.state.vetoes.filter(
      (v) =>
        !(
          TRANSIENT_REASONS.has(v.reason) &&
          (deploymentId === undefined || v.deployment_id === deploymentId)
        ),
    );
  }

  /** Remembers the group; a full disk must not keep the device off its group's topic. */
  async setGroup(group: string | null): Promise<void> {
    if (group === this.state.group) return;
    this.state.group = group;
    await this.saveOrRecord();
  }

  /** Saves the slots (`view`, the current ones by default); throws AgentError('disk_full'). */
  async save(
    view: SlotsView = this.options.slots.view(),
    served = this.state.served,
  ): Promise<void> {
    const next = { ...this.state, active: view.active, blue: view.blue, green: view.green, served };
    if (this.options.persist) await writeState(this.options.path, next);
    this.state = next;
  }

  /** Saves the slots, reporting a failure instead of throwing it (the state in memory holds). */
  async saveOrRecord(): Promise<void> {
    await this.save().catch((error: Error) =>
      this.options.errors.record(`cannot save: ${error.message}`),
    );
  }
}
