import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AgentError } from '../errors.js';
import { ModelCache } from './downloader.js';
import {
  cacheOptions,
  filesIn,
  modelBytes,
  modelRef,
  setup,
  sha256Of,
  until,
} from './testing/fixtures.js';
import { dsseBundle, messageSignatureBundle, newKey } from './testing/signing.js';

const MiB = 1024 * 1024;

function rejectsWith(reason: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof AgentError, `expected an AgentError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

describe('ModelCache signatures', () => {
  it('verifies a message signature over the bytes while downloading', async (t) => {
    const { dir, server } = await setup(t);
    const key = newKey();
    const body = modelBytes(2 * MiB);
    const model = modelRef(body, server.serve('/a', body), {
      signature: messageSignatureBundle(body, key),
    });
    const cache = new ModelCache(
      cacheOptions(dir, { trustedKeys: [key.trusted], requireSigned: true }),
    );

    const fetched = await cache.fetch(model);

    assert.equal(fetched.signature, 'message_signature');
    assert.ok((await readFile(fetched.path)).equals(body));
    assert.equal(server.requests.length, 1);
    const record = JSON.parse(await readFile(join(dir, `${model.sha256}.sig.json`), 'utf8'));
    assert.equal(record.verified[0].key_hint, key.hint);
  });

  it('verifies an Ed25519 message signature (checked in memory for small models)', async (t) => {
    const { dir, server } = await setup(t);
    const key = newKey('ed25519');
    const body = modelBytes(300_000);
    const model = modelRef(body, server.serve('/a', body), {
      signature: messageSignatureBundle(body, key),
    });

    const fetched = await new ModelCache(
      cacheOptions(dir, { trustedKeys: [key.trusted], requireSigned: true }),
    ).fetch(model);

    assert.equal(fetched.signature, 'message_signature');
  });

  it('verifies a message signature across a resume after a cut', async (t) => {
    const { dir, server } = await setup(t);
    const key = newKey();
    const body = modelBytes(2 * MiB);
    const model = modelRef(body, server.serve('/a', body, { cutAfter: [MiB] }), {
      signature: messageSignatureBundle(body, key),
    });

    const fetched = await new ModelCache(
      cacheOptions(dir, { trustedKeys: [key.trusted], requireSigned: true }),
    ).fetch(model);

    assert.equal(fetched.signature, 'message_signature');
    assert.equal(server.requests[1].status, 206);
  });

  it('feeds a .part left by an earlier process to the signature check', async (t) => {
    const { dir, server } = await setup(t);
    const key = newKey();
    const body = modelBytes(MiB);
    const model = modelRef(body, server.serve('/a', body), {
      signature: messageSignatureBundle(body, key),
    });
    await writeFile(join(dir, `${model.sha256}.part`), body.subarray(0, 700_000));

    const fetched = await new ModelCache(
      cacheOptions(dir, { trustedKeys: [key.trusted], requireSigned: true }),
    ).fetch(model);

    assert.equal(fetched.signature, 'message_signature');
    assert.equal(server.bytesSent, body.length - 700_000);
  });

  it('verifies a DSSE attestation of the sha256 (no bytes needed)', async (t) => {
    const { dir, server } = await setup(t);
    const key = newKey();
    const body = modelBytes(MiB);
    const model = modelRef(body, server.serve('/a', body), {
      signature: await dsseBundle(sha256Of(body), key),
    });
    const cache = new ModelCache(
      cacheOptions(dir, { trustedKeys: [key.trusted], requireSigned: true }),
    );

    const fetched = await cache.fetch(model);
    const again = await cache.fetch(model);

    assert.equal(fetched.signature, 'dsse');
    assert.equal(again.signature, 'dsse');
    assert.equal(again.downloaded, false);
    assert.equal(server.requests.length, 1);
  });

  it('refuses a DSSE attestation of other bytes before downloading anything', async (t) => {
    const { dir, server } = await setup(t);
    const key = newKey();
    const body = modelBytes(MiB);
    const model = modelRef(body, server.serve('/a', body), {
      signature: await dsseBundle(sha256Of(modelBytes(10)), key),
    });
    const cache = new ModelCache(cacheOptions(dir, { trustedKeys: [key.trusted] }));

    await assert.rejects(cache.fetch(model), rejectsWith('bad_signature', /different artifact/));
    assert.equal(server.requests.length, 0);
    assert.equal(cache.downloads, 0);
  });

  it('refuses a signature by an untrusted key after the download, leaving nothing', async (t) => {
    const { dir, server } = await setup(t);
    const [trusted, stranger] = [newKey(), newKey()];
    const body = modelBytes(MiB);
    const model = modelRef(body, server.serve('/a', body), {
      signature: messageSignatureBundle(body, stranger),
    });

    await assert.rejects(
      new ModelCache(cacheOptions(dir, { trustedKeys: [trusted.trusted] })).fetch(model),
      rejectsWith('bad_signature', /untrusted key/),
    );
    assert.deepEqual(await filesIn(dir), []);
  });

  it('refuses a signature made over other bytes (same claimed digest)', async (t) => {
    const { dir, server } = await setup(t);
    const key = newKey();
    const body = modelBytes(MiB);
    const model = modelRef(body, server.serve('/a', body), {
      signature: messageSignatureBundle(modelBytes(MiB), key, body),
    });

    await assert.rejects(
      new ModelCache(cacheOptions(dir, { trustedKeys: [key.trusted] })).fetch(model),
      rejectsWith('bad_signature', /does not verify/),
    );
    assert.deepEqual(await filesIn(dir), []);
    assert.equal(server.requests.length, 1);
  });

  it('refuses a malformed bundle before downloading', async (t) => {
    const { dir, server } = await setup(t);
    const key = newKey();
    const body = modelBytes(1000);
    const model = modelRef(body, server.serve('/a', body), {
      signature: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
    });

    await assert.rejects(
      new ModelCache(cacheOptions(dir, { trustedKeys: [key.trusted] })).fetch(model),
      rejectsWith('bad_signature'),
    );
    assert.equal(server.requests.length, 0);
  });

  it('refuses an unsigned model when signatures are required, before downloading', async (t) => {
    const { dir, server } = await setup(t);
    const key = newKey();
    const body = modelBytes(1000);
    const model = modelRef(body, server.serve('/a', body));
    const cache = new ModelCache(
      cacheOptions(dir, { trustedKeys: [key.trusted], requireSigned: true }),
    );

    await assert.rejects(cache.fetch(model), rejectsWith('unsigned'));
    assert.equal(server.requests.length, 0);
    assert.equal(cache.downloads, 0);
  });

  it('refuses an unsigned model when signatures are required, even when it is cached', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(1000);
    const model = modelRef(body, server.serve('/a', body));
    await new ModelCache(cacheOptions(dir)).fetch(model);

    await assert.rejects(
      new ModelCache(
        cacheOptions(dir, { trustedKeys: [newKey().trusted], requireSigned: true }),
      ).fetch(model),
      rejectsWith('unsigned'),
    );
  });

  it('with no trusted keys: accepts a signed model unverified, or refuses it if signatures are required', async (t) => {
    const { dir, server } = await setup(t);
    const key = newKey();
    const body = modelBytes(1000);
    const model = modelRef(body, server.serve('/a', body), {
      signature: messageSignatureBundle(body, key),
    });

    await assert.rejects(
      new ModelCache(cacheOptions(dir, { requireSigned: true })).fetch(model),
      rejectsWith('unsigned', /no trusted keys/),
    );
    assert.equal(server.requests.length, 0);
    const fetched = await new ModelCache(cacheOptions(dir, { requireSigned: false })).fetch(model);
    assert.equal(fetched.signature, null);
  });

  it('takes a cached model signed by the same bundle from the record, without reading it', async (t) => {
    const { dir, server } = await setup(t);
    const [key, other] = [newKey(), newKey()];
    const body = modelBytes(MiB);
    const model = modelRef(body, server.serve('/a', body), {
      signature: messageSignatureBundle(body, key),
    });
    const options = cacheOptions(dir, { trustedKeys: [key.trusted, other.trusted] });
    await new ModelCache(options).fetch(model);
    const cache = new ModelCache(options);
    let verifying = 0;

    const same = await cache.fetch(model, { onVerifying: () => verifying++ });
    assert.equal(same.signature, 'message_signature');
    assert.equal(verifying, 0);

    // Re-signed with another trusted key: not in the record, so the cached file is read once.
    const resigned = { ...model, signature: messageSignatureBundle(body, other) };
    const again = await cache.fetch(resigned, { onVerifying: () => verifying++ });
    assert.equal(again.signature, 'message_signature');
    assert.equal(again.downloaded, false);
    assert.equal(verifying, 1);
    assert.equal(server.requests.length, 1);
  });

  it('refuses a bad signature for a cached model and keeps the model for a good one', async (t) => {
    const { dir, server } = await setup(t);
    const [key, stranger] = [newKey(), newKey()];
    const body = modelBytes(MiB);
    const model = modelRef(body, server.serve('/a', body), {
      signature: messageSignatureBundle(body, key),
    });
    const cache = new ModelCache(cacheOptions(dir, { trustedKeys: [key.trusted] }));
    await cache.fetch(model);

    await assert.rejects(
      cache.fetch({ ...model, signature: messageSignatureBundle(body, stranger) }),
      rejectsWith('bad_signature'),
    );
    const again = await cache.fetch(model);
    assert.equal(again.downloaded, false);
    assert.equal(server.requests.length, 1);
  });

  it('does not trust a record whose key is no longer trusted', async (t) => {
    const { dir, server } = await setup(t);
    const key = newKey();
    const body = modelBytes(MiB);
    const model = modelRef(body, server.serve('/a', body), {
      signature: messageSignatureBundle(body, key),
    });
    await new ModelCache(cacheOptions(dir, { trustedKeys: [key.trusted] })).fetch(model);

    await assert.rejects(
      new ModelCache(cacheOptions(dir, { trustedKeys: [newKey().trusted] })).fetch(model),
      rejectsWith('bad_signature'),
    );
  });

  it('lets a fetch with its own valid bundle go on when a shared transfer fails on another bundle', async (t) => {
    const { dir, server } = await setup(t);
    const [key, stranger] = [newKey(), newKey()];
    const body = modelBytes(MiB);
    const url = server.serve('/a', body, { holdAfter: 100_000 });
    const cache = new ModelCache(cacheOptions(dir, { trustedKeys: [key.trusted] }));
    const bad = modelRef(body, url, { signature: messageSignatureBundle(body, stranger) });
    const good = { ...bad, signature: messageSignatureBundle(body, key) };

    const first = cache.fetch(bad);
    await until(() => server.requests.length === 1);
    const second = cache.fetch(good); // joins the transfer started for `bad`
    await new Promise((resolve) => setTimeout(resolve, 50));
    server.release();

    await assert.rejects(first, rejectsWith('bad_signature'));
    assert.equal((await second).signature, 'message_signature');
    assert.equal(cache.downloads, 2);
  });
});
