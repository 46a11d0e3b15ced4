// Generated from docs/openapi.json (Sentinel Model Hub 1) by scripts/generate-cli-types.ts.
// Do not edit: run `npm run openapi` after changing the API.

export interface ErrorResponseDto {
  statusCode: number;
  error:
    | 'VALIDATION_FAILED'
    | 'NOT_ONNX'
    | 'FORMAT_MISMATCH'
    | 'NOT_DEPLOYABLE'
    | 'EMPTY_FILE'
    | 'INVALID_SIGNATURE'
    | 'SIGNATURE_REQUIRED'
    | 'UNAUTHENTICATED'
    | 'FORBIDDEN'
    | 'NOT_FOUND'
    | 'CONFLICT'
    | 'INCOMPATIBLE'
    | 'PAYLOAD_TOO_LARGE'
    | 'UNSUPPORTED_MEDIA_TYPE'
    | 'RANGE_NOT_SATISFIABLE'
    | 'STORAGE_UNAVAILABLE'
    | 'INSUFFICIENT_STORAGE'
    | 'INTERNAL';
  message: string;
}

export interface CreateTokenDto {
  /** A label for the token: who or what uses it. */
  name: string;
  /** admin: everything; operator: push, deploy, rollback; viewer: read. */
  role: 'admin' | 'operator' | 'viewer';
}

export interface CreatedTokenDto {
  id: string;
  name: string;
  role: 'admin' | 'operator' | 'viewer';
  /** The first characters of the token, to recognise it. */
  token_prefix: string;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
  /** The secret, shown only in this response. Store it now. */
  token: string;
}

export interface TokenDto {
  id: string;
  name: string;
  role: 'admin' | 'operator' | 'viewer';
  /** The first characters of the token, to recognise it. */
  token_prefix: string;
  created_by: string | null;
  created_at: string;
  last_used_at: string | null;
}

export interface WhoamiDto {
  /** The token's id (as in GET /api/v1/tokens); null for the hub's ADMIN_TOKEN. */
  token_id: string | null;
  name: string;
  role: 'admin' | 'operator' | 'viewer';
}

export interface OnnxOpsetDto {
  domain: string;
  version: number;
}

export interface OnnxTensorDto {
  name: string;
  elem_type: string;
  /** Dimensions; a string is a symbolic dimension, null an unknown one. */
  shape: (number | string | null)[];
}

export interface OnnxHeaderDto {
  ir_version: number;
  /** Opset of the default ONNX domain. */
  opset: number;
  opsets: OnnxOpsetDto[];
  producer_name: string;
  producer_version: string;
  domain: string;
  model_version: number;
  graph_name: string;
  inputs: OnnxTensorDto[];
  outputs: OnnxTensorDto[];
  /** Sum of the element counts of all initializers. */
  parameter_count: number;
  initializer_count: number;
  node_count: number;
  metadata_props: Record<string, string>;
}

export interface SignatureInfoDto {
  /** Hint of the key that signed: base64(sha256(DER public key)), as cosign writes it. */
  key_hint: string;
  kind: 'message_signature' | 'dsse';
  bundle_media_type: string;
  verified_at: string;
}

export interface ModelVersionDto {
  id: string;
  name: string;
  /** As pushed: a semantic version, a nightly date (20261206) or CalVer (2026.12.6). */
  version: string;
  model_type: string;
  /** As declared by the push. */
  framework: string;
  /** The file format detected from the bytes. Only onnx models can be deployed to the agents. */
  format: 'onnx' | 'pytorch' | 'tflite' | 'tf-savedmodel' | 'safetensors' | 'unknown';
  stage: 'staging' | 'production' | 'archived';
  sha256: string;
  /** Bytes. */
  size: number;
  metadata: Record<string, unknown>;
  /** The ONNX header; null for other formats. */
  onnx: OnnxHeaderDto | null;
  tags: string[];
  parent_id: string | null;
  signature: SignatureInfoDto | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface ModelListDto {
  items: ModelVersionDto[];
  total: number;
  limit: number;
  offset: number;
}

export interface UpdateModelDto {
  stage?: 'staging' | 'production' | 'archived';
  /** Merged into the metadata; a key set to null is removed. */
  metadata?: Record<string, unknown>;
  /** Replaces the tags. */
  tags?: string[];
}

export interface LineageDto {
  /** Parent first, then its parent, up to the root. */
  ancestors: ModelVersionDto[];
  /** Children, grandchildren, ... in breadth-first order. */
  descendants: ModelVersionDto[];
}

export interface AliasDto {
  model: string;
  alias: string;
  version: string;
  model_id: string;
  moved_by: string;
  moved_at: string;
}

export interface AliasListDto {
  items: AliasDto[];
  total: number;
}

export interface SetAliasDto {
  /** The version of this model the alias points at. */
  version: string;
  reason?: string;
}

export interface AliasMoveDto {
  /** null: created */
  from_version: string | null;
  /** null: removed */
  to_version: string | null;
  actor: string;
  reason: string | null;
  at: string;
}

export interface AliasHistoryDto {
  /** Newest first. */
  items: AliasMoveDto[];
}

export interface CreateGroupDto {
  /** Unique; an MQTT topic level (sentinel/v1/groups/{name}/desired). */
  name: string;
  environment: string;
  labels?: Record<string, string>;
}

export interface MaintenanceWindowDto {
  days: ('mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun')[];
  /** HH:MM local time. */
  start: string;
  /** HH:MM local time; at or before start: the next day. */
  end: string;
  time_zone?: string;
}

export interface GroupDto {
  id: string;
  name: string;
  environment: string;
  labels: Record<string, string>;
  /** Devices in the group. */
  device_count: number;
  /** When rollouts may notify its devices; empty: any time. */
  maintenance_windows: MaintenanceWindowDto[];
  /** seq of the current desired state; 0 before the first. */
  desired_seq: number;
  /** The group's desired state, as published retained on its MQTT topic. */
  desired: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
}

export interface GroupListDto {
  items: GroupDto[];
  total: number;
}

export interface SetMaintenanceWindowsDto {
  /** Replaces the windows; [] removes them (rollouts may notify at any time). */
  windows: MaintenanceWindowDto[];
}

export interface CreateDeviceDto {
  /** Unique; also the MQTT user name and client id. "me" is reserved. */
  id: string;
  /** Defaults to the id. */
  name?: string;
  /** An existing group. */
  group: string;
  labels?: Record<string, string>;
}

export interface NamedSlotDto {
  model_id: string;
  version: string;
  loaded: boolean;
}

export interface NamedSlotsDto {
  blue: NamedSlotDto | null;
  green: NamedSlotDto | null;
}

export interface NamedProgressDto {
  deployment_id: string | null;
  phase: string;
  reason: string | null;
}

export interface NamedModelDto {
  name: string;
  active_slot: 'blue' | 'green' | null;
  slots: NamedSlotsDto;
  /** The progress of the deployment it follows, as reported. */
  deployment: NamedProgressDto | null;
}

export interface MqttCredentialsDto {
  /** MQTT user name: the device id. */
  username: string;
  /** MQTT password. Shown only in this response: store it now. */
  password: string;
  /** MQTT client id: the device id. */
  client_id: string;
}

export interface DeviceWithCredentialsDto {
  id: string;
  name: string;
  /** null once the group was deleted: the broker refuses the device until it is moved. */
  group: string | null;
  environment: string | null;
  labels: Record<string, string>;
  /** Whether the device is connected, as it last reported. */
  online: boolean;
  last_seen_at: string | null;
  /** The last state message the device sent (docs/protocol/device-state.json). */
  reported: Record<string, unknown> | null;
  /** The named models the device serves besides `default` (docs/protocol.md 6.6), from its last report (`reported.models`); empty for a one-model agent. */
  models: NamedModelDto[];
  agent_version: string | null;
  /** What the device last reported it can run (docs/protocol.md); null: unknown (an older agent, or never connected), and a deployment then treats it as compatible. */
  capabilities: Record<string, unknown> | null;
  /** The device's own desired state, overriding its group's. */
  desired: Record<string, unknown> | null;
  desired_seq: number;
  credential_rotated_at: string;
  created_at: string;
  updated_at: string;
  credentials: MqttCredentialsDto;
}

export interface DeviceDto {
  id: string;
  name: string;
  /** null once the group was deleted: the broker refuses the device until it is moved. */
  group: string | null;
  environment: string | null;
  labels: Record<string, string>;
  /** Whether the device is connected, as it last reported. */
  online: boolean;
  last_seen_at: string | null;
  /** The last state message the device sent (docs/protocol/device-state.json). */
  reported: Record<string, unknown> | null;
  /** The named models the device serves besides `default` (docs/protocol.md 6.6), from its last report (`reported.models`); empty for a one-model agent. */
  models: NamedModelDto[];
  agent_version: string | null;
  /** What the device last reported it can run (docs/protocol.md); null: unknown (an older agent, or never connected), and a deployment then treats it as compatible. */
  capabilities: Record<string, unknown> | null;
  /** The device's own desired state, overriding its group's. */
  desired: Record<string, unknown> | null;
  desired_seq: number;
  credential_rotated_at: string;
  created_at: string;
  updated_at: string;
}

export interface DeviceListDto {
  items: DeviceDto[];
  total: number;
  limit: number;
  offset: number;
}

export interface DeviceSelfDto {
  device_id: string;
  /** Subscribe to sentinel/v1/groups/{group}/desired. null when the device is in no group (its group was deleted): the broker refuses it until it is moved. */
  group: string | null;
  /** The group's environment; null without a group. */
  environment: string | null;
}

export interface UpdateDeviceDto {
  name?: string;
  /** Moves the device to this existing group; its MQTT session is ended. */
  group?: string;
  /** Replaces the labels. */
  labels?: Record<string, string>;
}

export interface PinModelDto {
  /** The model version to run: a model version id (UUID), name@version, e.g. detector@2.0.0 (the version as pushed), or name@alias, e.g. detector@champion. */
  model_id: string;
}

export interface CanaryOptionsDto {
  /** Cohort percentages, increasing, ending at 100. Default 5, 25, 100. */
  steps?: number[];
  /** Seconds between steps. Default 300. */
  step_interval_s?: number;
  /** Cohort salt. Default: the deployment id (a new cohort each time); a fixed salt keeps the same canary devices across deployments. */
  salt?: string;
}

export interface AbortCriterionDto {
  /** download (download_failed, disk_full, too_large), verification (hash_mismatch, bad_signature, unsigned), health_check (load_error, health_check, error_burst), timeout, rolled_back (swapped back by the agent), or any. */
  failure_type: 'download' | 'verification' | 'health_check' | 'timeout' | 'rolled_back' | 'any';
  /** Abort when failures of this type reach this percentage of the devices done. */
  threshold_percent: number;
  /** The criterion applies once at least this many devices are done (staged, active, or failed for good). */
  min_devices_done?: number;
}

export interface AbortOptionsDto {
  criteria: AbortCriterionDto[];
  /** rollback: the deployment fails (abort_criteria) and its devices go back; pause: it stops where it is (devices keep what they run) until resumed, and a resume starts the criteria afresh. */
  action?: 'rollback' | 'pause';
}

export interface RampOptionsDto {
  /** Devices per minute at the start. */
  base_per_minute: number;
  /** The rate is multiplied by this after every `every_succeeded` devices done. */
  factor: number;
  /** Devices done (staged or active) per increase of the rate. */
  every_succeeded: number;
}

export interface RateOptionsDto {
  /** At most this many devices are notified (told to download) in any 60 seconds, spread evenly; the blue/green cutover and rollbacks are never limited. */
  max_per_minute: number;
  /** An exponential ramp: start at base_per_minute and multiply by factor after every every_succeeded devices done, up to max_per_minute. */
  ramp?: RampOptionsDto;
}

export interface ShadowOptionsDto {
  /** Share of the inferences the serving model makes that the candidate also runs on the device, (0, 1]. */
  sample_rate: number;
  /** Seconds of shadow verification once every online device has staged the candidate; then the rules verdict decides the cutover (canary: the first step). */
  duration_s: number;
  /** Sampled inputs waiting for the candidate on a device at most; more are dropped (counted). The agent's default (2) when absent. */
  queue?: number;
  /** The agreement (0..1) of the candidate's outputs with the serving model's that it must reach (top-1, box IoU or cosine, as the model's metadata `shadow.compare` says). */
  min_agreement?: number;
}

export interface CreateDeploymentDto {
  /** The model version to deploy: a model version id (UUID), name@version, e.g. detector@2.0.0 (the version as pushed), or name@alias, e.g. detector@champion. */
  model_id: string;
  environment: string;
  deployment_type: 'blue-green' | 'canary';
  /** A group of the environment, or "all" for every group of the environment. */
  target: string;
  /** The named model of the groups' devices this deployment replaces (docs/protocol.md 6.6): each name has its own desired state, slots and at most one active deployment per group. `default` is the model of a one-model device. */
  serve_as?: string;
  canary?: CanaryOptionsDto;
  /** Rule overrides for the rules module; unknown keys are refused. `enabled` (default true): Judge the deployment at all; false: canary steps follow their interval alone and nothing is rolled back by the rules. `window_s` (default 60): Seconds of telemetry judged in each evaluation (the latest window). `warmup_s` (default 10): Telemetry from the first seconds of a step or cutover is not judged (fresh sessions warm up). `alpha` (default 0.01): Significance level: a change counts as a degradation only if Welch's one-sided t-test gives p below this. `fps_drop_pct` (default 10): Degraded when FPS drops by more than this many percent (and significantly). `fps_min_delta` (default 0.5): An FPS drop must also be larger than this many frames per second. `p95_rise_pct` (default 20): Degraded when p95 latency rises by more than this many percent (and significantly). `p95_min_delta_ms` (default 0.5): A p95 latency rise must also be larger than this many milliseconds (less is within the agent's own jitter and far below a frame's time). `memory_rise_pct` (default 50): Degraded when memory rises by more than this many percent (and significantly). `memory_min_delta_mb` (default 10): A memory rise must also be larger than this many MB. `error_rate_max_pct` (default 5): Degraded when more than this percentage of inferences fail (new version alone). `map_drop_points` (default 5): Degraded when mAP drops by more than this many points against the baseline. `staging_failure_max_pct` (default 20): Degraded when more than this percentage of devices failed to stage the model. `min_devices` (default 1): Devices needed on each side (new version, baseline) for a verdict. `min_samples` (default 5): Telemetry windows needed on each side for a verdict. `inconclusive_timeout_s` (default 600): A canary step that stays inconclusive this long is paused (a person decides). */
  rules?: Record<string, unknown>;
  /** Seconds the deployment stays in progress (phase observing) once every device runs the new version (blue/green after its cutover, canary at its last step), judged by the rules against the same devices before; degraded rolls back, healthy succeeds. 0: no observation (it succeeds as soon as every device is on it). */
  observe_s?: number;
  /** What an observation that ends without a verdict (inconclusive: too little telemetry) does: succeed with a warning event, or pause for a person to decide. */
  observe_inconclusive?: 'succeed' | 'pause';
  /** Let the rules module roll back on degradation. */
  auto_rollback?: boolean;
  /** Blue/green: longest wait for devices to stage. */
  staging_timeout_s?: number;
  /** A device still notified/downloading/verifying after this is failed (timeout). */
  device_timeout_s?: number;
  /** Longest a device may defer the swap while its application holds the update lock (counted from its first deferral); 0: no deferral. Absent: as long as the lock is held, and the desired state carries no max_deferral_s (agents before deferral refuse it). A deferred device is timed out after device_timeout_s plus this. Rollbacks are never deferred. */
  max_deferral_s?: number;
  /** Blue/green: share of online devices that must have staged for the cutover. */
  min_staged_share?: number;
  /** Share of failed devices above which the deployment fails and rolls back. */
  max_failure_share?: number;
  /** Automatic retries of a device whose download failed or timed out. */
  max_retries?: number;
  /** End the active deployment of the same groups (status superseded) instead of 409. */
  supersede?: boolean;
  /** Deploy although the environment's stage gates hold the version (GET /api/v1/gates); admin tokens only. The gates it passed over are recorded in the deployment's created event. */
  override_gates?: boolean;
  /** Scheduled start: the deployment stays pending, notifying no device, until then (and until every target group is inside a maintenance window). Absent: at once. */
  start_at?: string;
  /** Abort criteria by failure type: stop when failures of a type reach a percentage of the devices done, once enough are done. Checked besides max_failure_share. */
  abort?: AbortOptionsDto;
  /** Notification rate: at most max_per_minute devices told to download in any minute, optionally ramping up as devices succeed. The staging timeout (blue/green) and the step interval (canary) count from the moment the last device of the step is told. Absent: every device at once. */
  rate?: RateOptionsDto;
  /** Shadow verification before any device serves the new version: staged devices run it beside the serving model on a sample of the same inputs for duration_s; the rules judge latency, errors and output agreement; degraded stops the deployment (rolls back, or pauses with auto_rollback off), healthy cuts over (a canary starts its first step). Absent: none. */
  shadow?: ShadowOptionsDto;
}

export interface ModelSummaryDto {
  id: string;
  name: string;
  version: string;
}

export interface DeploymentGroupDto {
  name: string;
  /** What a rollback returns to. */
  previous_model_id: string | null;
}

export interface CanaryStateDto {
  steps: number[];
  step_interval_s: number;
  step_index: number;
  /** Cohort percentage of the current step. */
  percent: number;
  salt: string;
}

export interface RateStateDto {
  max_per_minute: number;
  ramp: RampOptionsDto | null;
  /** The cohort told so far: devices whose bucket (see docs/protocol.md, cohorts) is below notified_percent x 100. The deployment progress counts only these as participating. */
  notified_percent: number;
}

export interface ShadowStateDto {
  sample_rate: number;
  duration_s: number;
  min_agreement: number;
  /** When the shadow phase began (every online device staged); null before it. Its verdicts are in GET /api/v1/deployments/:id/health (stage shadow). */
  since: string | null;
}

export interface DeploymentDto {
  id: string;
  model: ModelSummaryDto;
  environment: string;
  deployment_type: 'blue-green' | 'canary';
  target: string;
  /** The named model of the groups' devices it deploys (docs/protocol.md 6.6); `default`: the model of a one-model device. */
  serve_as: string;
  groups: DeploymentGroupDto[];
  status:
    | 'pending'
    | 'staging'
    | 'in_progress'
    | 'paused'
    | 'succeeded'
    | 'rolled_back'
    | 'failed'
    | 'superseded';
  /** Where an active deployment is: staging (blue/green before its cutover, a canary with shadow before its first step), shadow (staged devices run the candidate beside the serving model), rolling_out (cutover, canary steps), observing (every device on the new version, judged for observe_s), paused; null once finished. */
  phase: 'staging' | 'shadow' | 'rolling_out' | 'observing' | 'paused' | null;
  /** Why it is where it is; while a scheduled start or a maintenance window holds it, what it waits for and until when. */
  status_reason: string | null;
  /** Scheduled start (pending until then); null: at once. */
  start_at: string | null;
  observe_s: number;
  observe_inconclusive: 'succeed' | 'pause';
  observing_since: string | null;
  /** Only in the answer to POST: what the rules will not judge as one might expect (a group smaller than rules.min_devices, a canary step that leaves no device outside its cohort or has none in it). */
  warnings?: string[];
  canary: CanaryStateDto | null;
  /** The notification rate limit and how far it has got; null: none. */
  rate: RateStateDto | null;
  /** Shadow verification asked for; null: none. */
  shadow: ShadowStateDto | null;
  rules: Record<string, unknown>;
  auto_rollback: boolean;
  staging_timeout_s: number;
  device_timeout_s: number;
  min_staged_share: number;
  max_failure_share: number;
  max_retries: number;
  /** Absent: devices defer as long as the update lock is held. */
  max_deferral_s?: number;
  superseded_by: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface DeploymentListDto {
  items: DeploymentDto[];
  total: number;
  limit: number;
  offset: number;
}

export interface FailedDeviceDto {
  device_id: string;
  phase: 'failed' | 'rolled_back';
  reason: string | null;
  detail: string | null;
  attempts: number;
}

export interface DeferredDeviceDto {
  device_id: string;
  reason: string | null;
  /** The application's reason for its update lock. */
  detail: string | null;
  /** Since when it defers. */
  since: string;
}

export interface SkippedDeviceDto {
  device_id: string;
  reason: string;
  detail: string;
}

export interface ProgressDto {
  /** Devices in the target groups. */
  targets: number;
  online: number;
  /** Devices in the current step (the cohort for a canary). */
  participating: number;
  /** Devices per phase (notified, downloading, verifying, staged, deferred, active, failed, rolled_back, unreported). */
  phases: Record<string, number>;
  failed_devices: FailedDeviceDto[];
  /** Devices whose application holds the update lock, deferring the swap. */
  deferred_devices?: DeferredDeviceDto[];
  /** Devices of the target groups the deployment skipped because they cannot run the model (reason incompatible): they keep their model, and are in none of the figures above. */
  skipped_devices: SkippedDeviceDto[];
}

export interface DeploymentEventDto {
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

export interface DeploymentDetailDto {
  id: string;
  model: ModelSummaryDto;
  environment: string;
  deployment_type: 'blue-green' | 'canary';
  target: string;
  /** The named model of the groups' devices it deploys (docs/protocol.md 6.6); `default`: the model of a one-model device. */
  serve_as: string;
  groups: DeploymentGroupDto[];
  status:
    | 'pending'
    | 'staging'
    | 'in_progress'
    | 'paused'
    | 'succeeded'
    | 'rolled_back'
    | 'failed'
    | 'superseded';
  /** Where an active deployment is: staging (blue/green before its cutover, a canary with shadow before its first step), shadow (staged devices run the candidate beside the serving model), rolling_out (cutover, canary steps), observing (every device on the new version, judged for observe_s), paused; null once finished. */
  phase: 'staging' | 'shadow' | 'rolling_out' | 'observing' | 'paused' | null;
  /** Why it is where it is; while a scheduled start or a maintenance window holds it, what it waits for and until when. */
  status_reason: string | null;
  /** Scheduled start (pending until then); null: at once. */
  start_at: string | null;
  observe_s: number;
  observe_inconclusive: 'succeed' | 'pause';
  observing_since: string | null;
  /** Only in the answer to POST: what the rules will not judge as one might expect (a group smaller than rules.min_devices, a canary step that leaves no device outside its cohort or has none in it). */
  warnings?: string[];
  canary: CanaryStateDto | null;
  /** The notification rate limit and how far it has got; null: none. */
  rate: RateStateDto | null;
  /** Shadow verification asked for; null: none. */
  shadow: ShadowStateDto | null;
  rules: Record<string, unknown>;
  auto_rollback: boolean;
  staging_timeout_s: number;
  device_timeout_s: number;
  min_staged_share: number;
  max_failure_share: number;
  max_retries: number;
  /** Absent: devices defer as long as the update lock is held. */
  max_deferral_s?: number;
  superseded_by: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  progress: ProgressDto;
  /** Deployment-level events, oldest first. */
  events: DeploymentEventDto[];
}

export interface ActionReasonDto {
  reason?: string;
}

export interface GatesDto {
  environment: string;
  required_stage: 'staging' | 'production' | 'archived' | null;
  require_success_in: string | null;
  updated_by: string;
  updated_at: string;
}

export interface GatesListDto {
  items: GatesDto[];
}

export interface SetGatesDto {
  /** The stage a version must be in to be deployed here; null or absent: any. */
  required_stage?: 'staging' | 'production' | 'archived' | null;
  /** An environment where the same version must have had a succeeded deployment first; null or absent: none. */
  require_success_in?: string | null;
}

export interface TelemetryPointDto {
  /** The bucket's start. */
  time: string;
  /** Telemetry windows in the bucket. */
  windows: number;
  /** Frames inferred (sum). */
  frames: number;
  /** Mean FPS of the windows. */
  fps: number;
  /** Mean of the windows’ median latency, ms. */
  latency_p50: number;
  /** Mean of the windows’ p95 latency, ms. */
  latency_p95: number;
  /** Mean memory, MB. */
  memory_mb: number;
  /** Failed inferences (sum). */
  errors: number;
  /** Mean mAP of the windows that reported one; null when none did. */
  map: number | null;
}

export interface TelemetrySeriesDto {
  /** The device (by=device), else null. */
  device: string | null;
  /** The model version's id. */
  model_version: string;
  /** By time; empty buckets left out. */
  points: TelemetryPointDto[];
}

export interface TelemetryResponseDto {
  from: string;
  to: string;
  step_s: number;
  by: 'model_version' | 'device';
  /** Sorted by model version, then device. */
  series: TelemetrySeriesDto[];
}

export interface HealthCheckDto {
  /** agreement (shadow): the candidate's outputs against the serving model's on the same inputs, 0..1, against the deployment's shadow.min_agreement. */
  metric:
    | 'fps'
    | 'latency_p95'
    | 'memory'
    | 'error_rate'
    | 'map'
    | 'map_floor'
    | 'staging_failures'
    | 'agreement';
  /** degraded: past the limit (and the floor) and significant; inconclusive: past them but not significant (more data needed). */
  status: 'ok' | 'degraded' | 'inconclusive' | 'no_data';
  cohort: number | null;
  baseline: number | null;
  /** Change in percent (mAP: points) */
  change: number | null;
  /** The limit: percent change, mAP points, a maximum share in %, or the mAP floor (0..1). */
  threshold: number;
  /** The absolute change the metric must also pass (fps, ms, MB). */
  floor?: number;
  /** Welch's one-sided t-test p-value of the new version being worse. */
  p_value?: number | null;
  /** The significance level (rules.alpha). */
  alpha?: number;
  /** unit (devices: device means, for a baseline of other devices; windows: telemetry windows, for the same devices before the step) and the devices and windows on each side. */
  samples?: Record<string, unknown>;
  detail: string;
}

export interface DeploymentHealthDto {
  deployment_id: string;
  verdict: 'healthy' | 'degraded' | 'inconclusive' | null;
  evaluated_at: string | null;
  checks: HealthCheckDto[];
  reasons: string[];
  action: 'none' | 'rolled_back' | 'paused';
  /** The evaluation in the history. */
  id?: string;
  /** shadow: the candidate judged beside the serving model on the same inputs, before any device serves it. */
  stage?: 'rolling_out' | 'observing' | 'shadow';
  step_index?: number;
  /** outside: the previous version on the devices outside the canary cohort, same window; before: the same devices in the window before the step (blue/green: before the deployment, ahead of staging; taken once); shadow: the serving model on the same inputs of the same devices. */
  baseline_kind?: 'outside' | 'before' | 'shadow';
  window?: Record<string, string>;
  new_version?: string;
  baseline_versions?: string[];
  /** The new version over the window: devices, samples, fps, latency_p95, latency_p95_fleet (p95 of the merged latency histograms, null without), memory_mb, frames, errors, map. */
  cohort?: Record<string, unknown> | null;
  baseline?: Record<string, unknown> | null;
  /** Stage shadow: the candidate over the shadow phase: devices, windows, samples, dropped (the queue was full), errors, and {n, mean, sd} over the windows of latency_p95 (candidate), active_latency_p95 (serving model, same inputs) and agreement. */
  shadow?: Record<string, unknown> | null;
}

export interface HealthHistoryDto {
  /** Evaluations, newest first. */
  items: DeploymentHealthDto[];
  total: number;
  limit: number;
  offset: number;
}
