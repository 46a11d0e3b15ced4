// Test helper (used by the download specs): a real HTTP server on 127.0.0.1 that serves artifacts
// like the hub's GET /api/v1/models/:id/artifact (ETag = quoted sha256, single Range, If-Range),
// with knobs to misbehave: fail with a status, cut the connection, ignore Range, hold the body.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  status: number;
  /** Body bytes the server wrote for this request. */
  bytesSent: number;
}

export interface ArtifactBehaviour {
  /** Statuses to answer, one per request, before serving normally (e.g. [500, 500]). */
  failWith?: number[];
  /** Per request, cut the connection after this many body bytes (undefined: serve it all). */
  cutAfter?: (number | undefined)[];
  /** Serve 200 with the whole body even when asked for a range. */
  ignoreRange?: boolean;
  /** The ETag header; null sends none. Default: the quoted sha256, as the hub does. */
  etag?: string | null;
  /** Send no Content-Length (chunked body). */
  chunked?: boolean;
  /** After this many body bytes, wait for `release()` (or for the client to go away). */
  holdAfter?: number;
  /** Extra headers for failure answers (e.g. Retry-After). */
  failureHeaders?: Record<string, string>;
}

interface Artifact {
  body: Buffer;
  behaviour: ArtifactBehaviour;
  served: number;
}

const CHUNK = 64 * 1024;

export class ArtifactServer {
  readonly requests: ServedRequest[] = [];
  private readonly artifacts = new Map<string, Artifact>();
  private readonly server: Server;
  private releaseHeld: (() => void)[] = [];
  private released = false;
  private port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch(() => res.destroy());
    });
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Serves `body` at `path`; returns its absolute URL. */
  serve(path: string, body: Buffer, behaviour: ArtifactBehaviour = {}): string {
    this.artifacts.set(path, { body, behaviour, served: 0 });
    return this.url(path);
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Body bytes served in total (all requests). */
  get bytesSent(): number {
    return this.requests.reduce((sum, r) => sum + r.bytesSent, 0);
  }

  /** Lets held responses (holdAfter) go on, and later ones pass without holding. */
  release(): void {
    this.released = true;
    const waiting = this.releaseHeld;
    this.releaseHeld = [];
    for (const resume of waiting) resume();
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const record: ServedRequest = { path, headers: req.headers, status: 0, bytesSent: 0 };
    this.requests.push(record);
    const artifact = this.artifacts.get(path);
    if (!artifact) {
      record.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    const index = artifact.served++;
    const { body, behaviour } = artifact;
    const failure = behaviour.failWith?.[index];
    if (failure !== undefined) {
      record.status = failure;
      res.writeHead(failure, behaviour.failureHeaders).end(`failure ${failure}`);
      return;
    }
    const etag =
      behaviour.etag === undefined
        ? `"${createHash('sha256').update(body).digest('hex')}"`
        : behaviour.etag;
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (range && !behaviour.ignoreRange && (!ifRange || ifRange === etag)) {
      start = Number(range[1]);
      if (start >= body.length) {
        record.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      status = 206;
    }
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
    };
    if (etag) headers.etag = etag;
    if (!behaviour.chunked) headers['content-length'] = String(body.length - start);
    if (status === 206)
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    record.status = status;
    res.writeHead(status, headers);

    const cut = behaviour.cutAfter?.[index];
    let offset = start;
    let sent = 0;
    while (offset < body.length) {
      const holdAt = this.released ? undefined : behaviour.holdAfter;
      if (holdAt !== undefined && sent === holdAt) {
        await firstOf(res, ['close'], (resume) => this.releaseHeld.push(resume));
        if (res.destroyed) return;
      }
      let end = Math.min(offset + CHUNK, body.length);
      if (cut !== undefined) end = Math.min(end, start + cut);
      if (holdAt !== undefined && sent < holdAt) end = Math.min(end, start + holdAt);
      const piece = body.subarray(offset, end);
      const flushed = new Promise<void>((resolve) => res.write(piece, () => resolve()));
      record.bytesSent += piece.length;
      sent += piece.length;
      offset = end;
      if (cut !== undefined && sent >= cut) {
        await flushed;
        res.socket?.destroy();
        return;
      }
      if (res.writableNeedDrain) await firstOf(res, ['drain', 'close']);
      if (res.destroyed) return;
    }
    res.end();
  }
}

/** Resolves on the first of `events` on `res`, or when `register` calls back; no listener is left. */
function firstOf(
  res: ServerResponse,
  events: string[],
  register?: (resume: () => void) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const resume = () => {
      for (const event of events) res.off(event, resume);
      resolve();
    };
    for (const event of events) res.once(event, resume);
    register?.(resume);
  });
}
