import { Logger } from '@nestjs/common';

/**
 * A typed in-process emitter (FleetEvents' pattern) for features that tell others what changed.
 * Emit after the change has committed. A listener that throws is logged and does not stop the
 * others, nor fail the call that made the change. With several hub instances each one hears only
 * its own changes.
 */
export class InProcessEvents<M extends { [K in keyof M]: object }> {
  private readonly listeners = new Map<keyof M, Set<(payload: never) => void>>();

  constructor(private readonly logger: Logger) {}

  /** Returns a function that removes the listener. */
  on<E extends keyof M>(event: E, listener: (payload: M[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<E extends keyof M>(event: E, payload: M[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as (payload: M[E]) => void)(payload);
      } catch (error) {
        this.logger.error(`a ${String(event)} listener failed: ${(error as Error).message}`);
      }
    }
  }
}
