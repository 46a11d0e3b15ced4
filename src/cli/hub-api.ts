// The hub's API as the CLI sees it: request and response shapes (snake_case, as on the wire) and
// the enumerations the CLI checks arguments against. HubClient speaks it.

export const STAGES = ['staging', 'production', 'archived'] as const;
export type Stage = (typeof STAGES)[number];

export interface OnnxSummary {
  opset?: number;
  producer_name?: string;
  inputs?: unknown[];
  outputs?: unknown[];
  parameter_count?: number;
  [key: string]: unknown;
}

export interface ModelVersion {
  id: string;
  name: string;
  version: string;
  model_type: string;
  framework: string;
  /** The format the hub detected from the bytes (onnx, pytorch, tflite, ...). */
  format?: string;
  stage: string;
  sha256: string;
  size: number;
  metadata: Record<string, unknown> | null;
  onnx: OnnxSummary | null;
  tags: string[];
  parent_id: string | null;
  signature: { key_hint: string; kind: string } | null;
  created_at: string;
  updated_at: string;
}

export interface ModelVersionPage {
  items: ModelVersion[];
  total: number;
  limit: number;
  offset: number;
}

export interface ListModelsQuery {
  name?: string;
  stage?: string;
  modelType?: string;
  /** created (newest push first, the default) or version (highest version first). */
  sort?: 'created' | 'version';
  limit?: number;
  offset?: number;
}

export interface PushModelInput {
  name: string;
  version: string;
  modelType: string;
  framework: string;
  stage: string;
  /** JSON object text, sent verbatim. */
  metadata?: string;
  parentId?: string;
  tags?: readonly string[];
  file: { path: string; size: number };
  signature?: { filename: string; content: Buffer };
}

export const DEPLOYMENT_TYPES = ['blue-green', 'canary'] as const;
export type DeploymentType = (typeof DEPLOYMENT_TYPES)[number];

/** Every status of a deployment (the hub's list; a spec checks they agree). */
export const DEPLOYMENT_STATUSES = [
  'pending',
  'staging',
  'in_progress',
  'paused',
  'succeeded',
  'rolled_back',
  'failed',
  'superseded',
] as const;
/** Statuses a deployment never leaves. */
export const FINISHED_STATUSES: readonly string[] = [
  'succeeded',
  'rolled_back',
  'failed',
  'superseded',
];

/** Per-device phases in rollout order, then devices that have not reported. */
export const DEPLOYMENT_PHASES = [
  'notified',
  'downloading',
  'verifying',
  'staged',
  'active',
  'failed',
  'rolled_back',
  'unreported',
] as const;

export type DeploymentAction = 'rollback' | 'pause' | 'resume' | 'promote';

/** The body of `POST /api/v1/deployments`, snake_case as on the wire. */
export interface CreateDeploymentBody {
  model_id: string;
  environment: string;
  deployment_type: DeploymentType;
  target: string;
  canary?: { steps?: number[]; step_interval_s?: number; salt?: string };
  rules?: Record<string, unknown>;
  observe_s?: number;
  observe_inconclusive?: 'succeed' | 'pause';
  auto_rollback?: boolean;
  staging_timeout_s?: number;
  device_timeout_s?: number;
  min_staged_share?: number;
  max_failure_share?: number;
  max_retries?: number;
  supersede?: boolean;
}

export interface Deployment {
  id: string;
  model: { id: string; name: string; version: string };
  environment: string;
  deployment_type: string;
  target: string;
  groups: { name: string; previous_model_id: string | null }[];
  status: string;
  /** staging, rolling_out, observing, paused; null once finished (older hubs: absent). */
  phase?: string | null;
  status_reason: string | null;
  observe_s?: number;
  observe_inconclusive?: string;
  observing_since?: string | null;
  /** Only in the answer to a create. */
  warnings?: string[];
  canary: {
    steps: number[];
    step_interval_s: number;
    step_index: number;
    percent: number;
    salt: string;
  } | null;
  rules: Record<string, unknown>;
  auto_rollback: boolean;
  staging_timeout_s: number;
  device_timeout_s: number;
  min_staged_share: number;
  max_failure_share: number;
  max_retries: number;
  superseded_by: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface FailedDevice {
  device_id: string;
  phase: string;
  reason: string | null;
  detail: string | null;
  attempts: number;
}

export interface DeploymentEvent {
  id: string;
  at: string;
  actor: string;
  type: string;
  from_status: string | null;
  to_status: string | null;
  device_id: string | null;
  reason: string | null;
  figures: Record<string, unknown>;
}

export interface DeploymentDetail extends Deployment {
  progress: {
    targets: number;
    online: number;
    participating: number;
    phases: Record<string, number>;
    failed_devices: FailedDevice[];
  };
  /** Deployment-level events, oldest first. */
  events: DeploymentEvent[];
}

/** One metric of a health evaluation (`checks[]` of `GET /api/v1/deployments/:id/health`). */
export interface HealthCheck {
  /** fps, latency_p95, memory, error_rate, map, map_floor, staging_failures (others may follow). */
  metric: string;
  status: 'ok' | 'degraded' | 'no_data' | (string & {});
  /** The new version's figure (mAP as 0..1, error rate and staging failures in %). */
  cohort: number | null;
  baseline: number | null;
  /** Change in percent (mAP: points). */
  change: number | null;
  /** The limit: a percent change, mAP points, a maximum share in %, or the mAP floor (0..1). */
  threshold: number;
  /** The absolute floor a change must also pass (fps, ms, MB). */
  floor?: number;
  /** Welch's one-sided p-value, and the significance level it is compared with. */
  p_value?: number | null;
  alpha?: number;
  samples?: {
    unit: 'devices' | 'windows' | (string & {});
    cohort: { devices: number; windows: number };
    baseline: { devices: number; windows: number };
  };
  detail: string;
}

/** The new version's or the baseline's figures over the evaluation window. */
export interface HealthFigures {
  model_version?: string;
  devices?: number;
  samples?: number;
  [key: string]: unknown;
}

/** `GET /api/v1/deployments/:id/health`: the rules module's latest evaluation. */
export interface DeploymentHealth {
  deployment_id: string;
  /** null before the first evaluation. */
  verdict: 'healthy' | 'degraded' | 'inconclusive' | null | (string & {});
  evaluated_at: string | null;
  checks: HealthCheck[];
  reasons: string[];
  action: 'none' | 'rolled_back' | 'paused' | (string & {});
  /** The evaluation's id in the history. */
  id?: string;
  stage?: string;
  step_index?: number;
  /** outside: devices outside the canary cohort, same window; before: the same devices before the step. */
  baseline_kind?: string;
  window?: Record<string, string>;
  new_version?: string;
  baseline_versions?: string[];
  cohort?: HealthFigures | null;
  baseline?: HealthFigures | null;
}

export interface HealthHistoryPage {
  items: DeploymentHealth[];
  total: number;
  limit: number;
  offset: number;
}

export interface DeploymentPage {
  items: Deployment[];
  total: number;
  limit: number;
  offset: number;
}

export interface ListDeploymentsQuery {
  status?: string;
  environment?: string;
  group?: string;
  modelId?: string;
  limit?: number;
  offset?: number;
}
