/** A deployment's progress as a device reports it (docs/protocol.md, DeploymentProgress). */
export interface DeploymentProgressLike {
  deployment_id: string | null;
  phase: string;
  reason?: string;
  detail?: string;
  bytes?: number;
  total_bytes?: number;
  in_cohort?: boolean;
}

/**
 * Every deployment progress a state report carries: the top level's (the `default` model), then
 * each named model's (`models.{name}.deployment`, docs/protocol.md 6.6), those without a
 * deployment id left out. Pure.
 */
export function progressOf(reported: unknown): DeploymentProgressLike[] {
  if (!reported || typeof reported !== 'object') return [];
  const state = reported as {
    deployment?: DeploymentProgressLike | null;
    models?: Record<string, { deployment?: DeploymentProgressLike | null } | null>;
  };
  const named = state.models && typeof state.models === 'object' ? Object.values(state.models) : [];
  return [state.deployment, ...named.map((model) => model?.deployment)].filter(
    (p): p is DeploymentProgressLike =>
      p !== null && p !== undefined && typeof p.deployment_id === 'string',
  );
}

/** A device's progress on one deployment, as the deployments feature writes it. */
export interface ProgressRow {
  deployment_id: string;
  device_id: string;
  phase: string;
  reason: string | null;
  detail: string | null;
  bytes: number | null;
  total_bytes: number | null;
  in_cohort: boolean | null;
  /** When the hub received the report (ISO). */
  at: string;
}

/**
 * The progress rows of a batch of state reports, for the deployments `tracked` says yes to: one per
 * deployment and device, the latest report's (reports in the order they arrived). Pure.
 */
export function progressRows(
  reports: readonly { deviceId: string; at: Date; reported: unknown }[],
  tracked: (deploymentId: string) => boolean,
): ProgressRow[] {
  const latest = new Map<string, ProgressRow>();
  for (const report of reports) {
    for (const progress of progressOf(report.reported)) {
      if (!progress.deployment_id || !tracked(progress.deployment_id)) continue;
      latest.set(`${progress.deployment_id}/${report.deviceId}`, {
        deployment_id: progress.deployment_id,
        device_id: report.deviceId,
        phase: progress.phase,
        reason: progress.reason ?? null,
        detail: progress.detail ?? null,
        bytes: progress.bytes ?? null,
        total_bytes: progress.total_bytes ?? null,
        in_cohort: progress.in_cohort ?? null,
        at: report.at.toISOString(),
      });
    }
  }
  return [...latest.values()];
}

/** What a progress row says, its time aside: two rows with one signature write the same. Pure. */
export function progressSignature(row: ProgressRow): string {
  return JSON.stringify([
    row.phase,
    row.reason,
    row.detail,
    row.bytes,
    row.total_bytes,
    row.in_cohort,
  ]);
}
