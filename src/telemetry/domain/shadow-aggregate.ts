/**
 * Shadow windows folded into per-device figures (ShadowDeviceAggregate). Pure. The SQL store has
 * the database group them; InfluxDB cannot group by a field (the candidate's version is one), so
 * its store reads the windows and folds them here.
 */
import type { ShadowDeviceAggregate } from '../telemetry-store.js';
import { statsOf } from './aggregate.js';

/** One stored shadow window (null: the window did not carry that figure). */
export interface ShadowWindowRow {
  device: string;
  model_id: string;
  model_version: string;
  comparison: string;
  samples: number;
  dropped: number;
  errors: number;
  latency_p95: number | null;
  active_latency_p95: number | null;
  agreement: number | null;
}

const finite = (values: readonly (number | null)[]) =>
  values.filter((v): v is number => v !== null && Number.isFinite(v));

/** Mean and sample sd of the values present; a null mean (sd 0) when there are none. */
function meanSd(values: readonly (number | null)[]): { mean: number | null; sd: number } {
  const present = finite(values);
  if (present.length === 0) return { mean: null, sd: 0 };
  const { mean, sd } = statsOf(present);
  return { mean, sd };
}

/**
 * One row per (device, candidate model version) of the windows where the candidate ran samples
 * (samples > 0; the others are left out whole), sorted by device then version. The model id and
 * comparison are the first window's (a version has one id, and one comparison from its metadata).
 */
export function foldShadowWindows(rows: readonly ShadowWindowRow[]): ShadowDeviceAggregate[] {
  const groups = new Map<string, ShadowWindowRow[]>();
  for (const row of rows) {
    if (!(row.samples > 0)) continue;
    const key = `${row.device}\u0000${row.model_version}`;
    const list = groups.get(key) ?? [];
    list.push(row);
    groups.set(key, list);
  }
  return sortShadowRows(
    [...groups.values()].map((windows) => {
      const first = windows[0]!;
      const sum = (pick: (w: ShadowWindowRow) => number) =>
        windows.reduce((a, w) => a + pick(w), 0);
      const p95 = meanSd(windows.map((w) => w.latency_p95));
      const active = meanSd(windows.map((w) => w.active_latency_p95));
      const agreement = meanSd(windows.map((w) => w.agreement));
      return {
        device: first.device,
        model_id: first.model_id,
        model_version: first.model_version,
        comparison: first.comparison,
        windows: windows.length,
        samples: sum((w) => w.samples),
        dropped: sum((w) => w.dropped),
        errors: sum((w) => w.errors),
        latency_p95: p95.mean,
        latency_p95_sd: p95.sd,
        active_latency_p95: active.mean,
        active_latency_p95_sd: active.sd,
        agreement: agreement.mean,
        agreement_sd: agreement.sd,
      };
    }),
  );
}

/** By device, then candidate version: the order every store returns. */
export function sortShadowRows(rows: ShadowDeviceAggregate[]): ShadowDeviceAggregate[] {
  return rows.sort(
    (a, b) =>
      compare(a.device, b.device) ||
      compare(a.model_version, b.model_version) ||
      compare(a.model_id, b.model_id),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
