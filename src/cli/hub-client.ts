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
import type {
  CreateDeploymentBody,
  Deployment,
  DeploymentAction,
  DeploymentDetail,
  DeploymentHealth,
  DeploymentPage,
  HealthHistoryPage,
  ListDeploymentsQuery,
  ListModelsQuery,
  ModelVersion,
  ModelVersionPage,
  PushModelInput,
} from './hub-api.js';

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
        sort: query.sort,
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
        serve_as: query.serveAs,
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

  /**
   * Any JSON route of the hub (fleet-api.ts builds on it): `json` is sent as the body; a 204
   * answer resolves to undefined.
   */
  async call<T>(
    method: string,
    path: string,
    options: { json?: unknown; query?: RequestInit['query'] } = {},
  ): Promise<T> {
    return this.request<T>(method, path, {
      query: options.query,
      body: options.json === undefined ? undefined : jsonBody(options.json),
    });
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
    if (response.status === 204) return undefined as T;
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
