import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { ApiListen } from '../config.js';
import { fromTensor, toTensor, type Feeds, type JsonTensor } from '../inference/tensors.js';
import { NoModelError, type InferenceResult } from '../inference/slots.js';
import { hostAllowed, isJsonType } from './request-guard.js';
import { LockRequestError, type UpdateLock } from './update-lock.js';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** What the local API needs from the agent. `model` names a named model; absent: `default`. */
export interface LocalApiHandler {
  infer(feeds: Feeds, model?: string): Promise<InferenceResult & { latency_ms: number }>;
  reportQuality(map: number, model?: string): void;
  /** Whether the device serves a model of this name (`default` always). */
  hasModel(name: string): boolean;
  status(): unknown;
  updateLock: UpdateLock;
}

/** `/v1/models/{name}/infer` and `/v1/models/{name}/quality`. */
const NAMED_ROUTE = /^\/v1\/models\/([^/]+)\/(infer|quality)$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The application's side of the agent, on localhost or a Unix socket:
 *   POST /v1/infer    {"inputs": {"<name>": {"dims": [..], "data": [..], "type"?: "float32"}}}
 *                     -> {"outputs": {...}, "model": {...}, "slot": "blue", "latency_ms": 0.4}
 *   POST /v1/quality  {"map": 0.87}   mAP measured by the application (0..1), sent with telemetry
 *   POST /v1/models/{name}/infer, POST /v1/models/{name}/quality   the same for the named model
 *                     `name` (docs/protocol.md 6.6); 404 for a name the device does not serve
 *   GET  /v1/status   slots, active model, deployment phase, update lock, counters; `models`: the
 *                     named models' slots, deployment phase and counters
 *   PUT  /v1/update-lock {"reason": "recording", "ttl_s"?: 600}   take or refresh the update lock:
 *                     the agent defers swapping to a new model until it is released (or lapses,
 *                     or the deployment's max_deferral_s passes); rollbacks are never deferred
 *   DELETE /v1/update-lock   release it;  GET /v1/update-lock   {"held": bool, "lock": {...}|null}
 *   GET  /healthz     200 when a model serves (default or named), else 503
 * On TCP it answers only its own Host names (403 otherwise), and POST bodies only as
 * application/json (415 otherwise): see request-guard.ts.
 */
export class LocalApi {
  private server?: Server;
  private checkHost = false;
  private hosts: readonly string[] = [];

  constructor(private readonly handler: LocalApiHandler) {}

  /** `hosts`: names the API answers besides localhost and IP addresses (SENTINEL_API_HOSTS). */
  async listen(where: ApiListen, hosts: readonly string[] = []): Promise<string | null> {
    if (where.kind === 'off') return null;
    this.hosts = hosts;
    // A browser cannot reach a Unix socket, and socket clients send all sorts of Host values.
    this.checkHost = where.kind === 'tcp';
    const server = createServer((req, res) => void this.route(req, res));
    this.server = server;
    if (where.kind === 'unix') await rm(where.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (where.kind === 'unix') server.listen(where.path, resolve);
      else server.listen(where.port, where.host, resolve);
    });
    if (where.kind === 'unix') return `unix:${where.path}`;
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (this.checkHost && !hostAllowed(req.headers.host, this.hosts)) {
        req.resume();
        throw new HttpError(
          403,
          `Host ${JSON.stringify(req.headers.host)} is not this API's: use localhost or an IP address (or list the name in SENTINEL_API_HOSTS)`,
        );
      }
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      if (path === '/v1/infer') return await this.infer(req, res);
      if (path === '/v1/quality') return await this.quality(req, res);
      const named = NAMED_ROUTE.exec(path);
      if (named) {
        const model = this.modelOf(named[1]!, req);
        if (named[2] === 'infer') return await this.infer(req, res, model);
        return await this.quality(req, res, model);
      }
      if (path === '/v1/status') {
        requireMethod(req, 'GET');
        return send(res, 200, this.handler.status());
      }
      if (path === '/v1/update-lock') return await this.updateLock(req, res);
      if (path === '/healthz') {
        requireMethod(req, 'GET');
        const status = this.handler.status() as {
          active_slot: string | null;
          models?: Record<string, { active_slot: string | null }>;
        };
        // Serving: the default model, or any named one (a device may serve only named models).
        const ok =
          status.active_slot !== null ||
          Object.values(status.models ?? {}).some((model) => model.active_slot !== null);
        return send(res, ok ? 200 : 503, { ok });
      }
      throw new HttpError(404, `no route ${req.method} ${path}`);
    } catch (error) {
      if (error instanceof HttpError) return send(res, error.status, { error: error.message });
      send(res, 500, { error: (error as Error).message });
    }
  }

  /** The named model of a `/v1/models/{name}/...` path; 404 when the device serves none so named. */
  private modelOf(segment: string, req: IncomingMessage): string {
    let name: string;
    try {
      name = decodeURIComponent(segment);
    } catch {
      name = segment;
    }
    if (!this.handler.hasModel(name)) {
      req.resume();
      throw new HttpError(
        404,
        `this device serves no model named ${JSON.stringify(name)} (GET /v1/status lists its models)`,
      );
    }
    return name;
  }

  private async infer(req: IncomingMessage, res: ServerResponse, model?: string): Promise<void> {
    requireMethod(req, 'POST');
    const body = (await readJson(req)) as { inputs?: Record<string, JsonTensor> };
    if (!body || typeof body.inputs !== 'object' || body.inputs === null) {
      throw new HttpError(
        400,
        'body must be {"inputs": {"<name>": {"dims": [...], "data": [...]}}}',
      );
    }
    const feeds: Feeds = {};
    try {
      for (const [name, tensor] of Object.entries(body.inputs))
        feeds[name] = toTensor(name, tensor);
    } catch (error) {
      throw new HttpError(400, (error as Error).message);
    }
    const result = await this.handler.infer(feeds, model).catch((error: unknown) => {
      if (error instanceof NoModelError) throw new HttpError(503, error.message);
      throw new HttpError(422, `inference failed: ${(error as Error).message.split('\n')[0]}`);
    });
    const outputs: Record<string, JsonTensor> = {};
    for (const [name, tensor] of Object.entries(result.outputs)) outputs[name] = fromTensor(tensor);
    const { id, name, version, sha256 } = result.model;
    send(res, 200, {
      outputs,
      model: { id, name, version, sha256 },
      slot: result.slot,
      latency_ms: result.latency_ms,
    });
  }

  private async quality(req: IncomingMessage, res: ServerResponse, model?: string): Promise<void> {
    requireMethod(req, 'POST');
    const body = (await readJson(req)) as { map?: unknown };
    const map = body?.map;
    if (typeof map !== 'number' || !(map >= 0 && map <= 1)) {
      throw new HttpError(400, 'body must be {"map": <number between 0 and 1>}');
    }
    this.handler.reportQuality(map, model);
    send(res, 204);
  }

  private async updateLock(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const lock = this.handler.updateLock;
    if (req.method === 'GET') {
      const status = lock.status();
      return send(res, 200, { held: status !== null, lock: status });
    }
    if (req.method === 'PUT') {
      const body = await readJson(req);
      try {
        return send(res, 200, { held: true, lock: lock.take(body) });
      } catch (error) {
        if (error instanceof LockRequestError) throw new HttpError(400, error.message);
        throw error;
      }
    }
    if (req.method === 'DELETE') {
      req.resume();
      const released = lock.release();
      return send(res, 200, { held: false, released });
    }
    req.resume();
    throw new HttpError(405, 'use GET, PUT or DELETE');
  }
}

function requireMethod(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new HttpError(405, `use ${method}`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!isJsonType(req.headers['content-type'])) {
    req.resume();
    throw new HttpError(415, 'send the body as Content-Type: application/json');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      throw new HttpError(413, `body over ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    })
    .end(text);
}
