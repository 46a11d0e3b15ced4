/** What the broker hands over for one device state message (or a session that ended). */
export interface DeviceStateReport {
  deviceId: string;
  online: boolean;
  /** When the hub received it. */
  at: Date;
  /** The state message as sent; null keeps the last one stored (e.g. a bare "went offline"). */
  reported: object | null;
  /** null or undefined keeps the stored agent version. */
  agentVersion?: string | null;
}

/**
 * One report per device: the one with the latest `at`, and of equal `at` the one that came later
 * in the batch (arrival order breaks ties). The result keeps the order of first appearance.
 */
export function latestPerDevice(reports: readonly DeviceStateReport[]): DeviceStateReport[] {
  const latest = new Map<string, DeviceStateReport>();
  for (const report of reports) {
    const current = latest.get(report.deviceId);
    if (!current || report.at.getTime() >= current.at.getTime()) {
      latest.set(report.deviceId, report);
    }
  }
  return [...latest.values()];
}

/** The `capabilities` of a state message, or null when it has none (kept as stored). */
export function capabilitiesOf(reported: object | null): object | null {
  const value = (reported as { capabilities?: unknown } | null)?.capabilities;
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
}
