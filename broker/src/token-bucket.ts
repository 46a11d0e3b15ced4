/** A sustained rate with a burst allowance: `burst` messages at once, then `ratePerSecond`. */
export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/**
 * The tokens a bucket holds after `elapsedMs`: refilled at the limit's rate, never above `burst`.
 * A clock that went backwards refills nothing. Pure.
 */
export function refill(tokens: number, elapsedMs: number, limit: RateLimit): number {
  const gained = (Math.max(0, elapsedMs) / 1000) * limit.ratePerSecond;
  return Math.min(limit.burst, tokens + gained);
}

/**
 * One token bucket per key (a device id): `take` says whether one more message fits. A new key
 * starts full. At most `maxKeys` buckets are kept; past that the oldest is forgotten (it comes
 * back full, so forgetting only ever lets a message through, never drops one).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly maxKeys = 100_000,
  ) {
    if (!(limit.ratePerSecond > 0) || !(limit.burst >= 1)) {
      throw new RangeError('a rate limit needs ratePerSecond > 0 and burst >= 1');
    }
  }

  take(key: string, nowMs: number): boolean {
    const bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
      this.buckets.set(key, { tokens: this.limit.burst - 1, atMs: nowMs });
      return true;
    }
    bucket.tokens = refill(bucket.tokens, nowMs - bucket.atMs, this.limit);
    bucket.atMs = Math.max(bucket.atMs, nowMs);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Drops a key's bucket (its client disconnected). */
  forget(key: string): void {
    this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}
