export interface WriteBufferOptions<T> {
  /** Most items held; beyond it the oldest are dropped (and counted). */
  capacity: number;
  /** Most items per write. */
  batchSize: number;
  write(batch: T[]): Promise<void>;
  onWritten?(count: number): void;
  onDropped?(count: number): void;
  onError?(error: Error, attempt: number): void;
  minBackoffMs: number;
  maxBackoffMs: number;
  random?: () => number;
  now?: () => number;
}

/**
 * A bounded queue between a producer that must never wait (the broker's message handler) and a
 * store that may be slow or gone. Writes go in batches, one at a time; a failed batch stays at the
 * front and is retried after an exponential backoff with jitter; when the queue is full the oldest
 * items go first, counted, so what remains is the newest data.
 */
export class WriteBuffer<T> {
  private items: T[] = [];
  private writing = false;
  /** Items dropped from the front since the batch in flight was taken. */
  private droppedSinceTake = 0;
  private failures = 0;
  private retryAt = 0;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly options: WriteBufferOptions<T>) {
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.items.length;
  }

  /** Consecutive failed writes (0 when the store answers). */
  get failing(): number {
    return this.failures;
  }

  push(item: T): void {
    this.items.push(item);
    const excess = this.items.length - this.options.capacity;
    if (excess > 0) {
      this.items.splice(0, excess);
      this.droppedSinceTake += excess;
      this.options.onDropped?.(excess);
    }
  }

  /**
   * Writes batches until the queue is empty, a write fails, or a backoff is pending. Calls while
   * one runs return at once: call it from a timer.
   */
  async flush(): Promise<void> {
    if (this.writing || this.now() < this.retryAt) return;
    this.writing = true;
    try {
      while (this.items.length > 0) {
        const batch = this.items.slice(0, this.options.batchSize);
        this.droppedSinceTake = 0;
        try {
          await this.options.write(batch);
        } catch (error) {
          this.failures += 1;
          const ceiling = Math.min(
            this.options.maxBackoffMs,
            this.options.minBackoffMs * 2 ** (this.failures - 1),
          );
          this.retryAt = this.now() + ceiling / 2 + (this.random() * ceiling) / 2;
          this.options.onError?.(error as Error, this.failures);
          return;
        }
        this.failures = 0;
        this.retryAt = 0;
        // New items went to the back meanwhile; overflow may have dropped part of the batch from
        // the front already.
        this.items.splice(0, Math.max(0, batch.length - this.droppedSinceTake));
        this.options.onWritten?.(batch.length);
      }
    } finally {
      this.writing = false;
    }
  }
}
