import type { DeploymentProgress, DesiredState, ModelRef } from '@sentinel/broker/protocol';
import type { Logger } from '../log.js';
import { swapDecision, type LockView } from '../state/deferral.js';
import type { SlotsView } from '../state/plan.js';

/**
 * Asks the update lock before a swap (state/deferral.ts decides), remembers when this device first
 * deferred the deployment's model (the maximum deferral counts from then; in memory, so an agent
 * restart starts it again) and wakes the reconciler when the deferral may end by itself (lock TTL,
 * maximum deferral). A release of the lock wakes it through the agent.
 */
export class SwapGate {
  private first: { key: string; at: number } | null = null;
  private wake?: NodeJS.Timeout;

  constructor(
    private readonly lock: () => LockView | null,
    private readonly replan: () => void,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** null: swap now; else the progress fields of the deferral to report. */
  check(
    desired: DesiredState,
    model: ModelRef,
    slots: SlotsView,
  ): Pick<DeploymentProgress, 'phase' | 'reason' | 'detail' | 'deferred_until'> | null {
    const key = `${desired.deployment_id}:${model.sha256}`;
    const firstDeferredAt = this.first?.key === key ? this.first.at : null;
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
      this.first = { key, at: now };
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
