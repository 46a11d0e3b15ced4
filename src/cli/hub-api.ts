// The hub's API as the CLI sees it: the request and response shapes (snake_case, as on the wire)
// come from docs/openapi.json through hub-api.generated.ts; the enumerations the CLI checks
// arguments against and the CLI-side inputs are here. HubClient speaks it.
import type * as Api from './hub-api.generated.js';

export const STAGES = ['staging', 'production', 'archived'] as const;
export type Stage = (typeof STAGES)[number];

/** What the CLI reads of the ONNX header: any part may be missing, and a non-ONNX model has none. */
export type OnnxSummary = Partial<Api.OnnxHeaderDto>;
/** `format` is optional: hubs before format detection do not send it. */
export type ModelVersion = Omit<Api.ModelVersionDto, 'onnx' | 'format'> & {
  onnx: OnnxSummary | null;
  format?: Api.ModelVersionDto['format'];
};
export type ModelVersionPage = Omit<Api.ModelListDto, 'items'> & { items: ModelVersion[] };

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
  'deferred',
  'active',
  'failed',
  'rolled_back',
  'unreported',
] as const;

export type DeploymentAction = 'rollback' | 'pause' | 'resume' | 'promote';

/** The body of `POST /api/v1/deployments`, snake_case as on the wire. */
export type CreateDeploymentBody = Api.CreateDeploymentDto;
/** What older hubs (before the observation phase, named models) do not send; shown without them. */
type NewerDeploymentFields =
  | 'phase'
  | 'observe_s'
  | 'observe_inconclusive'
  | 'observing_since'
  | 'rate'
  | 'shadow'
  | 'serve_as';
export type Deployment = Omit<Api.DeploymentDto, NewerDeploymentFields> &
  Partial<Pick<Api.DeploymentDto, NewerDeploymentFields>>;
export type FailedDevice = Api.FailedDeviceDto;
export type DeploymentEvent = Api.DeploymentEventDto;
export type DeploymentDetail = Omit<Api.DeploymentDetailDto, NewerDeploymentFields> &
  Partial<Pick<Api.DeploymentDetailDto, NewerDeploymentFields>>;
/**
 * One metric of a health evaluation (`checks[]` of `GET /api/v1/deployments/:id/health`). Narrower
 * than the API's open `samples` object, and wider in `metric`: a newer hub may judge other metrics.
 */
export type HealthCheck = Omit<Api.HealthCheckDto, 'metric' | 'samples'> & {
  metric: string;
  samples?: {
    unit: 'devices' | 'windows' | (string & {});
    cohort: { devices: number; windows: number };
    baseline: { devices: number; windows: number };
  };
};
/** `GET /api/v1/deployments/:id/health`: the rules module's latest evaluation. */
export type DeploymentHealth = Omit<Api.DeploymentHealthDto, 'checks'> & { checks: HealthCheck[] };
export type HealthHistoryPage = Omit<Api.HealthHistoryDto, 'items'> & { items: DeploymentHealth[] };
/** The new version's or the baseline's figures over the evaluation window (an open object in the API). */
export interface HealthFigures {
  model_version?: string;
  devices?: number;
  samples?: number;
  [key: string]: unknown;
}
export type DeploymentPage = Omit<Api.DeploymentListDto, 'items'> & { items: Deployment[] };

export interface ListDeploymentsQuery {
  status?: string;
  environment?: string;
  group?: string;
  modelId?: string;
  serveAs?: string;
  limit?: number;
  offset?: number;
}

export type Group = Api.GroupDto;
export type GroupPage = Api.GroupListDto;
export type CreateGroupBody = Api.CreateGroupDto;
export type Device = Api.DeviceDto;
export type DevicePage = Api.DeviceListDto;
export type DeviceWithCredentials = Api.DeviceWithCredentialsDto;
export type CreateDeviceBody = Api.CreateDeviceDto;
export type UpdateDeviceBody = Api.UpdateDeviceDto;
export type UpdateModelBody = Api.UpdateModelDto;
export type Token = Api.TokenDto;
export type CreatedToken = Api.CreatedTokenDto;
export type CreateTokenBody = Api.CreateTokenDto;
/** A desired state as published (docs/protocol/desired-state.json), or null when none is set. */
export type DesiredState = Record<string, unknown> | null;

export interface ListDevicesQuery {
  group?: string;
  environment?: string;
  online?: boolean;
  limit?: number;
  offset?: number;
}
