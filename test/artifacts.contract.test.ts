/*
 * One contract for the artifact store port, run against both engines: the filesystem store in a
 * temp folder and the S3 store against s3rver 3.7 started in this process.
 *
 * What s3rver cannot prove:
 * - It does not check SigV4 signatures (a wrong secret or a tampered presigned URL is accepted;
 *   only an unknown access key is refused), so signing bugs pass here and show only on MinIO/S3.
 * - It implements neither ListMultipartUploads nor AbortMultipartUpload (it answers 405 to the
 *   abort). "No incomplete multipart upload left" is therefore checked on the wire: every
 *   upload this store initiated must have been completed or aborted by a request. Whether the
 *   server then frees the parts is the server's job (MinIO/S3 do; s3rver keeps them on disk).
 * - It does not implement UploadPartCopy, so the copy path for artifacts above 5 GiB is untested.
 * - It runs in this process, so the S3 memory figure includes the server's own buffers.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Client } from 'minio';
import {
  ArtifactNotFoundError,
  ArtifactRangeError,
  ArtifactTooLargeError,
  InvalidArtifactIdError,
  type ArtifactStore,
} from '../src/artifacts/artifact-store.js';
import { FsArtifactStore } from '../src/artifacts/fs-artifact-store.js';
import { S3ArtifactStore } from '../src/artifacts/s3-artifact-store.js';
import { startS3Server, type TestS3Server } from './support/s3-server.js';

const MiB = 1024 * 1024;
const S3_PART_SIZE = 5 * MiB; // S3's minimum part size

interface UploadCounts {
  initiated: number;
  parts: number;
  /** Upload ids that saw a complete or an abort request. */
  finished: number;
  /** HTTP statuses the server gave to AbortMultipartUpload requests. */
  abortStatuses: number[];
}

interface Harness {
  store: ArtifactStore;
  /** Bytes per part when the engine uploads in parts; sizes the multi-part cases. */
  partSize: number;
  /** Temporary files/objects currently present (fs: tmp/; s3: any key outside sha256/). */
  leftovers(): Promise<string[]>;
  /** Every stored entry, artifacts and temporaries alike. */
  entries(): Promise<string[]>;
  /** Multipart bookkeeping as seen on the wire (S3 only). */
  uploads?(): UploadCounts;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Sources

const sha256Of = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function chunked(data: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) chunks.push(data.subarray(at, at + size));
  return Readable.from(chunks);
}

const PATTERN_CHUNK = MiB;
const PATTERN = randomBytes(PATTERN_CHUNK + 7);

/** Byte `pos` of the generated stream; chunk i is PATTERN shifted by i % 7, so parts differ. */
function patternByte(pos: number): number {
  return PATTERN[(Math.floor(pos / PATTERN_CHUNK) % 7) + (pos % PATTERN_CHUNK)]!;
}

interface Generated {
  stream: Readable;
  /** sha256 of every byte emitted, computed here independently of the store. */
  digest(): string;
}

/**
 * `total` bytes produced on demand (never one big buffer). With `failAfter` the stream stops
 * after that many bytes and is destroyed with `error` (or without one: a client disconnect).
 */
function generated(total: number, failure?: { after: number; error?: Error }): Generated {
  const hash = createHash('sha256');
  let sent = 0;
  let index = 0;
  const stream = new Readable({
    highWaterMark: PATTERN_CHUNK,
    read() {
      if (failure && sent >= failure.after) {
        this.destroy(failure.error);
        return;
      }
      if (sent >= total) {
        this.push(null);
        return;
      }
      const limit = Math.min(total, failure?.after ?? total);
      const length = Math.min(PATTERN_CHUNK, limit - sent);
      const shift = index % 7;
      // A copy per chunk: the consumer may still hold the previous one.
      const chunk = Buffer.from(PATTERN.subarray(shift, shift + length));
      hash.update(chunk);
      sent += length;
      index += 1;
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function hashStream(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/**
 * Runs `work` while sampling memory; returns the peak growth of RSS and of the memory held by
 * Buffers (arrayBuffers) over what they were before it started.
 */
async function peakMemoryGrowth(
  work: () => Promise<unknown>,
): Promise<{ rss: number; buffers: number }> {
  const baseline = process.memoryUsage();
  let rss = baseline.rss;
  let buffers = baseline.arrayBuffers;
  const sample = () => {
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss);
    buffers = Math.max(buffers, now.arrayBuffers);
  };
  const sampler = setInterval(sample, 10);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  sample();
  return { rss: rss - baseline.rss, buffers: buffers - baseline.arrayBuffers };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

// ---------------------------------------------------------------------------------------------
// The contract

function runContract(name: string, makeHarness: () => Promise<Harness>, memoryBound: number) {
  describe(`artifact store contract: ${name}`, () => {
    let h: Harness;
    let store: ArtifactStore;

    before(async () => {
      h = await makeHarness();
      store = h.store;
    });
    after(async () => {
      await h?.close();
    });

    interface Snapshot {
      entries: string[];
      leftovers: string[];
      uploads: UploadCounts | undefined;
    }
    const snapshot = async (): Promise<Snapshot> => ({
      entries: await h.entries(),
      leftovers: await h.leftovers(),
      uploads: h.uploads?.(),
    });

    /** Asserts a successful put added no temporaries and ended every upload it began. */
    async function expectCleanSuccess(before: Snapshot): Promise<void> {
      assert.deepEqual((await h.leftovers()).sort(), [...before.leftovers].sort());
      if (before.uploads) {
        const now = h.uploads!();
        assert.equal(
          now.finished - before.uploads.finished,
          now.initiated - before.uploads.initiated,
        );
      }
    }

    /** Asserts a failed put changed nothing: same entries, and every upload it began ended. */
    async function expectNothingLeft(before: Snapshot): Promise<void> {
      assert.deepEqual((await h.entries()).sort(), [...before.entries].sort());
      if (before.uploads) {
        const now = h.uploads!();
        assert.equal(
          now.finished - before.uploads.finished,
          now.initiated - before.uploads.initiated,
          'a multipart upload was neither completed nor aborted',
        );
      }
    }

    it('init is idempotent and check() passes', async () => {
      await store.init();
      await store.check();
    });

    it('put/stat/read round trip with the independently computed sha256', async () => {
      const data = randomBytes(100_000);
      const stored = await store.put(chunked(data, 7_000));
      assert.deepEqual(stored, { sha256: sha256Of(data), size: data.length });
      assert.deepEqual(await store.stat(stored.sha256), stored);
      assert.ok((await readAll(await store.read(stored.sha256))).equals(data));
      assert.deepEqual(await h.leftovers(), []);
    });

    it('stores and reads an empty artifact', async () => {
      const stored = await store.put(Readable.from([]));
      assert.deepEqual(stored, { sha256: sha256Of(Buffer.alloc(0)), size: 0 });
      assert.equal((await readAll(await store.read(stored.sha256))).length, 0);
      await assert.rejects(store.read(stored.sha256, { start: 0, end: 0 }), ArtifactRangeError);
    });

    it('serves byte ranges (inclusive ends, end clamped like HTTP)', async () => {
      const data = randomBytes(10_000);
      const { sha256 } = await store.put(chunked(data, 4_096));
      const range = async (start: number, end: number) =>
        readAll(await store.read(sha256, { start, end }));

      assert.ok((await range(0, 0)).equals(data.subarray(0, 1)), 'first byte');
      assert.ok((await range(4_000, 5_999)).equals(data.subarray(4_000, 6_000)), 'middle');
      assert.ok((await range(9_999, 9_999)).equals(data.subarray(9_999)), 'last byte');
      assert.ok((await range(0, 9_999)).equals(data), 'whole');
      assert.ok((await range(9_000, 20_000)).equals(data.subarray(9_000)), 'end clamped');
      await assert.rejects(range(10_000, 10_000), ArtifactRangeError);
      await assert.rejects(range(5, 4), ArtifactRangeError);
      await assert.rejects(range(-1, 4), ArtifactRangeError);
    });

    it('keeps one copy when the same content is put twice', async () => {
      const data = randomBytes(50_000);
      const first = await store.put(chunked(data, 10_000));
      const entries = await h.entries();
      const second = await store.put(chunked(data, 3_333));
      assert.deepEqual(second, first);
      assert.deepEqual((await h.entries()).sort(), [...entries].sort());
      assert.ok((await readAll(await store.read(first.sha256))).equals(data));
    });

    it('accepts exactly maxBytes', async () => {
      const data = randomBytes(20_000);
      const stored = await store.put(chunked(data, 6_000), { maxBytes: data.length });
      assert.equal(stored.size, data.length);
    });

    it('rejects above maxBytes, leaves nothing and does not destroy the source', async () => {
      const before = await snapshot();
      const source = chunked(randomBytes(300_000), 16_384);
      await assert.rejects(
        store.put(source, { maxBytes: 100_000 }),
        (err: unknown) => err instanceof ArtifactTooLargeError && err.limit === 100_000,
      );
      assert.equal(source.destroyed, false, 'the caller decides what happens to the source');
      source.destroy();
      await expectNothingLeft(before);
    });

    it('rejects above maxBytes after several parts were sent, leaving nothing', async () => {
      const before = await snapshot();
      const limit = Math.floor(2.5 * h.partSize);
      const source = generated(4 * h.partSize);
      await assert.rejects(store.put(source.stream, { maxBytes: limit }), ArtifactTooLargeError);
      source.stream.destroy();
      await expectNothingLeft(before);
      if (before.uploads) {
        const uploads = h.uploads!();
        assert.equal(uploads.initiated, before.uploads.initiated + 1, 'a multipart upload ran');
        assert.ok(uploads.parts >= before.uploads.parts + 2, 'at least two parts were sent');
        const statuses = uploads.abortStatuses.slice(before.uploads.abortStatuses.length);
        assert.equal(statuses.length, 1, 'the upload was aborted');
        console.log(`[${name}] the server answered AbortMultipartUpload with ${statuses[0]}`);
      }
    });

    it('rejects when the source errors midway (small), leaving nothing', async () => {
      const before = await snapshot();
      const boom = new Error('disk on fire');
      const source = generated(200_000, { after: 50_000, error: boom });
      await assert.rejects(store.put(source.stream), (err) => err === boom);
      await expectNothingLeft(before);
    });

    it('rejects when the source errors after several parts, leaving nothing', async () => {
      const before = await snapshot();
      const boom = new Error('upstream reset');
      const source = generated(4 * h.partSize, {
        after: Math.floor(2.5 * h.partSize),
        error: boom,
      });
      await assert.rejects(store.put(source.stream), (err) => err === boom);
      await expectNothingLeft(before);
    });

    it('rejects when the source is destroyed without an error (client disconnect)', async () => {
      const before = await snapshot();
      const source = generated(4 * h.partSize, { after: Math.floor(1.5 * h.partSize) });
      await assert.rejects(store.put(source.stream), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
      await expectNothingLeft(before);
    });

    it('round trips a 40 MB multi-part artifact, ranges across part boundaries', async () => {
      const total = 40_000_000;
      const before = await snapshot();
      const source = generated(total);
      const stored = await store.put(source.stream);
      assert.deepEqual(stored, { sha256: source.digest(), size: total });
      assert.deepEqual(await hashStream(await store.read(stored.sha256)), stored);

      const start = h.partSize - 100;
      const end = h.partSize + 99;
      const slice = await readAll(await store.read(stored.sha256, { start, end }));
      const expected = Buffer.alloc(end - start + 1);
      for (let i = 0; i < expected.length; i++) expected[i] = patternByte(start + i);
      assert.ok(slice.equals(expected));
      await expectCleanSuccess(before);
      if (before.uploads) {
        const parts = h.uploads!().parts - before.uploads.parts;
        assert.equal(parts, Math.ceil(total / h.partSize));
      }
    });

    it('delete is idempotent; missing artifacts stat null and read NotFound', async () => {
      const { sha256 } = await store.put(chunked(randomBytes(1_000), 100));
      await store.delete(sha256);
      assert.equal(await store.stat(sha256), null);
      await assert.rejects(store.read(sha256), ArtifactNotFoundError);
      await store.delete(sha256);

      const missing = sha256Of(randomBytes(8));
      assert.equal(await store.stat(missing), null);
      await assert.rejects(
        store.read(missing, { start: 0, end: 1 }),
        (err) => err instanceof ArtifactNotFoundError && err.sha256 === missing,
      );
      await store.delete(missing);
    });

    it('refuses sha256 arguments that are not 64 lowercase hex characters', async () => {
      const valid = sha256Of(Buffer.from('x'));
      const bad = [
        '',
        'abc',
        valid.toUpperCase(),
        `${valid}0`,
        `../../${valid.slice(6)}`,
        `${valid.slice(0, 62)}/x`,
        `${valid.slice(0, 63)}\n`,
      ];
      for (const value of bad) {
        await assert.rejects(store.stat(value), InvalidArtifactIdError, JSON.stringify(value));
        await assert.rejects(store.read(value), InvalidArtifactIdError, JSON.stringify(value));
        await assert.rejects(store.delete(value), InvalidArtifactIdError, JSON.stringify(value));
      }
    });

    it('streams a 200 MB artifact with bounded memory', async () => {
      const total = 200 * MiB;
      const before = await snapshot();
      const source = generated(total);
      let stored: { sha256: string; size: number } | undefined;
      const growth = await peakMemoryGrowth(async () => {
        stored = await store.put(source.stream);
      });
      console.log(
        `[${name}] put of ${mb(total)}: peak growth RSS ${mb(growth.rss)}, Buffers ${mb(growth.buffers)}`,
      );
      assert.deepEqual(stored, { sha256: source.digest(), size: total });
      assert.ok(
        growth.rss < memoryBound,
        `RSS grew by ${mb(growth.rss)} (bound ${mb(memoryBound)})`,
      );
      await expectCleanSuccess(before);
      await store.delete(stored!.sha256);
      assert.deepEqual((await h.entries()).sort(), [...before.entries].sort());
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Engines

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function fsHarness(): Promise<Harness> {
  const root = await mkdtemp(join(tmpdir(), 'artifacts-fs-'));
  const store = new FsArtifactStore({ root });
  await store.init();
  return {
    store,
    partSize: MiB, // the fs engine has no parts; sizes the "after several parts" cases
    leftovers: () => readdir(join(root, 'tmp')),
    entries: () => filesUnder(root),
    async close() {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A second client, only to look at the bucket the way an operator would. */
function inspectorFor(server: TestS3Server) {
  const agent = new http.Agent({ keepAlive: false });
  const url = new URL(server.endpoint);
  const client = new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: server.accessKey,
    secretKey: server.secretKey,
    region: 'us-east-1',
    pathStyle: true,
    transportAgent: agent,
  });
  return {
    async keys(): Promise<string[]> {
      const keys: string[] = [];
      for await (const item of client.listObjectsV2(server.bucket, '', true)) {
        if (item.name) keys.push(item.name);
      }
      return keys;
    },
    close: () => agent.destroy(),
  };
}

function uploadCounts(server: TestS3Server): UploadCounts {
  let initiated = 0;
  let parts = 0;
  const finished = new Set<string>();
  const abortStatuses: number[] = [];
  for (const { method, url, status } of server.requests()) {
    const query = new URL(url, 'http://x').searchParams;
    const uploadId = query.get('uploadId');
    if (method === 'POST' && query.has('uploads')) initiated += 1;
    else if (method === 'PUT' && uploadId && query.has('partNumber')) parts += 1;
    else if ((method === 'POST' || method === 'DELETE') && uploadId) {
      finished.add(uploadId);
      if (method === 'DELETE') abortStatuses.push(status);
    }
  }
  return { initiated, parts, finished: finished.size, abortStatuses };
}

async function s3Harness(): Promise<Harness> {
  const server = await startS3Server();
  const store = new S3ArtifactStore({
    endpoint: server.endpoint,
    accessKey: server.accessKey,
    secretKey: server.secretKey,
    bucket: server.bucket,
    partSize: S3_PART_SIZE,
  });
  await store.init();
  const inspector = inspectorFor(server);
  return {
    store,
    partSize: S3_PART_SIZE,
    leftovers: async () => (await inspector.keys()).filter((key) => !key.startsWith('sha256/')),
    entries: () => inspector.keys(),
    uploads: () => uploadCounts(server),
    async close() {
      await store.close();
      inspector.close();
      await server.close();
    },
  };
}

runContract('fs', fsHarness, 100 * MiB);
// Generous: the in-process s3rver buffers on its side too. A store that held the whole
// artifact would grow by at least 200 MB.
runContract('s3', s3Harness, 150 * MiB);

// ---------------------------------------------------------------------------------------------
// Engine specifics

describe('fs artifact store', () => {
  it('lays artifacts out as <root>/sha256/<2 hex>/<sha256> and check() fails without its folders', async () => {
    const root = await mkdtemp(join(tmpdir(), 'artifacts-fs-'));
    const store = new FsArtifactStore({ root });
    try {
      await store.init();
      const data = Buffer.from('layout');
      const { sha256 } = await store.put(Readable.from([data]));
      assert.deepEqual(await filesUnder(root), [join(root, 'sha256', sha256.slice(0, 2), sha256)]);
      assert.equal(store.pathFor(sha256), join(root, 'sha256', sha256.slice(0, 2), sha256));
      await rm(root, { recursive: true, force: true });
      await assert.rejects(store.check(), { code: 'ENOENT' });
    } finally {
      await store.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('s3 artifact store', () => {
  let server: TestS3Server;
  let store: S3ArtifactStore;

  before(async () => {
    server = await startS3Server({ bucket: 'fresh-bucket' });
    store = new S3ArtifactStore({
      endpoint: server.endpoint,
      accessKey: server.accessKey,
      secretKey: server.secretKey,
      bucket: server.bucket,
      region: 'us-east-1',
    });
  });
  after(async () => {
    await store?.close();
    await server?.close();
  });

  it('check() fails while the bucket is missing; init() creates it', async () => {
    await assert.rejects(store.check(), /does not exist/);
    await store.init();
    await store.check();
    await store.init();
  });

  it('stores under sha256/<hash> and serves presigned GETs (whole and ranged)', async () => {
    const data = randomBytes(4_000);
    const { sha256 } = await store.put(Readable.from([data]));
    assert.equal(store.keyFor(sha256), `sha256/${sha256}`);
    const inspector = inspectorFor(server);
    try {
      assert.deepEqual(await inspector.keys(), [`sha256/${sha256}`]);
    } finally {
      inspector.close();
    }

    const url = await store.presignedGetUrl(sha256, 60);
    const whole = await fetch(url);
    assert.equal(whole.status, 200);
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(data));
    const ranged = await fetch(url, { headers: { range: 'bytes=10-19' } });
    assert.equal(ranged.status, 206);
    assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(10, 20)));
    await assert.rejects(store.presignedGetUrl(sha256, 0), RangeError);
    await assert.rejects(store.presignedGetUrl('nope', 60), InvalidArtifactIdError);
  });

  it('refuses part sizes S3 would reject and non-origin endpoints', () => {
    const base = {
      endpoint: server.endpoint,
      accessKey: 'a',
      secretKey: 'b',
      bucket: 'x',
    };
    assert.throws(() => new S3ArtifactStore({ ...base, partSize: MiB }), RangeError);
    assert.throws(() => new S3ArtifactStore({ ...base, endpoint: `${server.endpoint}/sub` }));
    assert.throws(() => new S3ArtifactStore({ ...base, endpoint: 'ftp://127.0.0.1' }));
  });

  it('check() fails after the server is gone', async () => {
    const doomed = await startS3Server({ bucket: 'doomed', createBucket: true });
    const endpoint = doomed.endpoint;
    const probe = new S3ArtifactStore({
      endpoint,
      accessKey: doomed.accessKey,
      secretKey: doomed.secretKey,
      bucket: doomed.bucket,
      region: 'us-east-1',
    });
    try {
      await probe.check();
      await doomed.close();
      await assert.rejects(probe.check(), { code: 'ECONNREFUSED' });
    } finally {
      await probe.close();
      await doomed.close();
    }
  });
});
