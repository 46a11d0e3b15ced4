/**
 * The served inferences of one thread's sessions (a SessionPool's): how many are in flight, how
 * many have finished. onnxruntime-node runs every inference synchronously on the event loop, so
 * work that is not serving (a shadow candidate's run) can only stay out of the serving path's way
 * by waiting until no served inference is in flight; it listens here for that.
 */
export class ServingGauge {
  private inflight = 0;
  private finished = 0;
  private readonly listeners = new Set<() => void>();

  /** A served inference starts. */
  enter(): void {
    this.inflight += 1;
  }

  /** A served inference ended (answered or failed). */
  leave(): void {
    this.inflight -= 1;
    this.finished += 1;
    for (const listener of this.listeners) listener();
  }

  /** A served inference is in flight. */
  get busy(): boolean {
    return this.inflight > 0;
  }

  /** Served inferences finished so far. */
  get served(): number {
    return this.finished;
  }

  /** Calls `listener` after every served inference; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
