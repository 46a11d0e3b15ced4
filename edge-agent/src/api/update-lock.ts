import type { LockView } from '../state/deferral.js';

const MAX_REASON_LENGTH = 200;
const MAX_TTL_S = 7 * 24 * 3600;

/** The lock as the local API and the agent's status show it. */
export interface UpdateLockStatus {
  reason: string;
  since: string;
  /** When it lapses by itself (its TTL); null: held until released. */
  expires_at: string | null;
}

export class LockRequestError extends Error {}

/**
 * The application's update lock (PUT/DELETE /v1/update-lock): while it is held the agent defers
 * swapping to a new model (state/deferral.ts). One per device, in memory: an agent restart
 * releases it. A TTL lets it lapse when the application that took it crashed.
 */
export class UpdateLock {
  private held: { reason: string; since: number; expiresAt: number | null } | null = null;

  constructor(
    /** Called after every take, refresh and release. */
    private readonly onChange: () => void,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Takes or refreshes the lock from a request body `{"reason": "...", "ttl_s"?: n}`. */
  take(body: unknown): UpdateLockStatus {
    const { reason, ttl_s: ttl } = (body ?? {}) as { reason?: unknown; ttl_s?: unknown };
    const shape = 'body must be {"reason": "<why, e.g. recording>", "ttl_s"?: <seconds>}';
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new LockRequestError(shape);
    }
    const extra = Object.keys(body).filter((k) => k !== 'reason' && k !== 'ttl_s');
    if (extra.length > 0) throw new LockRequestError(`unknown field ${extra[0]}: ${shape}`);
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_REASON_LENGTH) {
      throw new LockRequestError(
        `reason must be a non-empty string of at most ${MAX_REASON_LENGTH} characters: ${shape}`,
      );
    }
    if (
      ttl !== undefined &&
      (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_TTL_S)
    ) {
      throw new LockRequestError(`ttl_s must be a number of seconds above 0, at most ${MAX_TTL_S}`);
    }
    const now = this.clock();
    const since = this.current()?.since ?? now;
    this.held = { reason, since, expiresAt: ttl === undefined ? null : now + ttl * 1000 };
    this.onChange();
    return this.status()!;
  }

  /** Releases the lock; whether one was held. */
  release(): boolean {
    const was = this.current() !== null;
    this.held = null;
    this.onChange();
    return was;
  }

  /** The lock for the swap decision, or null when none is held (or it lapsed). */
  view(): LockView | null {
    const held = this.current();
    return held ? { reason: held.reason, expiresAt: held.expiresAt } : null;
  }

  status(): UpdateLockStatus | null {
    const held = this.current();
    if (!held) return null;
    return {
      reason: held.reason,
      since: new Date(held.since).toISOString(),
      expires_at: held.expiresAt === null ? null : new Date(held.expiresAt).toISOString(),
    };
  }

  private current() {
    const held = this.held;
    if (held && held.expiresAt !== null && held.expiresAt <= this.clock()) this.held = null;
    return this.held;
  }
}
