import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { Client, CopyDestinationOptions, CopySourceOptions, S3Error } from 'minio';
import { ArtifactNotFoundError } from './artifact-errors.js';
import {
  assertSha256,
  meterSource,
  resolveRange,
  type ArtifactStore,
  type ByteRange,
  type PutOptions,
  type StoredArtifact,
} from './artifact-store.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** S3's limits: parts of 5 MiB..5 GiB (the last may be smaller), at most 10,000 parts. */
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * GiB;
const MAX_PARTS = 10_000;
/** CopyObject refuses sources above 5 GiB; larger objects are copied part by part. */
const MAX_COPY_OBJECT_BYTES = 5 * GiB;
const COPY_PART_BYTES = 512 * MiB;
const DEFAULT_PART_SIZE = 16 * MiB;
const DEFAULT_CHECK_TIMEOUT_MS = 5_000;
/** A fresh object per call: the client writes request headers (content-length) into it. */
const contentType = () => ({ 'Content-Type': 'application/octet-stream' });

export interface S3ArtifactStoreOptions {
  /** Origin of the S3 API, e.g. http://127.0.0.1:9000 (path-style addressing is used). */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  /** When omitted the client asks the server for the bucket's region (one request, cached). */
  region?: string;
  /** Bytes buffered and sent per multipart part; memory per put stays near this. Default 16 MiB. */
  partSize?: number;
  /** check() gives up after this long. Default 5000 ms. */
  checkTimeoutMs?: number;
}

interface MultipartUpload {
  key: string;
  uploadId: string;
  parts: { part: number; etag: string }[];
}

/**
 * Artifacts as objects `sha256/<sha256>` in one bucket.
 *
 * A put buffers at most one part. When the whole artifact fits in one part its hash is known
 * before anything is sent, so it goes straight to its final key in one PUT (atomic in S3).
 * Otherwise parts stream to a multipart upload at `tmp/<uuid>`; on success the object is copied
 * server-side to its final key and the temporary object removed; on any failure the upload is
 * aborted. Only the explicit multipart calls are used, never the client's own putObject
 * multipart path, which needs ListMultipartUploads.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly kind = 's3' as const;
  readonly bucket: string;
  readonly partSize: number;
  private readonly region: string | undefined;
  private readonly checkTimeoutMs: number;
  private readonly agent: http.Agent;
  private readonly client: Client;

  constructor(options: S3ArtifactStoreOptions) {
    const url = new URL(options.endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`S3 endpoint must be http(s), got ${options.endpoint}`);
    }
    if (url.pathname !== '/' || url.search !== '' || url.username !== '') {
      throw new Error(`S3 endpoint must be a bare origin like http://host:9000`);
    }
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    if (
      !Number.isSafeInteger(this.partSize) ||
      this.partSize < MIN_PART_SIZE ||
      this.partSize > MAX_PART_SIZE
    ) {
      throw new RangeError(`partSize must be between 5 MiB and 5 GiB, got ${this.partSize}`);
    }
    this.bucket = options.bucket;
    this.region = options.region;
    this.checkTimeoutMs = options.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
    const useSSL = url.protocol === 'https:';
    // Our own agent, so close() can drop the keep-alive sockets.
    this.agent = useSSL
      ? new https.Agent({ keepAlive: true })
      : new http.Agent({ keepAlive: true });
    this.client = new Client({
      endPoint: url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      region: options.region,
      pathStyle: true,
      transportAgent: this.agent,
      // putObject sends a buffer up to the client's part size in one PUT; above it, it takes its
      // multipart path (ListMultipartUploads first). Ours never exceed one part.
      partSize: this.partSize,
    });
  }

  /** The object key of an artifact; the argument is validated first. */
  keyFor(sha256: string): string {
    return `sha256/${assertSha256(sha256)}`;
  }

  async init(): Promise<void> {
    if (await this.client.bucketExists(this.bucket)) return;
    try {
      await this.client.makeBucket(this.bucket, this.region ?? 'us-east-1');
    } catch (err) {
      // Another instance created it between our two calls.
      if (!(err instanceof S3Error && err.code === 'BucketAlreadyOwnedByYou')) throw err;
    }
  }

  async put(source: Readable, opts: PutOptions = {}): Promise<StoredArtifact> {
    const metered = meterSource(source, opts.maxBytes);
    const part = Buffer.allocUnsafe(this.partSize);
    let filled = 0;
    let upload: MultipartUpload | undefined;
    let completed = false;
    try {
      for await (const chunk of metered.chunks as AsyncIterable<Buffer>) {
        let offset = 0;
        while (offset < chunk.length) {
          // Flush a full part only once more bytes arrive, so an artifact of exactly one part
          // still takes the single-PUT path.
          if (filled === this.partSize) {
            upload ??= await this.startUpload();
            await this.sendPart(upload, part);
            filled = 0;
          }
          const copied = chunk.copy(part, filled, offset);
          filled += copied;
          offset += copied;
        }
      }
      const artifact = metered.result();
      const finalKey = this.keyFor(artifact.sha256);

      if (upload === undefined) {
        if (!(await this.exists(finalKey))) {
          await this.client.putObject(
            this.bucket,
            finalKey,
            part.subarray(0, filled),
            filled,
            contentType(),
          );
        }
        return artifact;
      }

      await this.sendPart(upload, part.subarray(0, filled));
      await this.client.completeMultipartUpload(
        this.bucket,
        upload.key,
        upload.uploadId,
        upload.parts,
      );
      completed = true;
      if (!(await this.exists(finalKey))) await this.copy(upload.key, finalKey, artifact.size);
      await this.client.removeObject(this.bucket, upload.key);
      return artifact;
    } catch (err) {
      if (upload !== undefined) {
        await (
          completed
            ? this.client.removeObject(this.bucket, upload.key)
            : this.client.abortMultipartUpload(this.bucket, upload.key, upload.uploadId)
        ).catch(() => undefined);
      }
      throw err;
    } finally {
      metered.release();
    }
  }

  async stat(sha256: string): Promise<StoredArtifact | null> {
    const key = this.keyFor(sha256);
    try {
      const info = await this.client.statObject(this.bucket, key);
      return { sha256, size: info.size };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async read(sha256: string, range?: ByteRange): Promise<Readable> {
    const found = await this.stat(sha256);
    if (found === null) throw new ArtifactNotFoundError(sha256);
    const resolved = resolveRange(range, found.size);
    const key = this.keyFor(sha256);
    try {
      if (resolved === undefined) return await this.client.getObject(this.bucket, key);
      const length = resolved.end - resolved.start + 1;
      const body = await this.client.getPartialObject(this.bucket, key, resolved.start, length);
      return exactRange(body, resolved.start, length);
    } catch (err) {
      if (isNotFound(err)) throw new ArtifactNotFoundError(sha256);
      throw err;
    }
  }

  async delete(sha256: string): Promise<void> {
    await this.client.removeObject(this.bucket, this.keyFor(sha256));
  }

  async check(): Promise<void> {
    const exists = await withTimeout(
      this.client.bucketExists(this.bucket),
      this.checkTimeoutMs,
      `S3 did not answer within ${this.checkTimeoutMs} ms`,
    );
    if (!exists) throw new Error(`S3 bucket ${this.bucket} does not exist`);
  }

  /** A GET URL for the whole artifact (Range headers are honoured), valid for `ttlSeconds`. */
  async presignedGetUrl(sha256: string, ttlSeconds: number): Promise<string> {
    const key = this.keyFor(sha256);
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 604_800) {
      throw new RangeError(`ttlSeconds must be 1..604800 (7 days), got ${ttlSeconds}`);
    }
    return this.client.presignedGetObject(this.bucket, key, ttlSeconds);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  private async startUpload(): Promise<MultipartUpload> {
    const key = `tmp/${randomUUID()}`;
    const uploadId = await this.client.initiateNewMultipartUpload(this.bucket, key, contentType());
    return { key, uploadId, parts: [] };
  }

  private async sendPart(upload: MultipartUpload, payload: Buffer): Promise<void> {
    const partNumber = upload.parts.length + 1;
    if (partNumber > MAX_PARTS) {
      throw new Error(`artifact needs more than ${MAX_PARTS} parts of ${this.partSize} bytes`);
    }
    // The client resolves only after the server answered, i.e. after it read the whole body,
    // so the caller may refill `payload` afterwards.
    const { etag } = await this.client.uploadPart(
      {
        bucketName: this.bucket,
        objectName: upload.key,
        uploadID: upload.uploadId,
        partNumber,
        headers: {},
      },
      payload,
    );
    upload.parts.push({ part: partNumber, etag });
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.statObject(this.bucket, key);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async copy(sourceKey: string, targetKey: string, size: number): Promise<void> {
    if (size <= MAX_COPY_OBJECT_BYTES) {
      await this.client.copyObject(
        new CopySourceOptions({ Bucket: this.bucket, Object: sourceKey }),
        new CopyDestinationOptions({ Bucket: this.bucket, Object: targetKey }),
      );
      return;
    }
    await this.copyInParts(sourceKey, targetKey, size);
  }

  /** UploadPartCopy for sources above 5 GiB. s3rver does not implement it (untested there). */
  private async copyInParts(sourceKey: string, targetKey: string, size: number): Promise<void> {
    const step = Math.max(COPY_PART_BYTES, Math.ceil(size / MAX_PARTS));
    const uploadId = await this.client.initiateNewMultipartUpload(
      this.bucket,
      targetKey,
      contentType(),
    );
    try {
      const parts: MultipartUpload['parts'] = [];
      for (let start = 0, part = 1; start < size; start += step, part++) {
        const end = Math.min(start + step, size) - 1;
        const { etag } = await this.client.uploadPart({
          bucketName: this.bucket,
          objectName: targetKey,
          uploadID: uploadId,
          partNumber: part,
          headers: {
            'x-amz-copy-source': `${this.bucket}/${sourceKey}`,
            'x-amz-copy-source-range': `bytes=${start}-${end}`,
          },
        });
        parts.push({ part, etag });
      }
      await this.client.completeMultipartUpload(this.bucket, targetKey, uploadId, parts);
    } catch (err) {
      await this.client
        .abortMultipartUpload(this.bucket, targetKey, uploadId)
        .catch(() => undefined);
      throw err;
    }
  }
}

/**
 * Returns exactly `length` bytes of a ranged GET. A server or proxy that ignores the Range header
 * (200 with the whole object) or over-delivers (s3rver answers `bytes=0-0` with everything) would
 * otherwise hand a resuming client the wrong bytes; a body starting elsewhere is refused.
 */
function exactRange(body: Readable, start: number, length: number): Readable {
  const response = body as Partial<IncomingMessage>;
  const contentRange = response.headers?.['content-range'];
  const servedStart =
    typeof contentRange === 'string'
      ? Number(/^bytes (\d+)-/.exec(contentRange)?.[1] ?? NaN)
      : response.statusCode === 200
        ? 0
        : start;
  if (servedStart !== start) {
    body.destroy();
    throw new Error(`S3 served bytes from ${servedStart} for a range starting at ${start}`);
  }
  return Readable.from(take(body, length), { objectMode: false });
}

async function* take(body: Readable, length: number): AsyncGenerator<Buffer> {
  let remaining = length;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    // Surplus bytes: leaving the loop destroys `body`. An exact body ends on its own instead,
    // which keeps the connection reusable.
    if (remaining === 0) return;
    const piece = chunk.length > remaining ? chunk.subarray(0, remaining) : chunk;
    remaining -= piece.length;
    yield piece;
  }
  if (remaining > 0) throw new Error(`S3 ended a ranged read ${remaining} bytes short`);
}

function isNotFound(err: unknown): boolean {
  return err instanceof S3Error && (err.code === 'NotFound' || err.code === 'NoSuchKey');
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
