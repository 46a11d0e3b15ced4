export interface WriteBufferOptions<T> {
  /** Most items held, queued and in flight together; beyond it the oldest queued are dropped (and counted). */
  capacity: number;
  /** Most items per write. */
  batchSize: number;
  /** Batches written at the same time (default 1). */
  concurrency?: number;
  write(batch: T[]): Promise<void>;
  /**
   * Whether a failed write was a permanent refusal of the batch (retrying it cannot succeed), and
   * how many of its items were refused: the rest were stored (a partial write). null (or no
   * function): a transient failure, the batch is retried.
   */
  refused?(error: Error, batchLength: number): number | null;
  onWritten?(count: number): void;
  /** Items dropped because the buffer was full. */
  onDropped?(count: number): void;
  /** Items dropped because the store refused them (see `refused`). */
  onRefused?(count: number, error: Error): void;
  /** A transient failure; the batch will be retried. */
  onError?(error: Error, attempt: number): void;
  minBackoffMs: number;
  maxBackoffMs: number;
  random?: () => number;
  now?: () => number;
}

/**
 * A bounded queue between a producer that must never wait (the broker's message handler) and a
 * store that may be slow or gone.
 *
 * - Writes go in batches, up to `concurrency` at a time. A batch leaves the queue when it is sent,
 *   so overflow can never drop (and count) an item that is also being written.
 * - A batch that fails is put back at the front and retried after an exponential backoff with
 *   jitter; meanwhile no new batch is sent, and until a write succeeds again one batch at a time
 *   probes the store. A batch the store refuses for good is dropped and
 *   counted, so a poison batch cannot block the queue.
 * - Items held (queued + in flight) never exceed `capacity`: a push beyond it drops the oldest
 *   queued items, counted, so what remains is the newest data.
 */
export class WriteBuffer<T> {
  /** Queued items are items[head..]; dropping and taking move `head` (amortised O(1), no splice per push). */
  private items: T[] = [];
  private head = 0;
  /** Items in batches being written. */
  private inFlight = 0;
  private readonly lanes = new Set<Promise<void>>();
  private failures = 0;
  private retryAt = 0;
  private readonly concurrency: number;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly options: WriteBufferOptions<T>) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** Items held: queued and being written. */
  get size(): number {
    return this.queued + this.inFlight;
  }

  /** Consecutive failed writes (0 when the store answers). */
  get failing(): number {
    return this.failures;
  }

  private get queued(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
    // In-flight items cannot be recalled, so the excess comes off the queue (the item just pushed
    // included, when everything else is in flight).
    const excess = Math.min(this.size - this.options.capacity, this.queued);
    if (excess > 0) {
      this.head += excess;
      this.options.onDropped?.(excess);
    }
    this.compact();
  }

  /**
   * Starts writing batches, up to `concurrency` at a time, each lane going on until the queue is
   * empty, a write fails, or a backoff is pending. Resolves when the lanes running now are done
   * (call it from a timer; await it in tests and at shutdown).
   */
  flush(): Promise<void> {
    // While the store is failing, one batch at a time probes it.
    const lanes = this.failures > 0 ? 1 : this.concurrency;
    while (this.lanes.size < lanes && this.queued > 0 && this.now() >= this.retryAt) {
      const lane: Promise<void> = this.lane().finally(() => this.lanes.delete(lane));
      this.lanes.add(lane);
    }
    return Promise.all(this.lanes).then(() => undefined);
  }

  private async lane(): Promise<void> {
    while (this.queued > 0 && this.now() >= this.retryAt) {
      const batch = this.take();
      this.inFlight += batch.length;
      let failure: Error | undefined;
      try {
        await this.options.write(batch);
      } catch (error) {
        failure = error as Error;
      } finally {
        this.inFlight -= batch.length;
      }
      if (failure === undefined) {
        this.failures = 0;
        this.options.onWritten?.(batch.length);
        continue;
      }
      const refused = this.options.refused?.(failure, batch.length) ?? null;
      if (refused !== null) {
        // The store answered: it is up, and the batch is not worth another try.
        this.failures = 0;
        const dropped = Math.min(Math.max(0, refused), batch.length);
        if (batch.length > dropped) this.options.onWritten?.(batch.length - dropped);
        if (dropped > 0) this.options.onRefused?.(dropped, failure);
        continue;
      }
      this.failures += 1;
      const ceiling = Math.min(
        this.options.maxBackoffMs,
        this.options.minBackoffMs * 2 ** (this.failures - 1),
      );
      this.retryAt = this.now() + ceiling / 2 + (this.random() * ceiling) / 2;
      this.putBack(batch);
      this.options.onError?.(failure, this.failures);
      return;
    }
  }

  private take(): T[] {
    const batch = this.items.slice(this.head, this.head + this.options.batchSize);
    this.head += batch.length;
    this.compact();
    return batch;
  }

  /**
   * A failed batch goes back to the front: it is the oldest data, first to be retried and first
   * to go on overflow. Its items were held all along, so the total does not change.
   */
  private putBack(batch: T[]): void {
    if (this.head >= batch.length) {
      // Into the consumed slots just before the queue: O(batch).
      this.head -= batch.length;
      for (let i = 0; i < batch.length; i++) this.items[this.head + i] = batch[i]!;
    } else {
      // O(queue), but only once per failed write (and writes back off).
      this.items = batch.concat(this.items.slice(this.head));
      this.head = 0;
    }
  }

  /** Drops the consumed front once it is half the array, so the array stays within 2x capacity. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
