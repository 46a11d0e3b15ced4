import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
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

export interface FsArtifactStoreOptions {
  /** The hub passes DATA_DIR/artifacts. */
  root: string;
  /** A file in tmp/ not written for this long is a dead upload's (default 15 minutes). */
  staleTmpMs?: number;
}

/**
 * Far above HTTP_IDLE_TIMEOUT_S: an upload still running writes its file at least that often, so
 * an older file is a crashed hub's or a lost client's, even with two hubs on one folder.
 */
const DEFAULT_STALE_TMP_MS = 15 * 60_000;

/**
 * Artifacts as files `<root>/sha256/<first two hex>/<sha256>`. A put writes `<root>/tmp/<uuid>`,
 * fsyncs it, renames it into place (atomic on one filesystem) and fsyncs the target folder, so a
 * crash leaves either the whole artifact or at most a stray file in tmp/, never a torn one.
 */
export class FsArtifactStore implements ArtifactStore {
  readonly kind = 'fs' as const;
  private readonly root: string;
  private readonly tmpDir: string;
  private readonly objectsDir: string;
  private readonly staleTmpMs: number;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: FsArtifactStoreOptions) {
    this.root = options.root;
    this.staleTmpMs = options.staleTmpMs ?? DEFAULT_STALE_TMP_MS;
    this.tmpDir = join(options.root, 'tmp');
    this.objectsDir = join(options.root, 'sha256');
  }

  /** Where an artifact lives; the argument is validated first. */
  pathFor(sha256: string): string {
    const hex = assertSha256(sha256);
    return join(this.objectsDir, hex.slice(0, 2), hex);
  }

  /** Creates the folders and removes what crashed uploads left in tmp/, then does so periodically. */
  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.objectsDir, { recursive: true });
    await this.sweepTmp();
    this.sweeper ??= setInterval(
      () => void this.sweepTmp().catch(() => undefined),
      this.staleTmpMs,
    );
    this.sweeper.unref();
  }

  /** Removes files of tmp/ not modified for staleTmpMs; returns their names. */
  async sweepTmp(now = Date.now()): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await readdir(this.tmpDir)) {
      const path = join(this.tmpDir, name);
      try {
        if (now - (await stat(path)).mtimeMs < this.staleTmpMs) continue;
        await rm(path, { force: true, recursive: true });
        removed.push(name);
      } catch (err) {
        if (!isMissing(err)) throw err;
      }
    }
    return removed;
  }

  async put(source: Readable, opts: PutOptions = {}): Promise<StoredArtifact> {
    const metered = meterSource(source, opts.maxBytes);
    const tmpPath = join(this.tmpDir, randomUUID());
    let handle: FileHandle | undefined;
    try {
      handle = await open(tmpPath, 'wx', 0o644);
      for await (const chunk of metered.chunks as AsyncIterable<Buffer>) {
        await writeFully(handle, chunk);
      }
      await handle.sync();
      await handle.close();
      handle = undefined;

      const artifact = metered.result();
      const finalPath = this.pathFor(artifact.sha256);
      await mkdir(dirname(finalPath), { recursive: true });
      // Replaces an identical copy if one exists: still one copy, and a damaged one heals.
      await rename(tmpPath, finalPath);
      await syncDirectory(dirname(finalPath));
      return artifact;
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await rm(tmpPath, { force: true }).catch(() => undefined);
      throw err;
    } finally {
      metered.release();
    }
  }

  async stat(sha256: string): Promise<StoredArtifact | null> {
    const path = this.pathFor(sha256);
    try {
      const info = await stat(path);
      return { sha256, size: info.size };
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async read(sha256: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathFor(sha256);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (isMissing(err)) throw new ArtifactNotFoundError(sha256);
      throw err;
    }
    try {
      // Size from the open descriptor, so a concurrent delete cannot change what we serve.
      const { size } = await handle.stat();
      const resolved = resolveRange(range, size);
      return handle.createReadStream({ start: resolved?.start, end: resolved?.end });
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.pathFor(sha256), { force: true });
  }

  /**
   * Writes, syncs and removes a small file where puts write theirs: a full disk (ENOSPC, which a
   * permission check does not see) or a read-only one fails the probe as it would fail a push.
   */
  async check(): Promise<void> {
    await access(this.objectsDir, constants.R_OK | constants.W_OK);
    const probe = join(this.tmpDir, `.probe-${randomUUID()}`);
    let handle: FileHandle | undefined;
    try {
      handle = await open(probe, 'wx', 0o600);
      await writeFully(handle, PROBE_BYTES);
      await handle.sync();
    } finally {
      await handle?.close().catch(() => undefined);
      await rm(probe, { force: true }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

/** One page: on a full filesystem even the first block of a file cannot be allocated. */
const PROBE_BYTES = Buffer.alloc(4096);

async function writeFully(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/** Makes a rename durable: the new directory entry survives a power loss. */
async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
