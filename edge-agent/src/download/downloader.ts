import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ModelRef } from '@sentinel/broker/protocol';
import type { TrustedKey } from '@sentinel/broker/signing';
import { AgentError } from '../errors.js';
import type { ClientTls } from '../tls.js';
import {
  beginCheck,
  finishCheck,
  planSignature,
  VerifiedSignatures,
  type SignaturePlan,
} from './signature-plan.js';
import { Transfer, type TransferFiles } from './transfer.js';

export interface DownloadProgress {
  bytes: number;
  total: number;
}

export interface ModelCacheOptions {
  /** Folder of verified models, `<sha256>.onnx`, and partial downloads, `<sha256>.part`. */
  dir: string;
  /** Value of the Authorization header for artifact downloads (HTTP Basic with the device credential). */
  authorization?: string;
  /**
   * Origins (`scheme://host:port`) that receive `authorization`; a URL of any other origin is
   * fetched without it (see credentials.ts). None when absent.
   */
  credentialOrigins?: readonly string[];
  trustedKeys: TrustedKey[];
  /**
   * Refuse models without a signature that verifies against trustedKeys. When false, an unsigned
   * model is accepted, and so is a signed one while trustedKeys is empty (the agent has no key to
   * verify it with: it is accepted unverified, `signature: null`); with keys, a bundle that does
   * not verify is always refused.
   */
  requireSigned: boolean;
  /** Retries after the first attempt for a failed transfer (network error, 5xx, 408, 429). */
  retries: number;
  /** First backoff delay; doubles per retry, with full jitter, capped at maxBackoffMs. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Per-request timeout for receiving headers and for any pause between chunks. */
  stallTimeoutMs: number;
  /** For https downloads: CAs to trust and a client certificate (mTLS). */
  tls?: ClientTls;
}

export interface FetchedModel {
  /** Absolute path of the verified `<sha256>.onnx` in the cache. */
  path: string;
  /** false when the model came from the cache with no transfer. */
  downloaded: boolean;
  /** 'message_signature' | 'dsse' when a signature verified, null for an accepted unsigned model. */
  signature: 'message_signature' | 'dsse' | null;
}

export interface FetchHooks {
  onDownloading?(progress: DownloadProgress): void;
  onVerifying?(): void;
  signal?: AbortSignal;
}

// A fetch loops at most this often between "not in the cache" and "a transfer finished".
const MAX_ROUNDS = 4;

/**
 * Transfers running in this process, by .part path: every ModelCache over one folder shares them,
 * so two caches can never write the same .part at once.
 */
const inflight = new Map<string, Transfer>();

/**
 * The agent's model cache: verified models as `<dir>/<sha256>.onnx`, downloads in progress as
 * `<sha256>.part`, and `<sha256>.sig.json` recording which message-signature bundles already
 * verified over a cached file.
 *
 * - A download streams once: sha256, size and the signature are checked over the bytes as they
 *   arrive; the .part is fsynced and renamed only when all three hold.
 * - An interrupted download resumes with `Range`/`If-Range`, continuing the same running hash;
 *   a .part left by an earlier process is hashed once and resumed too.
 * - Fetches of one sha256 into one folder in the same process share one transfer (the fleet
 *   simulator runs many agents over one cache), even through different ModelCache objects; a
 *   transfer stops only when all of its fetches were aborted.
 * - A cache hit makes no request. A DSSE attestation names the sha256 and is checked without the
 *   bytes; a message signature over a cached file is taken from `<sha256>.sig.json` when the same
 *   bundle already verified with a key still trusted, and otherwise by reading the file once.
 *
 * One process per cache folder: nothing locks the folder against a second agent process.
 */
export class ModelCache {
  private transfers = 0;
  private readonly dir: string;

  constructor(private readonly options: ModelCacheOptions) {
    this.dir = resolve(options.dir);
  }

  /** Transfers started (not cache hits), since construction. */
  get downloads(): number {
    return this.transfers;
  }

  /**
   * Downloads (or takes from the cache), checks sha256, size and signature; throws AgentError
   * ('unsigned', 'bad_signature', 'hash_mismatch', 'download_failed', 'disk_full'), or the
   * signal's reason when `hooks.signal` aborts (the .part then stays, for a later resume).
   */
  async fetch(model: ModelRef, hooks: FetchHooks = {}): Promise<FetchedModel> {
    hooks.signal?.throwIfAborted();
    const sha256 = model.sha256.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      // It names files in the cache: nothing else may pass.
      throw new AgentError('download_failed', `model ${label(model)}: invalid sha256`);
    }
    // Refuse what cannot be accepted before fetching anything.
    const plan = planSignature(model, sha256, this.options.trustedKeys, this.options.requireSigned);

    let downloaded = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const cached = await this.fromCache(model, sha256, plan, hooks);
      if (cached) return { ...cached, downloaded };
      hooks.signal?.throwIfAborted();

      const running = inflight.get(this.files(sha256).part);
      if (running?.abandoned) {
        // Its fetches all gave up; it still holds the .part until it has closed it.
        await running.done.catch(() => undefined);
        continue;
      }
      const transfer = running ?? this.start(model, sha256, plan);
      try {
        await transfer.join(hooks);
        downloaded ||= transfer.requested;
      } catch (error) {
        if (hooks.signal?.aborted) throw hooks.signal.reason as Error;
        // Another fetch's transfer of the same bytes, from another URL or with another bundle,
        // failed: that says nothing about ours, so try ours.
        if (transfer === running && !transfer.sameRequestAs(model, plan, this.options)) continue;
        throw error;
      }
    }
    throw new AgentError(
      'hash_mismatch',
      `model ${label(model)}: cached file keeps failing checks`,
    );
  }

  /** Removes cached models whose sha256 is not in `keep` (and stale .part files). */
  async prune(keep: Iterable<string>): Promise<void> {
    const kept = new Set([...keep].map((sha) => sha.toLowerCase()));
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) {
      const match = /^([0-9a-f]{64})\.(onnx|part|sig\.json|sig\.json\.tmp)$/.exec(name);
      const busy = match && inflight.has(this.files(match[1]).part);
      if (!match || kept.has(match[1]) || busy) continue;
      await unlink(join(this.dir, name)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  }

  private start(model: ModelRef, sha256: string, plan: SignaturePlan): Transfer {
    const transfer = new Transfer(model, sha256, plan, this.files(sha256), this.options, () => {
      this.transfers++;
    });
    const key = this.files(sha256).part;
    inflight.set(key, transfer);
    void transfer.done
      .catch(() => undefined)
      .finally(() => {
        if (inflight.get(key) === transfer) inflight.delete(key);
      });
    return transfer;
  }

  private files(sha256: string): TransferFiles {
    return {
      dir: this.dir,
      part: join(this.dir, `${sha256}.part`),
      final: join(this.dir, `${sha256}.onnx`),
      signatures: join(this.dir, `${sha256}.sig.json`),
    };
  }

  /**
   * The cached model if it is there and acceptable for `model`; undefined if it must be
   * downloaded (absent, or found damaged and removed).
   */
  private async fromCache(
    model: ModelRef,
    sha256: string,
    plan: SignaturePlan,
    hooks: FetchHooks,
  ): Promise<Omit<FetchedModel, 'downloaded'> | undefined> {
    const files = this.files(sha256);
    const size = await stat(files.final).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) return undefined;
    if (size !== model.size) {
      // A model cannot change size under its sha256: the cached file is damaged.
      await this.evict(sha256);
      return undefined;
    }
    if (plan.kind === 'none') return { path: files.final, signature: null };
    if (plan.kind === 'dsse') return { path: files.final, signature: 'dsse' };

    const verified = new VerifiedSignatures(files.signatures);
    if (await verified.has(plan.bundleDigest, this.options.trustedKeys)) {
      return { path: files.final, signature: 'message_signature' };
    }
    // A bundle not yet verified over these bytes (re-signed model, or keys changed): one read.
    hooks.onVerifying?.();
    const check = beginCheck(plan.bundleJson, model, sha256, this.options.trustedKeys);
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(files.final, {
        highWaterMark: 1024 * 1024,
        signal: hooks.signal,
      }) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        check.update(chunk);
      }
    } catch {
      if (hooks.signal?.aborted) throw hooks.signal.reason as Error;
      // An unreadable cached file (or one pruned meanwhile): download it again.
      await this.evict(sha256);
      return undefined;
    }
    const computed = hash.digest('hex');
    if (computed !== sha256) {
      await this.evict(sha256);
      return undefined;
    }
    const keyHint = finishCheck(check, computed, label(model));
    await verified.add(plan.bundleDigest, keyHint).catch(() => undefined);
    return { path: files.final, signature: 'message_signature' };
  }

  private async evict(sha256: string): Promise<void> {
    const files = this.files(sha256);
    for (const path of [files.final, files.signatures]) {
      await unlink(path).catch(() => undefined);
    }
  }
}

function label(model: ModelRef): string {
  return `${model.name} ${model.version}`;
}
