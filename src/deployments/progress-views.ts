import type { DeviceView } from './domain/rollout-types.js';

/** A device's progress as the database holds it after a write (the rows a write returns). */
export interface ProgressChange {
  deploymentId: string;
  deviceId: string;
  phase: DeviceView['phase'] | 'skipped';
  reason: string | null;
  phaseSince: Date | null;
}

interface Entry {
  views: Map<string, DeviceView>;
  /** When the views were read in full (ms). */
  readAt: number;
  /** Something happened that the kept views cannot follow: read in full next time. */
  stale: boolean;
  /** While a full read runs: the changes that arrive meanwhile, applied again once it is done. */
  during: (() => void)[] | null;
}

/**
 * The devices of the active deployments as an evaluation sees them, kept between evaluations and
 * brought up to date with what this hub writes (progress rows as the database returns them, online
 * and offline as reports arrive), so that an evaluation does not read every target device from the
 * database again: a 10,000-device deployment was 10,000 rows per pass, several passes a second.
 *
 * The database stays the source of truth: the views are read in full on a deployment's first
 * evaluation (so after a restart), every `fullEveryMs`, and whenever they may have missed something
 * (a device they do not hold, a change made outside the reports, `invalidate`). With `follow`
 * false (several hubs write progress: cluster mode) they are read in full on every evaluation.
 */
export class ProgressViews {
  private readonly entries = new Map<string, Entry>();
  /** Per deployment and device, the progress this hub wrote last (`signature`, see `repeats`). */
  private readonly written = new Map<string, Map<string, string>>();

  constructor(
    private readonly follow: boolean,
    private readonly fullEveryMs: number,
  ) {}

  /** Whether the views follow the writes (one hub writes every report). */
  get following(): boolean {
    return this.follow;
  }

  /** The views to evaluate deployment `id` with; `read` reads them in full from the database. */
  async get(
    id: string,
    read: () => Promise<DeviceView[]>,
    now = Date.now(),
  ): Promise<DeviceView[]> {
    // Not following: nothing kept, so the reports have nothing to update either.
    if (!this.follow) return read();
    const entry = this.entries.get(id);
    if (entry && !entry.stale && !entry.during && now - entry.readAt < this.fullEveryMs)
      return [...entry.views.values()];
    const fresh: Entry = entry ?? { views: new Map(), readAt: 0, stale: false, during: null };
    const during: (() => void)[] = [];
    fresh.during = during;
    fresh.stale = false;
    this.entries.set(id, fresh);
    try {
      const rows = await read();
      fresh.views = new Map(rows.map((view) => [view.id, view]));
      fresh.readAt = now;
      // Written while the read ran: the read may or may not have seen it; applying it again is the
      // same either way (it is what the database holds after that write).
      for (const apply of during) apply();
    } catch (error) {
      fresh.stale = true;
      throw error;
    } finally {
      if (fresh.during === during) fresh.during = null;
    }
    return [...fresh.views.values()];
  }

  /** Progress rows as a write left them in the database. */
  applyProgress(changes: readonly ProgressChange[]): void {
    for (const change of changes) {
      const entry = this.entries.get(change.deploymentId);
      if (!entry) continue;
      const apply = () => {
        const view = entry.views.get(change.deviceId);
        if (change.phase === 'skipped') {
          entry.views.delete(change.deviceId);
          return;
        }
        // A device the views do not hold (one that joined a target group since they were read).
        if (!view) {
          entry.stale = true;
          return;
        }
        entry.views.set(change.deviceId, {
          ...view,
          phase: change.phase,
          reason: change.reason,
          phaseSince: change.phaseSince,
        });
      };
      apply();
      entry.during?.push(apply);
    }
  }

  /** Devices that came online or went offline (as the fleet recorded their reports). */
  applyOnline(devices: readonly { deviceId: string; online: boolean }[]): void {
    for (const entry of this.entries.values()) {
      for (const { deviceId, online } of devices) {
        const apply = () => {
          const view = entry.views.get(deviceId);
          if (view && view.online !== online) entry.views.set(deviceId, { ...view, online });
        };
        apply();
        entry.during?.push(apply);
      }
    }
  }

  /**
   * Whether a device's progress report repeats what this hub wrote for it last (a reconnect
   * re-sends the retained state): nothing to write. `signature` stands for the report's progress
   * fields. Never, when several hubs write progress.
   */
  repeats(deploymentId: string, deviceId: string, signature: string): boolean {
    return this.follow && this.written.get(deploymentId)?.get(deviceId) === signature;
  }

  /** The progress just written for a device (its `signature`, as given to `repeats`). */
  wrote(deploymentId: string, deviceId: string, signature: string): void {
    if (!this.follow) return;
    let devices = this.written.get(deploymentId);
    if (!devices) this.written.set(deploymentId, (devices = new Map()));
    devices.set(deviceId, signature);
  }

  /**
   * Deployment `id`'s progress changed outside the reports (a timeout, a retry, an action; `devices`
   * when known): read its views in full next time, and write the next report of those devices
   * whatever it says. Without an id: every deployment.
   */
  invalidate(id?: string, devices?: readonly string[]): void {
    for (const [key, entry] of this.entries) if (id === undefined || key === id) entry.stale = true;
    if (id === undefined) this.written.clear();
    else if (devices) for (const device of devices) this.written.get(id)?.delete(device);
    else this.written.delete(id);
  }

  /** Keeps the views of the deployments still evaluated, and what was written for those tracked. */
  retain(evaluated: ReadonlySet<string>, tracked: ReadonlySet<string>): void {
    for (const id of this.entries.keys()) if (!evaluated.has(id)) this.entries.delete(id);
    for (const id of this.written.keys()) if (!tracked.has(id)) this.written.delete(id);
  }
}
