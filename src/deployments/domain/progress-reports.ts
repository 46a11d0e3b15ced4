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
