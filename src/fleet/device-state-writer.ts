import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { capabilitiesOf, latestPerDevice, type DeviceStateReport } from './domain/state-reports.js';
import { FleetEvents } from './fleet-events.js';
import { TtlCache } from './ttl-cache.js';

const CAPABILITIES_TTL_MS = 10 * 60_000;
const CAPABILITIES_KEPT = 500_000;

export type { DeviceStateReport } from './domain/state-reports.js';

/**
 * Writes what devices report, many at once: one UPDATE per batch over a JSON array of rows, so a
 * reconnect storm costs a few statements rather than one per message. Within a batch the latest
 * report of a device wins; across batches, a report older than the stored last_seen_at is ignored
 * (batches written out of order cannot move a device back in time). Unknown ids are ignored. The
 * capabilities are kept until a report carries new ones (a Last Will or an older agent's has none).
 * updated_at is left alone: it dates changes to the device's record, not its reports.
 */
@Injectable()
export class DeviceStateWriter {
  /**
   * The capabilities last written per device (JSON): an agent sends them with every state, and
   * writing them again each time was a fifth of a report's cost on the embedded database. They
   * are written again after CAPABILITIES_TTL_MS, and for a device created anew.
   */
  private readonly capabilitiesWritten = new TtlCache<string, string>(
    CAPABILITIES_TTL_MS,
    CAPABILITIES_KEPT,
  );

  constructor(
    private readonly dataSource: DataSource,
    events: FleetEvents,
  ) {
    events.on('device.created', ({ deviceId }) => this.capabilitiesWritten.delete(deviceId));
    events.on('device.deleted', ({ deviceId }) => this.capabilitiesWritten.delete(deviceId));
  }

  async record(reports: readonly DeviceStateReport[]): Promise<void> {
    const written: [string, string][] = [];
    const rows = latestPerDevice(reports).map((report) => {
      const capabilities = capabilitiesOf(report.reported);
      const json = capabilities && JSON.stringify(capabilities);
      const unchanged = json !== null && this.capabilitiesWritten.get(report.deviceId) === json;
      if (json !== null && !unchanged) written.push([report.deviceId, json]);
      return {
        id: report.deviceId,
        online: report.online,
        at: report.at.toISOString(),
        // Stored once, in their own column (DeviceDto puts them back into `reported`).
        reported: withoutCapabilities(report.reported),
        agent_version: report.agentVersion ?? null,
        capabilities: unchanged ? null : capabilities,
      };
    });
    if (rows.length === 0) return;
    await this.dataSource.query(
      `UPDATE devices AS d
          SET online = r.online,
              last_seen_at = r.at,
              reported = COALESCE(r.reported, d.reported),
              agent_version = COALESCE(r.agent_version, d.agent_version),
              capabilities = COALESCE(r.capabilities, d.capabilities)
         FROM jsonb_to_recordset($1::jsonb)
              AS r(id text, online boolean, at timestamptz, reported jsonb, agent_version text,
                   capabilities jsonb)
        WHERE d.id = r.id AND (d.last_seen_at IS NULL OR d.last_seen_at <= r.at)`,
      [JSON.stringify(rows)],
    );
    for (const [id, json] of written) this.capabilitiesWritten.set(id, json);
  }
}

function withoutCapabilities(reported: object | null): object | null {
  if (!reported || !('capabilities' in reported)) return reported;
  const { capabilities: _capabilities, ...rest } = reported as Record<string, unknown>;
  return rest;
}
