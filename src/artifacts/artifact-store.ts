import { createHash } from 'node:crypto';
import { finished, Transform, type Readable } from 'node:stream';
import {
  ArtifactRangeError,
  ArtifactTooLargeError,
  InvalidArtifactIdError,
} from './artifact-errors.js';

export {
  ArtifactNotFoundError,
  ArtifactRangeError,
  ArtifactTooLargeError,
  InvalidArtifactIdError,
} from './artifact-errors.js';

export interface StoredArtifact {
  sha256: string;
  size: number;
}

/** Inclusive on both ends, like an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PutOptions {
  /** Reject with ArtifactTooLargeError as soon as more than this many bytes arrive. */
  maxBytes?: number;
}

/**
 * Content-addressed blob storage for model artifacts.
 *
 * `put` reads `source` once, hashing while it streams, and stores the bytes under their sha256.
 * It never destroys `source` itself: when it rejects because of the limit or the engine, the
 * source is left paused and unpiped so the caller can still answer (e.g. 413) before closing it.
 * Whatever the failure, no temporary file, object or multipart upload is left behind.
 */
export interface ArtifactStore {
  readonly kind: 'fs' | 's3';
  /** fs: creates the folders; s3: creates the bucket when missing. */
  init(): Promise<void>;
  put(source: Readable, opts?: PutOptions): Promise<StoredArtifact>;
  /** null when absent. */
  stat(sha256: string): Promise<StoredArtifact | null>;
  /**
   * Throws ArtifactNotFoundError when absent, ArtifactRangeError when `range.start` is past the
   * end; `range.end` past the end is clamped to the last byte (as HTTP does).
   */
  read(sha256: string, range?: ByteRange): Promise<Readable>;
  /** Idempotent: deleting an absent artifact succeeds. */
  delete(sha256: string): Promise<void>;
  /** Health probe: resolves when the engine can be used, throws otherwise. */
  check(): Promise<void>;
  close(): Promise<void>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

/** Returns the value when it is 64 lowercase hex characters, throws InvalidArtifactIdError otherwise. */
export function assertSha256(value: unknown): string {
  if (!isSha256(value)) throw new InvalidArtifactIdError(value);
  return value;
}

/**
 * Validates a requested range against the object size and clamps its end to the last byte.
 * Returns undefined when no range was asked for.
 */
export function resolveRange(range: ByteRange | undefined, size: number): ByteRange | undefined {
  if (range === undefined) return undefined;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new ArtifactRangeError(start, end, size);
  }
  if (start >= size) throw new ArtifactRangeError(start, end, size);
  return { start, end: Math.min(end, size - 1) };
}

export interface MeteredSource {
  /** The source's bytes as Buffers; errors with ArtifactTooLargeError or the source's error. */
  readonly chunks: Readable;
  /** Digest and byte count; only valid once `chunks` has ended. */
  result(): StoredArtifact;
  /** Detaches from the source without destroying it, and drops the meter. Safe to call twice. */
  release(): void;
}

/**
 * Pipes `source` through a Transform that counts bytes, enforces `maxBytes` and feeds sha256,
 * so engines hash the bytes exactly as they write them, in one pass with bounded buffers.
 * A source that errors or closes before its end (a client disconnect) errors `chunks`.
 */
export function meterSource(
  source: Readable,
  maxBytes: number = Number.POSITIVE_INFINITY,
): MeteredSource {
  if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be >= 0, got ${maxBytes}`);
  const hash = createHash('sha256');
  let size = 0;
  let sha256: string | undefined;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > maxBytes) {
        callback(new ArtifactTooLargeError(maxBytes));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      sha256 = hash.digest('hex');
      callback();
    },
  });
  // Errors surface through iterating `chunks`; until an engine starts iterating (it may still be
  // opening a file) an error must not count as unhandled.
  meter.on('error', () => undefined);
  // pipe() forwards neither errors nor a premature close; without this a disconnect would hang.
  const stopWatching = finished(source, { writable: false }, (err) => {
    if (err) meter.destroy(err);
  });
  source.pipe(meter);
  let released = false;
  return {
    chunks: meter,
    result() {
      if (sha256 === undefined) throw new Error('artifact stream has not ended');
      return { sha256, size };
    },
    release() {
      if (released) return;
      released = true;
      stopWatching();
      source.unpipe(meter);
      meter.destroy();
    },
  };
}
