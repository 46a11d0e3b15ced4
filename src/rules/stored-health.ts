import type { VersionAggregate } from '../telemetry/telemetry-store.js';
import type { BaselineKind, HealthReport } from './domain/health.js';
import type { ShadowFigures } from './domain/shadow.js';

/** One evaluation, as kept and shown (GET /deployments/:id/health, its history, the CLI). */
export interface StoredHealth extends HealthReport {
  /** The evaluation's id in the history (absent before it is saved). */
  id?: string;
  evaluated_at: string;
  /** `shadow`: the candidate beside the serving model before any device serves it (shadow-judge.ts). */
  stage: 'rolling_out' | 'observing' | 'shadow';
  step_index: number;
  /** `shadow`: the serving model on the same inputs of the same devices. */
  baseline_kind: BaselineKind | 'shadow';
  window: { from: string; to: string; baseline_from: string; baseline_to: string };
  new_version: string;
  baseline_versions: string[];
  cohort: VersionAggregate | null;
  baseline: VersionAggregate | null;
  /** The shadow figures (stage `shadow`). */
  shadow?: ShadowFigures | null;
  action: 'none' | 'rolled_back' | 'paused';
}
