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
  /** Queued items are items[head..]; dropping and writing move `head` (amortised O(1), no splice per push). */
  private items: T[] = [];
  private head = 0;
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
    return this.items.length - this.head;
  }

  /** Consecutive failed writes (0 when the store answers). */
  get failing(): number {
    return this.failures;
  }

  push(item: T): void {
    this.items.push(item);
    const excess = this.size - this.options.capacity;
    if (excess > 0) {
      this.head += excess;
      this.droppedSinceTake += excess;
      this.options.onDropped?.(excess);
    }
    this.compact();
  }

  /** Drops the consumed front once it is half the array, so the array stays within 2x capacity. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
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
      while (this.size > 0) {
        const batch = this.items.slice(this.head, this.head + this.options.batchSize);
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
        this.head += Math.max(0, batch.length - this.droppedSinceTake);
        this.compact();
        this.options.onWritten?.(batch.length);
      }
    } finally {
      this.writing = false;
    }
  }
}
