import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ModelCache } from './downloader.js';
import { cacheOptions, filesIn, modelBytes, modelRef, setup } from './testing/fixtures.js';

const MiB = 1024 * 1024;

describe('ModelCache resume', () => {
  it('resumes with Range and If-Range after the connection is cut halfway', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(4 * MiB + 777);
    const half = Math.floor(body.length / 2);
    const model = modelRef(body, server.serve('/a', body, { cutAfter: [half] }));
    const cache = new ModelCache(cacheOptions(dir, { retries: 1 }));

    const fetched = await cache.fetch(model);

    assert.ok((await readFile(fetched.path)).equals(body));
    assert.equal(server.requests.length, 2);
    const [first, second] = server.requests;
    assert.equal(first.bytesSent, half);
    const from = Number(/^bytes=(\d+)-$/.exec(second.headers.range ?? '')?.[1]);
    // Everything the server flushed before cutting arrived (loopback): the resume starts there.
    assert.ok(from > 0 && from <= half, `resumed from ${from}`);
    assert.equal(second.headers['if-range'], `"${model.sha256}"`);
    assert.equal(second.status, 206);
    // No second full download: what was served is about the size of the model.
    assert.ok(server.bytesSent <= body.length + (half - from), `${server.bytesSent} bytes served`);
    assert.ok(server.bytesSent < body.length * 1.05);
    assert.equal(cache.downloads, 1);
  });

  it('does not use up retries on cuts that keep making progress', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(6 * MiB);
    // Four cuts, each after 1 MiB: more failures than retries, but every one moved forward.
    const cut = MiB;
    const model = modelRef(body, server.serve('/a', body, { cutAfter: [cut, cut, cut, cut] }));

    const fetched = await new ModelCache(cacheOptions(dir, { retries: 1 })).fetch(model);

    assert.ok((await readFile(fetched.path)).equals(body));
    assert.equal(server.requests.length, 5);
    assert.ok(server.bytesSent < body.length * 1.05, `${server.bytesSent} bytes served`);
  });

  it('restarts cleanly from zero when the server ignores the Range (200)', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(2 * MiB);
    const cut = MiB;
    const model = modelRef(body, server.serve('/a', body, { cutAfter: [cut], ignoreRange: true }));

    const fetched = await new ModelCache(cacheOptions(dir)).fetch(model);

    assert.ok((await readFile(fetched.path)).equals(body));
    assert.equal(server.requests.length, 2);
    assert.match(server.requests[1].headers.range ?? '', /^bytes=\d+-$/);
    assert.equal(server.requests[1].status, 200);
    assert.equal(server.bytesSent, cut + body.length);
    assert.deepEqual(await filesIn(dir), [`${model.sha256}.onnx`]);
  });

  it('restarts from zero when If-Range no longer matches the ETag', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(MiB);
    const model = modelRef(body, server.serve('/a', body, { etag: '"v2"' }));
    await writeFile(join(dir, `${model.sha256}.part`), body.subarray(0, 1000));

    const fetched = await new ModelCache(cacheOptions(dir)).fetch(model);

    assert.ok((await readFile(fetched.path)).equals(body));
    // The earlier process's .part is validated with the sha256 ETag, which this server lacks.
    assert.equal(server.requests[0].headers['if-range'], `"${model.sha256}"`);
    assert.equal(server.requests[0].status, 200);
  });

  it('resumes a .part left by an earlier process, fetching only the rest', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(3 * MiB);
    const have = 2 * MiB + 5;
    const model = modelRef(body, server.serve('/a', body));
    await writeFile(join(dir, `${model.sha256}.part`), body.subarray(0, have));
    const cache = new ModelCache(cacheOptions(dir));
    const progress: number[] = [];

    const fetched = await cache.fetch(model, { onDownloading: (p) => progress.push(p.bytes) });

    assert.ok((await readFile(fetched.path)).equals(body));
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].headers.range, `bytes=${have}-`);
    assert.equal(server.requests[0].headers['if-range'], `"${model.sha256}"`);
    assert.equal(server.bytesSent, body.length - have);
    assert.equal(progress[0], have);
    assert.equal(cache.downloads, 1);
  });

  it('downloads once more from zero when a resumed .part turns out damaged', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(MiB);
    const damaged = Buffer.from(body.subarray(0, 600_000));
    damaged.fill(0, 500_000); // a tail of zeros, as a power cut before fsync can leave
    const model = modelRef(body, server.serve('/a', body));
    await writeFile(join(dir, `${model.sha256}.part`), damaged);

    const fetched = await new ModelCache(cacheOptions(dir)).fetch(model);

    assert.ok((await readFile(fetched.path)).equals(body));
    assert.deepEqual(
      server.requests.map((r) => [r.status, r.headers.range]),
      [
        [206, 'bytes=600000-'],
        [200, undefined],
      ],
    );
  });

  it('verifies a complete .part without any request', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(100_000);
    const model = modelRef(body, server.url('/never'));
    await writeFile(join(dir, `${model.sha256}.part`), body);
    const cache = new ModelCache(cacheOptions(dir));

    const fetched = await cache.fetch(model);

    assert.ok((await readFile(fetched.path)).equals(body));
    assert.equal(server.requests.length, 0);
    assert.equal(cache.downloads, 0);
    assert.deepEqual(await filesIn(dir), [`${model.sha256}.onnx`]);
  });

  it('discards a .part longer than the model and downloads it whole', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(100_000);
    const model = modelRef(body, server.serve('/a', body));
    await writeFile(join(dir, `${model.sha256}.part`), modelBytes(150_000));

    const fetched = await new ModelCache(cacheOptions(dir)).fetch(model);

    assert.ok((await readFile(fetched.path)).equals(body));
    assert.equal(server.requests[0].headers.range, undefined);
  });
});
