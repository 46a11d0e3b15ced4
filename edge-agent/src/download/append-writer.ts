import type { FileHandle } from 'node:fs/promises';

// libuv splits larger vectors itself, but a bounded batch keeps each write a reasonable size.
const MAX_BATCH_BUFFERS = 512;

/**
 * Appends chunks to a file opened with O_APPEND, one write in flight at a time, while the caller
 * goes on receiving (and hashing) the next chunks: network, hashing and disk overlap.
 * Every chunk handed to `write` is written before `drained()` resolves, even after the source
 * failed, so the bytes the caller hashed are exactly the bytes in the file (what a resume needs).
 * A failed write (ENOSPC...) is kept and rethrown by `write` and `drained`.
 */
export class AppendWriter {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private pumping?: Promise<void>;
  private failure?: Error;

  constructor(private readonly file: FileHandle) {}

  /** Bytes accepted but not yet written. */
  get backlog(): number {
    return this.queuedBytes;
  }

  write(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    this.pumping ??= this.pump();
  }

  /** Resolves once everything accepted is in the file; rejects with the write error if one failed. */
  async drained(): Promise<void> {
    while (this.pumping) await this.pumping;
    if (this.failure) throw this.failure;
  }

  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH_BUFFERS);
        const bytes = batch.reduce((sum, b) => sum + b.length, 0);
        await writeFully(this.file, batch, bytes);
        this.queuedBytes -= bytes;
      }
    } catch (error) {
      this.failure = error as Error;
      this.queue = [];
      this.queuedBytes = 0;
    } finally {
      this.pumping = undefined;
    }
  }
}

async function writeFully(file: FileHandle, buffers: Buffer[], bytes: number): Promise<void> {
  let pending = buffers;
  let left = bytes;
  while (left > 0) {
    const { bytesWritten } = await file.writev(pending);
    left -= bytesWritten;
    if (left > 0) pending = skip(pending, bytesWritten);
  }
}

/** The buffers after the first `count` bytes (a short write). */
function skip(buffers: Buffer[], count: number): Buffer[] {
  const rest: Buffer[] = [];
  let skipped = count;
  for (const buffer of buffers) {
    if (skipped >= buffer.length) {
      skipped -= buffer.length;
      continue;
    }
    rest.push(skipped > 0 ? buffer.subarray(skipped) : buffer);
    skipped = 0;
  }
  return rest;
}
