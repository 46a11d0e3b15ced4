import http from 'node:http';
import https from 'node:https';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import {
  CliError,
  EXIT,
  HubUnreachableError,
  describeNetworkError,
  hubApiError,
} from './cli-errors.js';
import {
  buildMultipartBody,
  bufferSource,
  fileSource,
  type MultipartPart,
} from './multipart-upload.js';

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

/** Called as upload bytes are handed to the socket. */
export type ProgressListener = (sentBytes: number, totalBytes: number) => void;

export interface HubClientOptions {
  baseUrl: string | URL;
  token?: string;
  /** Socket inactivity limit; the hub hashes and inspects the model after the upload, so keep it generous. */
  idleTimeoutMs?: number;
}

interface RequestInit {
  query?: Record<string, string | number | undefined>;
  body?: { stream: Readable; contentType: string; contentLength: number };
  onProgress?: ProgressListener;
}

interface RawResponse {
  status: number;
  text: string;
}

const MODELS_PATH = '/api/v1/models';
const DEPLOYMENTS_PATH = '/api/v1/deployments';
const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;

/** Multipart parts in the order the hub needs: text fields, then `signature`, then `file` last. */
export function pushModelParts(input: PushModelInput): MultipartPart[] {
  const fields: [string, string | undefined][] = [
    ['name', input.name],
    ['version', input.version],
    ['model_type', input.modelType],
    ['framework', input.framework],
    ['stage', input.stage],
    ['metadata', input.metadata],
    ['parent_id', input.parentId],
    ['tags', input.tags && input.tags.length > 0 ? input.tags.join(',') : undefined],
  ];
  const parts: MultipartPart[] = fields
    .filter((field): field is [string, string] => field[1] !== undefined)
    .map(([name, value]) => ({ name, value }));
  if (input.signature) {
    parts.push({
      name: 'signature',
      filename: input.signature.filename,
      contentType: 'application/json',
      source: bufferSource(input.signature.content),
    });
  }
  parts.push({
    name: 'file',
    filename: basename(input.file.path),
    contentType: 'application/octet-stream',
    source: fileSource(input.file.path, input.file.size),
  });
  return parts;
}

export class HubClient {
  private readonly baseUrl: URL;
  private readonly token: string | undefined;
  private readonly idleTimeoutMs: number;

  constructor(options: HubClientOptions) {
    this.baseUrl = new URL(options.baseUrl);
    this.token = options.token;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /** The hub address as shown in messages (no credentials, query or trailing slash). */
  get displayUrl(): string {
    return this.baseUrl.origin + this.baseUrl.pathname.replace(/\/+$/, '');
  }

  async pushModel(input: PushModelInput, onProgress?: ProgressListener): Promise<ModelVersion> {
    const body = buildMultipartBody(pushModelParts(input));
    return this.request<ModelVersion>('POST', MODELS_PATH, {
      body: {
        stream: body.open(),
        contentType: body.contentType,
        contentLength: body.contentLength,
      },
      onProgress,
    });
  }

  async listModels(query: ListModelsQuery = {}): Promise<ModelVersionPage> {
    return this.request<ModelVersionPage>('GET', MODELS_PATH, {
      query: {
        name: query.name,
        stage: query.stage,
        model_type: query.modelType,
        limit: query.limit,
        offset: query.offset,
      },
    });
  }

  async getModel(id: string): Promise<ModelVersion> {
    return this.request<ModelVersion>('GET', `${MODELS_PATH}/${encodeURIComponent(id)}`);
  }

  async createDeployment(body: CreateDeploymentBody): Promise<Deployment> {
    return this.request<Deployment>('POST', DEPLOYMENTS_PATH, { body: jsonBody(body) });
  }

  async listDeployments(query: ListDeploymentsQuery = {}): Promise<DeploymentPage> {
    return this.request<DeploymentPage>('GET', DEPLOYMENTS_PATH, {
      query: {
        status: query.status,
        environment: query.environment,
        group: query.group,
        model_id: query.modelId,
        limit: query.limit,
        offset: query.offset,
      },
    });
  }

  async getDeployment(id: string): Promise<DeploymentDetail> {
    return this.request<DeploymentDetail>('GET', `${DEPLOYMENTS_PATH}/${encodeURIComponent(id)}`);
  }

  /** The latest health evaluation of a deployment (hubs with the rules module). */
  async getDeploymentHealth(id: string): Promise<DeploymentHealth> {
    return this.request<DeploymentHealth>(
      'GET',
      `${DEPLOYMENTS_PATH}/${encodeURIComponent(id)}/health`,
    );
  }

  /** Every evaluation of the deployment's health, newest first. */
  async getDeploymentHealthHistory(id: string, limit = 50, offset = 0): Promise<HealthHistoryPage> {
    return this.request<HealthHistoryPage>(
      'GET',
      `${DEPLOYMENTS_PATH}/${encodeURIComponent(id)}/health/history`,
      { query: { limit: String(limit), offset: String(offset) } },
    );
  }

  /** `POST /api/v1/deployments/:id/rollback|pause|resume|promote`, with an optional reason. */
  async deploymentAction(
    id: string,
    action: DeploymentAction,
    reason?: string,
  ): Promise<Deployment> {
    return this.request<Deployment>(
      'POST',
      `${DEPLOYMENTS_PATH}/${encodeURIComponent(id)}/${action}`,
      { body: jsonBody(reason === undefined ? {} : { reason }) },
    );
  }

  /** The Mosquitto password file of the fleet (admin token). */
  async mosquittoPasswordFile(): Promise<string> {
    return this.requestText('/api/v1/broker/mosquitto-passwd');
  }

  /** The Mosquitto ACL file of the fleet, with a block for the hub's own user (admin token). */
  async mosquittoAclFile(hubUser: string): Promise<string> {
    return this.requestText('/api/v1/broker/mosquitto-acl', { hub_user: hubUser });
  }

  private async requestText(path: string, query: RequestInit['query'] = {}): Promise<string> {
    const response = await this.send('GET', this.endpoint(path, query), {});
    if (response.status < 200 || response.status > 299)
      throw hubApiError(response.status, response.text);
    return response.text;
  }

  private endpoint(path: string, query: RequestInit['query'] = {}): URL {
    const url = new URL(this.baseUrl);
    url.pathname = url.pathname.replace(/\/+$/, '') + path;
    url.search = '';
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  private async request<T>(method: string, path: string, init: RequestInit = {}): Promise<T> {
    const response = await this.send(method, this.endpoint(path, init.query), init);
    if (response.status < 200 || response.status > 299) {
      throw hubApiError(response.status, response.text);
    }
    try {
      return JSON.parse(response.text) as T;
    } catch {
      throw new CliError(
        `hub returned a response that is not JSON (HTTP ${response.status})`,
        EXIT.FAILURE,
      );
    }
  }

  private send(method: string, url: URL, init: RequestInit): Promise<RawResponse> {
    const headers: http.OutgoingHttpHeaders = {
      accept: 'application/json',
      'user-agent': 'sentinel-cli',
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (init.body) {
      headers['content-type'] = init.body.contentType;
      headers['content-length'] = init.body.contentLength;
    }
    return exchange(url, method, headers, init, {
      idleTimeoutMs: this.idleTimeoutMs,
      unreachable: (err) => new HubUnreachableError(this.displayUrl, describeNetworkError(err)),
    });
  }
}

function jsonBody(value: unknown): NonNullable<RequestInit['body']> {
  const bytes = Buffer.from(JSON.stringify(value), 'utf8');
  return {
    stream: Readable.from([bytes]),
    contentType: 'application/json',
    contentLength: bytes.length,
  };
}

/**
 * One HTTP exchange. A response, once it has started, wins over socket errors: the hub may answer
 * (e.g. 409) and close the connection before it has read the whole upload, which makes our
 * remaining writes fail with EPIPE/ECONNRESET.
 */
function exchange(
  url: URL,
  method: string,
  headers: http.OutgoingHttpHeaders,
  { body, onProgress }: RequestInit,
  options: { idleTimeoutMs: number; unreachable: (err: unknown) => CliError },
): Promise<RawResponse> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<RawResponse>((resolve, reject) => {
    let settled = false;
    let responded = false;
    let uploadFailure: Error | undefined;
    const fail = (err: CliError) => {
      if (settled) return;
      settled = true;
      reject(err);
    };

    // One request per process: no keep-alive agent, so no idle socket outlives the command.
    const req = transport.request(url, { method, headers, agent: false }, (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (err) => fail(options.unreachable(err)));
      res.on('close', () => {
        if (!res.complete) fail(options.unreachable(new Error('connection closed mid-response')));
      });
      res.on('end', () => {
        if (!settled) {
          settled = true;
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        }
        // The hub answered before reading the whole upload: stop sending it.
        body?.stream.destroy();
        req.destroy();
      });
    });
    req.setTimeout(options.idleTimeoutMs, () => {
      req.destroy(new Error(`no activity for ${options.idleTimeoutMs / 1000}s`));
    });
    req.on('error', (err) => {
      if (uploadFailure)
        fail(new CliError(`upload failed: ${uploadFailure.message}`, EXIT.FAILURE));
      else if (!responded) fail(options.unreachable(err));
    });

    if (!body) {
      req.end();
      return;
    }
    let sent = 0;
    body.stream.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      onProgress?.(sent, body.contentLength);
    });
    body.stream.on('error', (err) => {
      uploadFailure = err;
      req.destroy(err);
    });
    body.stream.pipe(req);
  });
}
