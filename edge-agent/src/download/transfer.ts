import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, statfs, unlink, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { ModelRef } from '@sentinel/broker/protocol';
import type { SignatureCheck } from '@sentinel/broker/signing';
import pRetry, { AbortError } from 'p-retry';
import { AgentError, isDiskFull } from '../errors.js';
import { AppendWriter } from './append-writer.js';
import { credentialFor, credentialHeader, refusedDownload } from './credentials.js';
import { fullJitterDelay, parseRetryAfter, sleep } from './backoff.js';
import type { DownloadProgress, ModelCacheOptions } from './downloader.js';
import { httpGet, isTransientNetworkError, parseContentRange, strongEtag } from './http-get.js';
import { ProgressThrottle } from './progress.js';
import {
  beginCheck,
  finishCheck,
  VerifiedSignatures,
  type SignaturePlan,
} from './signature-plan.js';

/** Received but unwritten bytes above which reading waits for the disk (bounds memory). */
const WRITE_BACKLOG_BYTES = 8 * 1024 * 1024;
/** An attempt that added this much to the .part does not use up a retry (a flaky but working link). */
const PROGRESS_FOR_FREE_RETRY = 1024 * 1024;
/** A failure worth retrying: network errors, stalls, 408, 429, 5xx. */
class TransientError extends Error {
  /** Whether the failed attempt still moved the download forward (see PROGRESS_FOR_FREE_RETRY). */
  progressed = false;
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransientError';
  }
}

export interface TransferFiles {
  part: string;
  final: string;
  signatures: string;
  dir: string;
}

/**
 * One download of one sha256 into `<sha256>.part`, then `<sha256>.onnx`: every byte is hashed
 * (sha256, and the message signature when there is one) as it arrives, in the order it is written,
 * so a resume (Range after a cut, or a .part left by an earlier process) continues the same running
 * hash. Several fetches of the same sha256 share one Transfer (see ModelCache); it is aborted only
 * when every one of them has given up.
 */
export class Transfer {
  /** Settles when the transfer has finished and closed its file, successfully or not. */
  readonly done: Promise<void>;
  /** Whether any HTTP request was sent (a complete .part may need none). */
  requested = false;

  private readonly controller = new AbortController();
  private participants = 0;
  private settled = false;
  private readonly progressListeners = new Set<(progress: DownloadProgress) => void>();
  private readonly verifyingListeners = new Set<() => void>();
  private readonly progress: ProgressThrottle;
  private readonly label: string;
  private readonly url: URL | undefined;

  // Running state: `have` bytes are in the .part (or queued for it) and in `hash`/`check`.
  private have = 0;
  private hash: Hash = createHash('sha256');
  private check?: SignatureCheck;
  /** The strong ETag of the last response (undefined before any, null if it had none). */
  private etag?: string | null;
  private writer?: AppendWriter;

  constructor(
    readonly model: ModelRef,
    readonly sha256: string,
    readonly plan: SignaturePlan,
    private readonly files: TransferFiles,
    private readonly options: ModelCacheOptions,
    private readonly onFirstRequest: () => void,
  ) {
    this.label = `${model.name} ${model.version}`;
    this.progress = new ProgressThrottle(model.size, (p) => {
      for (const listener of this.progressListeners) listener(p);
    });
    try {
      this.url = new URL(model.url);
    } catch {
      this.url = undefined;
    }
    this.done = this.run().finally(() => {
      this.settled = true;
    });
    // Participants see the outcome through join(); this keeps an unjoined failure from crashing.
    this.done.catch(() => undefined);
  }

  /**
   * Whether this transfer fetches what `model` would, the way it would: same URL, size and bundle,
   * same credential and trusted keys (another ModelCache over the same folder may differ).
   */
  sameRequestAs(model: ModelRef, plan: SignaturePlan, options: ModelCacheOptions): boolean {
    const hints = (o: ModelCacheOptions) => o.trustedKeys.map((k) => k.hint).join(' ');
    return (
      model.url === this.model.url &&
      model.size === this.model.size &&
      bundleKey(plan) === bundleKey(this.plan) &&
      credentialFor(this.url, options) === credentialFor(this.url, this.options) &&
      hints(options) === hints(this.options)
    );
  }

  /** Whether every participant gave up: it is winding down and will not complete. */
  get abandoned(): boolean {
    return this.controller.signal.aborted;
  }

  /** Waits for the transfer as one of its participants; rejects at once when `signal` aborts. */
  join(hooks: {
    onDownloading?(progress: DownloadProgress): void;
    onVerifying?(): void;
    signal?: AbortSignal;
  }): Promise<void> {
    const { signal } = hooks;
    const onProgress = hooks.onDownloading?.bind(hooks);
    const onVerifying = hooks.onVerifying?.bind(hooks);
    if (onProgress) this.progressListeners.add(onProgress);
    if (onVerifying) this.verifyingListeners.add(onVerifying);
    this.participants++;
    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        signal?.removeEventListener('abort', onAbort);
        if (onProgress) this.progressListeners.delete(onProgress);
        if (onVerifying) this.verifyingListeners.delete(onVerifying);
        this.participants--;
      };
      const onAbort = () => {
        leave();
        if (this.participants === 0 && !this.settled) this.controller.abort(signal!.reason);
        reject(signal!.reason as Error);
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.done.then(
        () => {
          leave();
          resolve();
        },
        (error: unknown) => {
          leave();
          reject(error as Error);
        },
      );
    });
  }

  private get signal(): AbortSignal {
    return this.controller.signal;
  }

  private async run(): Promise<void> {
    if (!this.url || !['http:', 'https:'].includes(this.url.protocol)) {
      throw new AgentError(
        'download_failed',
        `model ${this.label}: unsupported URL ${this.model.url}`,
      );
    }
    let file: FileHandle;
    try {
      await mkdir(this.files.dir, { recursive: true });
      file = await open(this.files.part, 'a');
    } catch (error) {
      throw fileError(error, this.files.part);
    }
    let open_ = true;
    try {
      this.writer = new AppendWriter(file);
      this.have = (await file.stat()).size;
      this.resetState();
      let assembled = false;
      if (this.have > this.model.size) await this.restart(file);
      if (this.have > 0) {
        await this.hashPrefix(this.have);
        assembled = true;
      }
      let retriedWhole = false;
      let computed: string;
      for (;;) {
        if (this.have < this.model.size) {
          await this.ensureSpace(this.model.size - this.have);
          assembled = (await this.download(file)) || assembled;
        }
        computed = this.hash.digest('hex');
        if (this.have === this.model.size && computed === this.sha256) break;
        // Bytes from an earlier process (not durable until its fsync) or from several responses
        // may be at fault rather than the server: one clean download from zero decides.
        if (assembled && !retriedWhole) {
          retriedWhole = true;
          assembled = false;
          await this.restart(file);
          continue;
        }
        throw new AgentError(
          'hash_mismatch',
          this.have === this.model.size
            ? `model ${this.label}: sha256 ${computed} does not match ${this.sha256}`
            : `model ${this.label}: got ${this.have} bytes, expected ${this.model.size}`,
        );
      }
      for (const listener of this.verifyingListeners) listener();
      const keyHint = this.check ? finishCheck(this.check, computed, this.label) : undefined;
      try {
        await file.sync();
        open_ = false;
        await file.close();
        await rename(this.files.part, this.files.final);
        await syncDir(this.files.dir);
      } catch (error) {
        throw fileError(error, this.files.part);
      }
      if (this.plan.kind === 'message' && keyHint) {
        // Best effort: without the record, the next fetch verifies by reading the file once.
        await new VerifiedSignatures(this.files.signatures)
          .add(this.plan.bundleDigest, keyHint)
          .catch(() => undefined);
      }
    } catch (error) {
      if (open_) {
        open_ = false;
        await closeQuietly(file, this.writer);
      }
      const useless = error instanceof AgentError && error.reason !== 'download_failed';
      // A wrong or unverifiable file is useless to resume, a full disk must not stay full, and an
      // empty .part (hub unreachable) is just litter. Anything else stays for a resume.
      if (useless || this.have === 0) await unlink(this.files.part).catch(() => undefined);
      if (error instanceof AgentError || this.signal.aborted) throw error;
      // e.g. reading back the .part of an earlier process failed
      throw new AgentError('download_failed', `model ${this.label}: ${describe(error)}`, {
        cause: error,
      });
    } finally {
      if (open_) await closeQuietly(file, this.writer);
    }
  }

  /** Retries attempts with p-retry; resolves true if some response resumed the .part (206). */
  private async download(file: FileHandle): Promise<boolean> {
    let resumed = false;
    const { retries, minBackoffMs, maxBackoffMs } = this.options;
    try {
      await pRetry(
        async () => {
          const before = this.have;
          try {
            resumed = (await this.attempt(file)) || resumed;
          } catch (error) {
            if (this.signal.aborted) throw new AbortError(this.signal.reason as Error);
            if (error instanceof TransientError) {
              error.progressed = this.have - before >= PROGRESS_FOR_FREE_RETRY;
              throw error;
            }
            throw new AbortError(
              error instanceof AgentError
                ? error
                : new AgentError('download_failed', `model ${this.label}: ${describe(error)}`, {
                    cause: error,
                  }),
            );
          }
        },
        {
          retries,
          // p-retry's own delay is off (0): it randomises by x1..2, not full jitter, so the
          // delay is ours, taken in shouldRetry (which runs only when a retry will happen).
          minTimeout: 0,
          signal: this.signal,
          shouldConsumeRetry: ({ error }) => !(error as TransientError).progressed,
          shouldRetry: async ({ error, retriesConsumed }) => {
            const jitter = fullJitterDelay(retriesConsumed, minBackoffMs, maxBackoffMs);
            const retryAfter = (error as TransientError).retryAfterMs ?? 0;
            await sleep(Math.max(jitter, Math.min(retryAfter, maxBackoffMs)), this.signal);
            return true;
          },
        },
      );
    } catch (error) {
      if (this.signal.aborted) throw this.signal.reason as Error;
      if (error instanceof TransientError) {
        throw new AgentError(
          'download_failed',
          `model ${this.label}: download failed after ${retries + 1} attempt(s): ${error.message}`,
          { cause: error },
        );
      }
      throw error;
    }
    return resumed;
  }

  /** One HTTP request; resolves true if it continued the .part (206). */
  private async attempt(file: FileHandle): Promise<boolean> {
    const from = this.have;
    // The device credential goes only to a configured origin (credentials.ts).
    const headers = credentialHeader(this.url, this.options, { 'accept-encoding': 'identity' });
    if (from > 0) {
      headers.range = `bytes=${from}-`;
      // A .part from an earlier process: the hub's ETag is the quoted sha256 of the content.
      const validator = this.etag === undefined ? `"${this.sha256}"` : this.etag;
      if (validator) headers['if-range'] = validator;
    }
    if (!this.requested) {
      this.requested = true;
      this.onFirstRequest();
    }
    let response: IncomingMessage;
    try {
      response = await httpGet(this.url!, { ...this.options, headers, signal: this.signal });
    } catch (error) {
      throw this.networkError(error, 'request');
    }
    try {
      const resumed = await this.accept(response, file, from);
      this.etag = strongEtag(response.headers.etag) ?? null;
      await this.receive(response);
      return resumed;
    } finally {
      if (!response.complete) response.destroy();
    }
  }

  /** Checks the status and headers; resolves true for a 206 that continues the .part. */
  private async accept(
    response: IncomingMessage,
    file: FileHandle,
    from: number,
  ): Promise<boolean> {
    const status = response.statusCode ?? 0;
    const size = this.model.size;
    if (status === 200) {
      const length = response.headers['content-length'];
      if (length !== undefined && Number(length) !== size) throw this.sizeMismatch(Number(length));
      // The server ignored the Range (or If-Range did not match): start again from the first byte.
      if (from > 0) await this.restart(file);
      return false;
    }
    if (status === 206 && from > 0) {
      const range = parseContentRange(response.headers['content-range']);
      if (range?.complete !== undefined && range.complete !== size) {
        throw this.sizeMismatch(range.complete);
      }
      if (range?.start !== from) {
        await this.restart(file);
        throw new TransientError(
          `asked for bytes from ${from}, got Content-Range ${response.headers['content-range']}`,
        );
      }
      return true;
    }
    if (status === 416) {
      const range = parseContentRange(response.headers['content-range']);
      if (range?.complete !== undefined && range.complete !== size) {
        throw this.sizeMismatch(range.complete);
      }
      await this.restart(file);
      throw new TransientError(`HTTP 416 for bytes from ${from}`);
    }
    if (status === 408 || status === 429 || status >= 500) {
      throw new TransientError(
        `HTTP ${status} from ${this.url!.host}`,
        parseRetryAfter(response.headers['retry-after']),
      );
    }
    throw new AgentError(
      'download_failed',
      refusedDownload(this.label, status, this.url!, this.options),
    );
  }

  /** Streams the body: hash, signature check and .part, in one pass. */
  private async receive(response: IncomingMessage): Promise<void> {
    const writer = this.writer!;
    const size = this.model.size;
    let failure: unknown;
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        if (this.have + chunk.length > size) throw this.sizeMismatch(`more than ${size}`);
        this.hash.update(chunk);
        this.check?.update(chunk);
        this.have += chunk.length;
        writer.write(chunk);
        this.progress.report(this.have);
        if (writer.backlog > WRITE_BACKLOG_BYTES) await writer.drained();
      }
    } catch (error) {
      failure = error;
    }
    // Whatever was hashed reaches the file before anything else happens (a resume relies on it).
    try {
      await writer.drained();
    } catch (error) {
      throw fileError(error, this.files.part);
    }
    if (failure !== undefined) {
      if (failure instanceof AgentError) throw failure;
      throw this.networkError(failure, 'response');
    }
    if (this.have < size) {
      // The response ended cleanly (a cut one fails above): the server's file is shorter.
      throw this.sizeMismatch(this.have);
    }
  }

  /** Hashes a .part left by an earlier process (the one read of it), feeding the signature check. */
  private async hashPrefix(length: number): Promise<void> {
    let read = 0;
    const stream = createReadStream(this.files.part, {
      start: 0,
      end: length - 1,
      highWaterMark: 1024 * 1024,
      signal: this.signal,
    });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      this.hash.update(chunk);
      this.check?.update(chunk);
      read += chunk.length;
    }
    if (read !== length) throw new Error(`read ${read} of ${length} bytes of ${this.files.part}`);
    this.progress.report(this.have);
  }

  /** Empties the .part and starts the running hash and signature check over. */
  private async restart(file: FileHandle): Promise<void> {
    try {
      await this.writer!.drained();
      await file.truncate(0);
    } catch (error) {
      throw fileError(error, this.files.part);
    }
    this.have = 0;
    this.resetState();
  }

  private resetState(): void {
    this.hash = createHash('sha256');
    this.check =
      this.plan.kind === 'message'
        ? beginCheck(this.plan.bundleJson, this.model, this.sha256, this.options.trustedKeys)
        : undefined;
  }

  /** Refuses at once when the file system has less room than the rest of the model needs. */
  private async ensureSpace(needed: number): Promise<void> {
    let free: number;
    try {
      const stats = await statfs(this.files.dir);
      free = stats.bavail * stats.bsize;
    } catch {
      return; // no statfs here: the writes will tell
    }
    if (free < needed) {
      throw new AgentError(
        'disk_full',
        `model ${this.label}: needs ${needed} more bytes, ${free} free in ${this.files.dir}`,
      );
    }
  }

  private sizeMismatch(got: number | string): AgentError {
    return new AgentError(
      'hash_mismatch',
      `model ${this.label}: server has ${got} bytes, expected ${this.model.size}`,
    );
  }

  private networkError(error: unknown, during: string): Error {
    if (this.signal.aborted) return this.signal.reason as Error;
    if (isTransientNetworkError(error)) {
      return new TransientError(
        `${during} to ${this.url!.host} failed: ${describe(error)}`,
        undefined,
        {
          cause: error,
        },
      );
    }
    return new AgentError('download_failed', `model ${this.label}: ${describe(error)}`, {
      cause: error,
    });
  }
}

function bundleKey(plan: SignaturePlan): string {
  return plan.kind === 'message' ? plan.bundleDigest : plan.kind;
}

function fileError(error: unknown, path: string): AgentError {
  const code = (error as NodeJS.ErrnoException).code;
  if (isDiskFull(error)) {
    return new AgentError('disk_full', `no space left writing ${path} (${code})`, { cause: error });
  }
  return new AgentError('download_failed', `cannot write ${path}: ${describe(error)}`, {
    cause: error,
  });
}

function describe(error: unknown): string {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  const text = message || String(error);
  return code && !text.includes(code) ? `${text} (${code})` : text;
}

async function closeQuietly(file: FileHandle, writer?: AppendWriter): Promise<void> {
  await writer?.drained().catch(() => undefined);
  // Durable, so that a resume after a power cut does not hash a tail of zeros.
  await file.sync().catch(() => undefined);
  await file.close().catch(() => undefined);
}

/** fsync of the folder, so that the rename survives a power cut. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
