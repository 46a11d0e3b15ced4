export interface KeyBatcherOptions {
  /** Most keys in one load; more pending keys make several loads. */
  maxBatch: number;
  /** Loads running at once; keys asked for meanwhile wait and go together into the next one. */
  maxInFlight: number;
  /** When to start loading keys asked for; defaults to setImmediate (after this turn's I/O callbacks). */
  schedule?: (run: () => void) => void;
  /**
   * Under load, how long keys wait to go out together: once a load started less than this long
   * ago, the next one waits this long instead of the next turn (0: never). A storm of look-ups then
   * makes a few large loads instead of one per turn; a look-up after a quiet spell does not wait.
   */
  gatherMs?: number;
  /** The clock and the timer for gatherMs (tests); default Date.now and setTimeout. */
  now?: () => number;
  delay?: (run: () => void, ms: number) => void;
}

interface Waiter<V> {
  resolve(value: V | undefined): void;
  reject(error: unknown): void;
}

/**
 * Coalesces single-key look-ups into batched ones, like the `dataloader` package but without its
 * per-instance cache (callers cache with their own expiry). Keys asked for in one event-loop turn
 * go into one load; while loads are running, new keys pile up and go out together as soon as one
 * finishes, so under a storm the batches grow instead of the number of queries.
 */
export class KeyBatcher<K, V> {
  private readonly pending = new Map<K, Waiter<V>[]>();
  private readonly schedule: (run: () => void) => void;
  private scheduled = false;
  private inFlight = 0;
  private lastStart = -Infinity;
  private readonly gatherMs: number;
  private readonly now: () => number;
  private readonly delay: (run: () => void, ms: number) => void;

  constructor(
    private readonly loadMany: (keys: K[]) => Promise<Map<K, V>>,
    private readonly options: KeyBatcherOptions,
  ) {
    this.schedule = options.schedule ?? ((run) => setImmediate(run));
    this.gatherMs = options.gatherMs ?? 0;
    this.now = options.now ?? Date.now;
    this.delay = options.delay ?? ((run, ms) => setTimeout(run, ms));
  }

  /** Resolves with the value the batch load found for the key, or undefined when it found none. */
  load(key: K): Promise<V | undefined> {
    return new Promise<V | undefined>((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        const run = () => {
          this.scheduled = false;
          this.drain();
        };
        if (this.now() - this.lastStart < this.gatherMs) this.delay(run, this.gatherMs);
        else this.schedule(run);
      }
    });
  }

  private drain(): void {
    while (this.inFlight < this.options.maxInFlight && this.pending.size > 0) {
      const batch = new Map<K, Waiter<V>[]>();
      for (const [key, waiters] of this.pending) {
        if (batch.size >= this.options.maxBatch) break;
        batch.set(key, waiters);
      }
      for (const key of batch.keys()) this.pending.delete(key);
      this.inFlight += 1;
      this.lastStart = this.now();
      void this.run(batch);
    }
  }

  private async run(batch: Map<K, Waiter<V>[]>): Promise<void> {
    try {
      const found = await this.loadMany([...batch.keys()]);
      for (const [key, waiters] of batch) {
        for (const waiter of waiters) waiter.resolve(found.get(key));
      }
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
    } finally {
      this.inFlight -= 1;
      // Keys that waited for a free slot go now, unless a gather timer is set meanwhile: they then
      // go with the keys it gathers, when it fires (at most gatherMs later).
      if (!this.scheduled) this.drain();
    }
  }
}
