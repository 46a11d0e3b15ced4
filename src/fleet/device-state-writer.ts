import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { capabilitiesOf, latestPerDevice, type DeviceStateReport } from './domain/state-reports.js';

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
  constructor(private readonly dataSource: DataSource) {}

  async record(reports: readonly DeviceStateReport[]): Promise<void> {
    const rows = latestPerDevice(reports).map((report) => ({
      id: report.deviceId,
      online: report.online,
      at: report.at.toISOString(),
      reported: report.reported,
      agent_version: report.agentVersion ?? null,
      capabilities: capabilitiesOf(report.reported),
    }));
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
  }
}
