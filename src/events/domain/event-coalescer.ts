/**
 * Coalesces the hub's changes into the live events of `GET /api/v1/events`, so that a rollout of
 * thousands of devices is a few events a second, not one per report. Pure: the caller passes the
 * clock and calls `take` when `nextAt` says.
 *
 * - `deployment`: at most one per deployment per interval, with its latest status.
 * - `devices`: at most one per interval, naming up to `maxIds` devices; more than that sets
 *   `more` (the client re-fetches its whole list) and the ids beyond are not kept.
 * - `model`: at most one per model version per interval.
 *
 * A change with nothing sent for its key within the last interval is due at once.
 */

export type LiveEvent =
  | { type: 'deployment'; data: { id: string; status: string } }
  | { type: 'devices'; data: { ids: string[]; more: boolean } }
  | { type: 'model'; data: { id: string } };

export interface CoalescerOptions {
  intervalMs: number;
  maxIds: number;
}

export const DEFAULT_COALESCING: CoalescerOptions = { intervalMs: 500, maxIds: 500 };

const DEVICES = 'devices';

export class EventCoalescer {
  /** When an event was last sent, per key (`deployment:<id>`, `model:<id>`, `devices`). */
  private readonly sentAt = new Map<string, number>();
  private readonly deployments = new Map<string, string>();
  private readonly models = new Set<string>();
  private readonly devices = new Set<string>();
  private moreDevices = false;

  constructor(private readonly options: CoalescerOptions = DEFAULT_COALESCING) {}

  deployment(id: string, status: string): void {
    this.deployments.set(id, status);
  }

  model(id: string): void {
    this.models.add(id);
  }

  /** Devices that changed; beyond `maxIds` waiting, only the fact that there were more is kept. */
  devicesChanged(ids: Iterable<string>): void {
    for (const id of ids) {
      if (this.devices.has(id)) continue;
      if (this.devices.size >= this.options.maxIds) {
        this.moreDevices = true;
        return;
      }
      this.devices.add(id);
    }
  }

  /** Changes waiting to be sent. */
  get pending(): boolean {
    return this.deployments.size + this.models.size + this.devices.size > 0 || this.moreDevices;
  }

  /**
   * The events due at `now` (their keys are marked sent), and when the next one falls due (null:
   * nothing waits).
   */
  take(now: number): { events: LiveEvent[]; nextAt: number | null } {
    const events: LiveEvent[] = [];
    let nextAt: number | null = null;
    const due = (key: string): boolean => {
      const at = (this.sentAt.get(key) ?? -Infinity) + this.options.intervalMs;
      if (at <= now) {
        this.sentAt.set(key, now);
        return true;
      }
      nextAt = nextAt === null ? at : Math.min(nextAt, at);
      return false;
    };
    for (const [id, status] of this.deployments) {
      if (!due(`deployment:${id}`)) continue;
      events.push({ type: 'deployment', data: { id, status } });
      this.deployments.delete(id);
    }
    for (const id of this.models) {
      if (!due(`model:${id}`)) continue;
      events.push({ type: 'model', data: { id } });
      this.models.delete(id);
    }
    if ((this.devices.size > 0 || this.moreDevices) && due(DEVICES)) {
      events.push({ type: 'devices', data: { ids: [...this.devices], more: this.moreDevices } });
      this.devices.clear();
      this.moreDevices = false;
    }
    this.forget(now);
    return { events, nextAt };
  }

  /** Keys sent longer than an interval ago are due at once anyway: drop them (bounded memory). */
  private forget(now: number): void {
    for (const [key, at] of this.sentAt) {
      if (at + this.options.intervalMs <= now) this.sentAt.delete(key);
    }
  }
}
