// Test helpers for the download specs: temporary cache folders, model references, options.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { ModelRef } from '@sentinel/broker/protocol';
import type { ModelCacheOptions } from '../downloader.js';
import { ArtifactServer } from './artifact-server.js';

export function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Random bytes: the downloader never parses a model, so any content will do. */
export function modelBytes(size: number): Buffer {
  return randomBytes(size);
}

export function modelRef(body: Buffer, url: string, overrides: Partial<ModelRef> = {}): ModelRef {
  return {
    id: randomUUID(),
    name: 'detector',
    version: '1.0.0',
    sha256: sha256Of(body),
    size: body.length,
    url,
    signature: null,
    ...overrides,
  };
}

export function cacheOptions(
  dir: string,
  overrides: Partial<ModelCacheOptions> = {},
): ModelCacheOptions {
  return {
    dir,
    authorization: 'Basic ZGV2aWNlOnNlY3JldA==',
    trustedKeys: [],
    requireSigned: false,
    retries: 3,
    // Tiny backoff: the tests exercise the retries, not the waiting.
    minBackoffMs: 1,
    maxBackoffMs: 5,
    stallTimeoutMs: 10_000,
    ...overrides,
  };
}

/** A temporary folder and a started artifact server, both removed when the test ends. */
export async function setup(t: TestContext): Promise<{ dir: string; server: ArtifactServer }> {
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-download-'));
  const server = await new ArtifactServer().start();
  t.after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, server };
}

export async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** Resolves once `condition` holds (polled every few ms), or rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
