import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';
import {
  attestDigestAsDsseBundle,
  generateSigningKey,
  signBufferAsBundle,
} from './support/signing.js';

type Model = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const trusted = generateSigningKey();
const stranger = generateSigningKey();
const model = fastModel();
const sha256 = createHash('sha256').update(model).digest('hex');

describe('signed pushes (signatures optional)', () => {
  let hub: InProcessHub;
  before(async () => {
    hub = await startHub({ TRUSTED_KEYS: trusted.publicKeyPem });
  });
  after(() => hub?.stop());

  it('accepts a valid bundle, records the signer and keeps the bundle for devices', async () => {
    const response = await pushModel(
      hub,
      model,
      { name: 'signed', version: '1.0.0' },
      { signature: await signBufferAsBundle(model, trusted) },
    );
    assert.equal(response.status, 201, await response.clone().text());
    const body: Model = await json(response);
    assert.equal(body.signature.key_hint, trusted.hint);
    assert.equal(body.signature.kind, 'message_signature');
    const rows: { signature_bundle: Model }[] = await hub.app
      .get((await import('typeorm')).DataSource)
      .query('SELECT signature_bundle FROM model_versions WHERE id = $1', [body.id]);
    assert.equal(rows[0].signature_bundle.messageSignature.messageDigest.algorithm, 'SHA2_256');
  });

  it('accepts a DSSE attestation naming the model digest', async () => {
    const bundle = await attestDigestAsDsseBundle(sha256, 'model.onnx', trusted);
    const response = await pushModel(
      hub,
      model,
      { name: 'signed', version: '1.1.0' },
      { signature: bundle },
    );
    assert.equal(response.status, 201, await response.clone().text());
    assert.equal((await json<Model>(response)).signature.kind, 'dsse');
  });

  it('accepts an unsigned push and says so', async () => {
    const response = await pushModel(hub, model, { name: 'signed', version: '1.2.0' });
    assert.equal(response.status, 201);
    assert.equal((await json<Model>(response)).signature, null);
  });

  const invalid: [string, () => Promise<string> | string, RegExp][] = [
    [
      'a bundle from an untrusted key',
      () => signBufferAsBundle(model, stranger),
      /does not verify/,
    ],
    [
      'a bundle over other bytes',
      () => signBufferAsBundle(slowModel(), trusted),
      /different artifact/,
    ],
    [
      'an attestation for another digest',
      () => attestDigestAsDsseBundle('0'.repeat(64), 'x', trusted),
      /different artifact/,
    ],
    ['a file that is not JSON', () => 'not json', /not valid JSON/],
    ['JSON that is not a bundle', () => '{"hello": "world"}', /not a Sigstore bundle|media type/i],
  ];
  for (const [what, bundle, message] of invalid) {
    it(`refuses ${what} with 400 and stores nothing`, async () => {
      const response = await pushModel(
        hub,
        model,
        { name: 'bad-signature', version: '1.0.0' },
        { signature: await bundle() },
      );
      assert.equal(response.status, 400);
      const body: Model = await json(response);
      assert.equal(body.error, 'INVALID_SIGNATURE');
      assert.match(body.message, message);
      assert.deepEqual(
        (await json<Model>(await api(hub)('/api/v1/models?name=bad-signature'))).items,
        [],
      );
    });
  }
});

describe('REQUIRE_SIGNED_MODELS=true', () => {
  let hub: InProcessHub;
  before(async () => {
    hub = await startHub({ TRUSTED_KEYS: trusted.publicKeyPem, REQUIRE_SIGNED_MODELS: 'true' });
  });
  after(() => hub?.stop());

  it('refuses an unsigned push with 400', async () => {
    const response = await pushModel(hub, model, { name: 'strict', version: '1.0.0' });
    assert.equal(response.status, 400);
    const body: Model = await json(response);
    assert.equal(body.error, 'SIGNATURE_REQUIRED');
    assert.match(body.message, /requires signed models/);
  });

  it('accepts a signed push', async () => {
    const response = await pushModel(
      hub,
      model,
      { name: 'strict', version: '1.0.0' },
      { signature: await signBufferAsBundle(model, trusted) },
    );
    assert.equal(response.status, 201);
  });
});
