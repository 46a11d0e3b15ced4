import type { DeploymentProgress, DesiredState, ModelRef } from '@sentinel/broker/protocol';
import type { Logger } from '../log.js';
import { swapDecision, type LockView } from '../state/deferral.js';
import type { SlotsView } from '../state/plan.js';

/** Where the first deferral is kept (the slot store: state.json). */
export interface DeferralMemory {
  readonly firstDeferral: { key: string; at: number } | null;
  rememberDeferral(deferral: { key: string; at: number }): Promise<void>;
}

/**
 * Asks the update lock before a swap (state/deferral.ts decides), remembers when this device first
 * deferred the deployment's model (the maximum deferral counts from then, across restarts: it is
 * saved with the slots) and wakes the reconciler when the deferral may end by itself (lock TTL,
 * maximum deferral). A release of the lock wakes it through the agent.
 */
export class SwapGate {
  private wake?: NodeJS.Timeout;

  constructor(
    private readonly memory: DeferralMemory,
    private readonly lock: () => LockView | null,
    private readonly replan: () => void,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** null: swap now; else the progress fields of the deferral to report. */
  async check(
    desired: DesiredState,
    model: ModelRef,
    slots: SlotsView,
  ): Promise<Pick<DeploymentProgress, 'phase' | 'reason' | 'detail' | 'deferred_until'> | null> {
    const key = `${desired.deployment_id}:${model.sha256}`;
    const first = this.memory.firstDeferral;
    const firstDeferredAt = first?.key === key ? first.at : null;
    const now = this.clock();
    const decision = swapDecision({
      desired,
      model,
      slots,
      lock: this.lock(),
      firstDeferredAt,
      now,
    });
    clearTimeout(this.wake);
    if (decision.kind === 'swap') {
      if (firstDeferredAt !== null) this.log.info('deferral over', { why: decision.why });
      return null;
    }
    if (firstDeferredAt === null) {
      await this.memory.rememberDeferral({ key, at: now });
      this.log.info('swap deferred', { version: model.version, lock: decision.detail });
    }
    if (decision.until !== null) {
      // A little past the moment, so that the decision then sees it passed.
      this.wake = setTimeout(this.replan, Math.max(decision.until - now, 0) + 10).unref();
    }
    return {
      phase: 'deferred',
      reason: 'update_locked',
      detail: decision.detail,
      ...(decision.until !== null
        ? { deferred_until: new Date(decision.until).toISOString() }
        : {}),
    };
  }

  stop(): void {
    clearTimeout(this.wake);
  }
}
