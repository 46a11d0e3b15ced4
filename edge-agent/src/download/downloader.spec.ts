import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AgentError } from '../errors.js';
import { ModelCache, type DownloadProgress } from './downloader.js';
import {
  cacheOptions,
  filesIn,
  modelBytes,
  modelRef,
  setup,
  sha256Of,
  until,
} from './testing/fixtures.js';

const MiB = 1024 * 1024;

function rejectsWith(reason: string) {
  return (error: unknown) => {
    assert.ok(error instanceof AgentError, `expected an AgentError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  };
}

describe('ModelCache.fetch', () => {
  it('downloads, checks and stores the model as <sha256>.onnx, with the device credential', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(3 * MiB + 123);
    const model = modelRef(body, server.serve('/m/1/artifact', body));
    const cache = new ModelCache(
      cacheOptions(dir, { credentialOrigins: [new URL(server.url('/')).origin] }),
    );
    const progress: DownloadProgress[] = [];
    let verifying = 0;

    const fetched = await cache.fetch(model, {
      onDownloading: (p) => progress.push(p),
      onVerifying: () => verifying++,
    });

    assert.equal(fetched.path, join(dir, `${model.sha256}.onnx`));
    assert.equal(fetched.downloaded, true);
    assert.equal(fetched.signature, null);
    assert.ok((await readFile(fetched.path)).equals(body));
    assert.deepEqual(await filesIn(dir), [`${model.sha256}.onnx`]);
    assert.equal(cache.downloads, 1);
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].headers.authorization, 'Basic ZGV2aWNlOnNlY3JldA==');
    assert.equal(server.requests[0].headers.range, undefined);
    assert.equal(verifying, 1);
    // Throttled: at most one report per 1 % (plus time-based ones on a slow link), rising, ending at the total.
    assert.deepEqual(progress.at(-1), { bytes: body.length, total: body.length });
    assert.ok(progress.length >= 2 && progress.length <= 110, `${progress.length} reports`);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i].bytes > progress[i - 1].bytes);
  });

  it('serves a cached model without a request, also to a new cache over the same folder', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(200_000);
    const model = modelRef(body, server.serve('/a', body));
    const cache = new ModelCache(cacheOptions(dir));
    await cache.fetch(model);

    const again = await cache.fetch(model);
    const afterRestart = new ModelCache(cacheOptions(dir));
    const restarted = await afterRestart.fetch({ ...model, id: model.id });

    assert.equal(again.downloaded, false);
    assert.equal(restarted.downloaded, false);
    assert.equal(restarted.path, again.path);
    assert.equal(server.requests.length, 1);
    assert.equal(cache.downloads, 1);
    assert.equal(afterRestart.downloads, 0);
  });

  it('downloads again when the cached file has the wrong size (damaged cache)', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(100_000);
    const model = modelRef(body, server.serve('/a', body));
    const cache = new ModelCache(cacheOptions(dir));
    const { path } = await cache.fetch(model);
    await writeFile(path, body.subarray(0, 5000));

    const fetched = await cache.fetch(model);

    assert.equal(fetched.downloaded, true);
    assert.ok((await readFile(path)).equals(body));
    assert.equal(cache.downloads, 2);
  });

  it('refuses bytes whose sha256 differs, leaving neither model nor .part, without retrying', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(500_000);
    const other = Buffer.from(body);
    other[1234] ^= 0xff;
    const model = modelRef(other, server.serve('/a', body));
    const cache = new ModelCache(cacheOptions(dir));

    await assert.rejects(cache.fetch(model), rejectsWith('hash_mismatch'));

    assert.deepEqual(await filesIn(dir), []);
    assert.equal(server.requests.length, 1);
  });

  it('refuses a Content-Length other than the expected size before reading the body', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(300_000);
    const model = modelRef(body, server.serve('/a', body), { size: body.length + 10 });

    await assert.rejects(
      new ModelCache(cacheOptions(dir)).fetch(model),
      rejectsWith('hash_mismatch'),
    );

    assert.deepEqual(await filesIn(dir), []);
    assert.equal(server.requests.length, 1);
  });

  it('stops reading a body without Content-Length once it exceeds the expected size', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(2 * MiB);
    const expected = body.subarray(0, 256 * 1024);
    const model = modelRef(expected, server.serve('/a', body, { chunked: true }));

    await assert.rejects(
      new ModelCache(cacheOptions(dir)).fetch(model),
      rejectsWith('hash_mismatch'),
    );

    assert.deepEqual(await filesIn(dir), []);
  });

  it('refuses a complete body without Content-Length that is shorter than the expected size', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(100_000);
    const longer = Buffer.concat([body, modelBytes(10)]);
    const model = modelRef(longer, server.serve('/a', body, { chunked: true }));

    await assert.rejects(
      new ModelCache(cacheOptions(dir)).fetch(model),
      rejectsWith('hash_mismatch'),
    );

    assert.deepEqual(await filesIn(dir), []);
    assert.equal(server.requests.length, 1);
  });

  it('retries after 500 twice, then succeeds', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(100_000);
    const model = modelRef(body, server.serve('/a', body, { failWith: [500, 500] }));
    const cache = new ModelCache(cacheOptions(dir, { retries: 3 }));

    const fetched = await cache.fetch(model);

    assert.ok((await readFile(fetched.path)).equals(body));
    assert.deepEqual(
      server.requests.map((r) => r.status),
      [500, 500, 200],
    );
    assert.equal(cache.downloads, 1);
  });

  it('gives up with download_failed when the retries run out', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(1000);
    const model = modelRef(body, server.serve('/a', body, { failWith: [503, 503, 503, 503] }));

    await assert.rejects(
      new ModelCache(cacheOptions(dir, { retries: 2 })).fetch(model),
      rejectsWith('download_failed'),
    );
    assert.equal(server.requests.length, 3);
  });

  it('fails at once on 404, with no retry', async (t) => {
    const { dir, server } = await setup(t);
    const model = modelRef(modelBytes(1000), server.url('/missing'));

    await assert.rejects(
      new ModelCache(cacheOptions(dir, { retries: 5 })).fetch(model),
      (error: unknown) => rejectsWith('download_failed')(error) && /HTTP 404/.test(String(error)),
    );
    assert.equal(server.requests.length, 1);
  });

  it('retries 429 and 408 (the server is busy, not refusing)', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(1000);
    const model = modelRef(
      body,
      server.serve('/a', body, { failWith: [429, 408], failureHeaders: { 'retry-after': '0' } }),
    );

    await new ModelCache(cacheOptions(dir)).fetch(model);

    assert.deepEqual(
      server.requests.map((r) => r.status),
      [429, 408, 200],
    );
  });

  it('fails with download_failed when the hub is unreachable (closed port)', async (t) => {
    const { dir } = await setup(t);
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    probe.close();
    await once(probe, 'close');
    const model = modelRef(modelBytes(1000), `http://127.0.0.1:${port}/artifact`);
    const cache = new ModelCache(cacheOptions(dir, { retries: 2 }));

    await assert.rejects(
      cache.fetch(model),
      (error: unknown) =>
        rejectsWith('download_failed')(error) && /3 attempt\(s\).*ECONNREFUSED/.test(String(error)),
    );
    assert.equal(cache.downloads, 1);
    assert.deepEqual(await filesIn(dir), []);
  });

  it('retries every connection the hub drops, then gives up', async (t) => {
    const { dir } = await setup(t);
    let connections = 0;
    const dropping = createServer((socket) => {
      connections++;
      socket.destroy();
    }).listen(0, '127.0.0.1');
    await once(dropping, 'listening');
    t.after(() => dropping.close());
    const { port } = dropping.address() as AddressInfo;
    const model = modelRef(modelBytes(1000), `http://127.0.0.1:${port}/artifact`);

    await assert.rejects(
      new ModelCache(cacheOptions(dir, { retries: 3 })).fetch(model),
      rejectsWith('download_failed'),
    );
    assert.equal(connections, 4);
  });

  it('gives up on a server that stalls longer than stallTimeoutMs, keeping the .part', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(400_000);
    const model = modelRef(body, server.serve('/a', body, { holdAfter: 100_000 }));
    const cache = new ModelCache(cacheOptions(dir, { retries: 1, stallTimeoutMs: 200 }));

    await assert.rejects(cache.fetch(model), rejectsWith('download_failed'));

    assert.equal(server.requests.length, 2);
    assert.deepEqual(await filesIn(dir), [`${model.sha256}.part`]);
  });

  it('shares one transfer between concurrent fetches of the same sha256', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(2 * MiB);
    const url = server.serve('/a', body, { holdAfter: 512 * 1024 });
    const cache = new ModelCache(cacheOptions(dir));
    const model = modelRef(body, url);
    const seen = [0, 0, 0];

    const fetches = [
      cache.fetch(model, { onDownloading: () => seen[0]++ }),
      cache.fetch({ ...model }, { onDownloading: () => seen[1]++ }),
      cache.fetch(
        { ...model, id: 'another-version-same-bytes' },
        { onDownloading: () => seen[2]++ },
      ),
    ];
    await until(() => server.requests.length > 0 && server.bytesSent >= 512 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 50));
    server.release();
    const results = await Promise.all(fetches);

    assert.equal(server.requests.length, 1);
    assert.equal(cache.downloads, 1);
    assert.deepEqual(
      results.map((r) => [r.path, r.downloaded]),
      results.map(() => [join(dir, `${model.sha256}.onnx`), true]),
    );
    assert.ok(
      seen.every((n) => n > 0),
      `progress seen by each fetch: ${seen.join(', ')}`,
    );
  });

  it('shares the transfer between two ModelCache objects over one folder', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(MiB);
    const model = modelRef(body, server.serve('/a', body, { holdAfter: 256 * 1024 }));
    const [one, two] = [new ModelCache(cacheOptions(dir)), new ModelCache(cacheOptions(dir))];

    const fetches = [one.fetch(model), two.fetch(model)];
    await until(() => server.bytesSent >= 256 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 50));
    server.release();
    const [a, b] = await Promise.all(fetches);

    assert.ok((await readFile(a.path)).equals(body));
    assert.equal(b.path, a.path);
    assert.equal(server.requests.length, 1);
    assert.equal(one.downloads + two.downloads, 1);
  });

  it('stops on abort, keeps the .part, and the next fetch resumes it', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(3 * MiB);
    const half = 1536 * 1024;
    const model = modelRef(body, server.serve('/a', body, { holdAfter: half }));
    const cache = new ModelCache(cacheOptions(dir));
    const controller = new AbortController();
    let received = 0;

    const aborted = cache.fetch(model, {
      signal: controller.signal,
      onDownloading: (p) => (received = p.bytes),
    });
    await until(() => server.bytesSent >= half && received > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    const partFiles = await filesIn(dir);
    server.release();

    assert.deepEqual(partFiles, [`${model.sha256}.part`]);
    const kept = await readFile(join(dir, `${model.sha256}.part`));
    assert.ok(kept.equals(body.subarray(0, kept.length)), 'the .part holds the first bytes');

    const fetched = await cache.fetch(model);
    assert.ok((await readFile(fetched.path)).equals(body));
    assert.equal(server.requests[1].headers.range, `bytes=${kept.length}-`);
    assert.equal(server.requests[1].status, 206);
    assert.equal(server.requests[1].bytesSent, body.length - kept.length);
  });

  it('keeps a shared transfer going when only one of its fetches aborts', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(MiB);
    const model = modelRef(body, server.serve('/a', body, { holdAfter: 256 * 1024 }));
    const cache = new ModelCache(cacheOptions(dir));
    const controller = new AbortController();

    const leaving = cache.fetch(model, { signal: controller.signal });
    const staying = cache.fetch(model);
    await until(() => server.bytesSent >= 256 * 1024);
    controller.abort();
    await assert.rejects(leaving, { name: 'AbortError' });
    server.release();
    const fetched = await staying;

    assert.ok((await readFile(fetched.path)).equals(body));
    assert.equal(server.requests.length, 1);
  });

  it('rejects at once when the signal is already aborted', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(1000);
    const model = modelRef(body, server.serve('/a', body));

    await assert.rejects(
      new ModelCache(cacheOptions(dir)).fetch(model, { signal: AbortSignal.abort() }),
      { name: 'AbortError' },
    );
    assert.equal(server.requests.length, 0);
  });

  it('refuses a sha256 that is not 64 hex digits (it names files)', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(1000);
    const model = modelRef(body, server.serve('/a', body), { sha256: '../../etc/passwd' });

    await assert.rejects(
      new ModelCache(cacheOptions(dir)).fetch(model),
      rejectsWith('download_failed'),
    );
    assert.equal(server.requests.length, 0);
  });
});

describe('ModelCache.prune', () => {
  it('removes models and .part files not kept, and nothing else', async (t) => {
    const { dir, server } = await setup(t);
    const [a, b] = [modelBytes(1000), modelBytes(2000)];
    const cache = new ModelCache(cacheOptions(dir));
    const modelA = modelRef(a, server.serve('/a', a));
    const modelB = modelRef(b, server.serve('/b', b));
    await cache.fetch(modelA);
    await cache.fetch(modelB);
    const stalePart = `${sha256Of(modelBytes(10))}.part`;
    await writeFile(join(dir, stalePart), 'partial');
    await writeFile(join(dir, 'notes.txt'), 'not ours');

    await cache.prune([modelA.sha256.toUpperCase()]);

    assert.deepEqual(await filesIn(dir), [`${modelA.sha256}.onnx`, 'notes.txt'].sort());
    const again = await cache.fetch(modelB);
    assert.equal(again.downloaded, true);
  });

  it('does nothing when the folder does not exist yet', async (t) => {
    const { dir } = await setup(t);
    await new ModelCache(cacheOptions(join(dir, 'never-created'))).prune([]);
  });
});
