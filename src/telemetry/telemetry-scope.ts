import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FleetEvents } from '../fleet/fleet-events.js';
import type { DevicePlacement } from './domain/telemetry-point.js';
import {
  namedSlotModels,
  scopeProblem,
  slotModels,
  type DeviceScope,
  type ScopeProblem,
} from './domain/telemetry-scope.js';
import type { TelemetryPoint } from './telemetry-store.js';

const REFRESH_MS = 30_000;
/** A device the hub did not know yet (just created) triggers a reload, at most this often. */
const MISS_REFRESH_MS = 1_000;
/** An id no deployment has is asked again after this long (it may be one being created). */
const UNKNOWN_DEPLOYMENT_TTL_MS = 30_000;
const MAX_DEPLOYMENTS_CACHED = 10_000;

interface KnownDevice extends DeviceScope {
  environment: string | null;
}

/**
 * Where each device sits and what it serves, kept in memory for the telemetry ingest: the group and
 * environment a window is tagged with, and what a device may speak for (domain/telemetry-scope.ts).
 * Loaded from the fleet tables, followed through fleet events (moves, deletes, state reports), and
 * reloaded every 30 s.
 */
@Injectable()
export class TelemetryScope {
  private readonly logger = new Logger('Telemetry');
  private devices = new Map<string, KnownDevice>();
  private readonly deployments = new Map<string, { groups: Set<string>; at: number }>();
  private refreshing?: Promise<void>;
  private refreshedAt = -Infinity;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly fleetEvents: FleetEvents,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    for (const event of ['device.moved', 'device.deleted', 'group.deleted'] as const) {
      this.fleetEvents.on(event, () => void this.refresh());
    }
    this.fleetEvents.on('device.reports', ({ reports }) => {
      for (const report of reports) {
        const known = this.devices.get(report.deviceId);
        const reported = report.reported as {
          online?: unknown;
          slots?: unknown;
          models?: unknown;
        } | null;
        const slots = slotModels(reported?.slots);
        if (known && slots) known.slots = slots;
        // An online report without `models` says the device serves no named model (an agent
        // serving several always reports them); a Last Will (offline) says nothing of its slots.
        if (known && reported && reported.online !== false)
          known.models = namedSlotModels(reported.models ?? {});
      }
    });
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The tags a window of this device gets (undefined: not known yet). */
  placement(deviceId: string): DevicePlacement | undefined {
    const device = this.devices.get(deviceId);
    return device
      ? { group: device.group ?? 'none', environment: device.environment ?? 'none' }
      : undefined;
  }

  /**
   * What a window's device may not send, null if it may, or undefined when the answer needs a look-up
   * first (a device or deployment this hub has not seen yet): then ask `resolve`.
   */
  check(point: TelemetryPoint): ScopeProblem | null | undefined {
    if (!this.devices.has(point.tags.device)) return undefined;
    const deployment = point.tags.deployment;
    if (deployment !== 'none' && this.needsLookUp(deployment, Date.now())) return undefined;
    return this.judge(point);
  }

  /** Loads what `check` lacked for these windows, then judges them (unknown by now: refused). */
  async resolve(points: readonly TelemetryPoint[]): Promise<(ScopeProblem | null)[]> {
    if (points.some((p) => !this.devices.has(p.tags.device))) {
      // A device just created (the broker let it in, so it exists): reload, at most once a second.
      const wait = this.refreshedAt + MISS_REFRESH_MS - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await this.refresh();
    }
    await this.learnDeployments(points.map((p) => p.tags.deployment).filter((d) => d !== 'none'));
    return points.map((point) => this.judge(point));
  }

  private judge(point: TelemetryPoint): ScopeProblem | null {
    return scopeProblem(
      {
        device: point.tags.device,
        deployment: orNull(point.tags.deployment),
        modelId: orNull(point.tags.model_id),
        slot: orNull(point.tags.slot) as 'blue' | 'green' | null,
        ...(point.serve_as !== undefined ? { serveAs: point.serve_as } : {}),
        ...(point.shadow
          ? {
              shadow: {
                deployment: orNull(point.shadow.deployment),
                modelId: point.shadow.model_id,
              },
            }
          : {}),
      },
      this.devices.get(point.tags.device),
      this.deployments.get(point.tags.deployment)?.groups,
    );
  }

  private needsLookUp(id: string, now: number): boolean {
    const known = this.deployments.get(id);
    return !known || (known.groups.size === 0 && now - known.at > UNKNOWN_DEPLOYMENT_TTL_MS);
  }

  /** Reloads every device's group and last reported slots; one reload at a time. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const rows: {
          id: string;
          group: string | null;
          environment: string | null;
          slots: unknown;
          models: unknown;
          reported: boolean;
        }[] = await this.dataSource.query(
          `SELECT d.id, g.name AS "group", g.environment, d.reported->'slots' AS slots,
                  d.reported->'models' AS models, d.reported IS NOT NULL AS reported
             FROM devices d LEFT JOIN device_groups g ON g.id = d.group_id`,
        );
        this.devices = new Map(
          rows.map((r) => [
            r.id,
            {
              group: r.group,
              environment: r.environment,
              slots: slotModels(r.slots),
              models: r.reported ? namedSlotModels(r.models ?? {}) : undefined,
            },
          ]),
        );
        this.refreshedAt = Date.now();
      } catch (error) {
        this.logger.warn(`could not load device placements: ${(error as Error).message}`);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async learnDeployments(ids: string[]): Promise<void> {
    const now = Date.now();
    const unknown = [...new Set(ids)].filter((id) => this.needsLookUp(id, now));
    if (unknown.length === 0) return;
    const rows: { deployment_id: string; group_name: string }[] = await this.dataSource.query(
      'SELECT deployment_id, group_name FROM deployment_groups WHERE deployment_id::text = ANY($1)',
      [unknown],
    );
    for (const id of unknown) this.deployments.set(id, { groups: new Set(), at: now });
    for (const row of rows) this.deployments.get(row.deployment_id)?.groups.add(row.group_name);
    // Oldest first out: a Map iterates in insertion order.
    for (const id of this.deployments.keys()) {
      if (this.deployments.size <= MAX_DEPLOYMENTS_CACHED) break;
      this.deployments.delete(id);
    }
  }
}

function orNull(tag: string): string | null {
  return tag === 'none' ? null : tag;
}
