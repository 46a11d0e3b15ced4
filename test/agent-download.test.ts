// The agent's ModelCache against the real hub (in process, embedded database): real ONNX models
// pushed with Sigstore bundles from the project's signing helpers, the ModelRef the hub publishes
// when a group is pinned, the device credential, and a transfer cut halfway by a TCP relay so the
// resume goes through the hub's own Range/If-Range handling.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ModelRef } from '@sentinel/broker';
import { parseTrustedKeys } from '@sentinel/broker/signing';
import { AgentError, ModelCache, type ModelCacheOptions } from '@sentinel/edge-agent';
import {
  createDevice,
  createGroup,
  pinGroup,
  type DeviceCredentialsResponse,
} from './support/fleet.js';
import { startHub, type InProcessHub } from './support/hub.js';
import {
  fastModel,
  goldenMismatchModel,
  slowModel,
  writeLargeOnnxModel,
} from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';
import {
  attestDigestAsDsseBundle,
  generateSigningKey,
  signBufferAsBundle,
  signFileAsBundle,
} from './support/signing.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * A TCP relay in front of the hub that counts the bytes coming back and can cut the first
 * connection after `cutAfter` of them.
 */
class Relay {
  bytesDown = 0;
  connections = 0;
  cutAfter?: number;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly target: number) {
    this.server = createServer((client) => {
      const index = this.connections++;
      const upstream = connect(this.target, '127.0.0.1');
      let relayed = 0;
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        const cut = index === 0 ? this.cutAfter : undefined;
        const room = cut === undefined ? chunk.length : Math.max(0, cut - relayed);
        const piece = chunk.subarray(0, room);
        relayed += piece.length;
        this.bytesDown += piece.length;
        if (piece.length > 0) client.write(piece);
        if (cut !== undefined && relayed >= cut) {
          client.end(() => client.destroy());
          upstream.destroy();
        }
      });
      upstream.on('end', () => client.end());
      client.on('close', () => upstream.destroy());
    });
  }

  async start(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await once(this.server, 'close');
  }
}

describe('ModelCache against the hub', () => {
  const signer = generateSigningKey('ecdsa-p256');
  const stranger = generateSigningKey('ecdsa-p256');
  let hub: InProcessHub;
  let device: DeviceCredentialsResponse;
  let work: string;
  let large: { path: string; bytes: Buffer };
  const refs: Record<string, ModelRef> = {};

  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const options = (overrides: Partial<ModelCacheOptions> = {}): ModelCacheOptions => ({
    dir: join(work, `cache-${Math.random().toString(36).slice(2)}`),
    authorization: basic(device.credentials.username, device.credentials.password),
    credentialOrigins: [new URL(hub.url).origin],
    trustedKeys: parseTrustedKeys(signer.publicKeyPem),
    requireSigned: true,
    retries: 3,
    minBackoffMs: 1,
    maxBackoffMs: 10,
    stallTimeoutMs: 10_000,
    ...overrides,
  });

  /** Pushes a model, pins it on the group, and keeps the ModelRef the hub published. */
  async function publish(
    name: string,
    file: Buffer | { path: string },
    signature?: string,
  ): Promise<ModelRef> {
    const pushed = await pushModel(
      hub,
      Buffer.isBuffer(file) ? new Uint8Array(file) : file,
      { name, version: '1.0.0' },
      { signature },
    );
    assert.equal(pushed.status, 201, await pushed.clone().text());
    const { id } = await json<{ id: string }>(pushed);
    const desired = await pinGroup(hub, 'yard', id);
    return desired.model as ModelRef;
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'sentinel-agent-download-'));
    hub = await startHub({ TRUSTED_KEYS: signer.publicKeyPem, LOG_LEVEL: 'error' });
    await createGroup(hub, 'yard');
    device = await createDevice(hub, 'cam-1', 'yard');

    const fast = fastModel();
    refs.fast = await publish('fast', fast, await signBufferAsBundle(fast, signer));
    const slow = slowModel();
    refs.slow = await publish(
      'slow',
      slow,
      await attestDigestAsDsseBundle(sha256(slow), 'slow.onnx', signer),
    );
    const path = join(work, 'large.onnx');
    await writeLargeOnnxModel(path, 8 * MiB);
    large = { path, bytes: await readFile(path) };
    refs.large = await publish('large', { path }, await signFileAsBundle(path, signer));
    refs.unsigned = await publish('unsigned', goldenMismatchModel());
  });
  after(async () => {
    await hub?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('downloads a message-signed ONNX model with the device credential and verifies it', async () => {
    const cache = new ModelCache(options());

    const fetched = await cache.fetch(refs.fast);

    assert.equal(fetched.signature, 'message_signature');
    assert.deepEqual(await readFile(fetched.path), fastModel());
    assert.match(refs.fast.url, /\/api\/v1\/models\/[0-9a-f-]+\/artifact$/);
  });

  it('verifies a DSSE attestation of the model published by the hub', async () => {
    const fetched = await new ModelCache(options()).fetch(refs.slow);

    assert.equal(fetched.signature, 'dsse');
    assert.deepEqual(await readFile(fetched.path), slowModel());
  });

  it('resumes through the hub with Range/If-Range after the connection is cut halfway', async () => {
    const relay = new Relay(Number(new URL(hub.url).port));
    const port = await relay.start();
    try {
      relay.cutAfter = 4 * MiB;
      const ref = { ...refs.large, url: refs.large.url.replace(/:\d+\//, `:${port}/`) };

      // The device knows the hub by the relay's address: that origin gets the credential.
      const viaRelay = options({ credentialOrigins: [new URL(ref.url).origin] });
      const fetched = await new ModelCache(viaRelay).fetch(ref);

      assert.equal(fetched.signature, 'message_signature');
      assert.ok((await readFile(fetched.path)).equals(large.bytes));
      assert.equal(relay.connections, 2);
      // Headers aside, the model crossed the relay about once: no second full download.
      assert.ok(relay.bytesDown < large.bytes.length + 64 * 1024, `${relay.bytesDown} bytes`);
    } finally {
      await relay.close();
    }
  });

  it('resumes a .part left by an earlier agent process from the hub', async () => {
    const opts = options();
    await mkdir(opts.dir, { recursive: true });
    await writeFile(join(opts.dir, `${refs.large.sha256}.part`), large.bytes.subarray(0, 3 * MiB));
    const progress: number[] = [];

    const fetched = await new ModelCache(opts).fetch(refs.large, {
      onDownloading: (p) => progress.push(p.bytes),
    });

    assert.ok((await readFile(fetched.path)).equals(large.bytes));
    assert.equal(progress[0], 3 * MiB);
    assert.deepEqual(await readdir(opts.dir), [
      `${refs.large.sha256}.onnx`,
      `${refs.large.sha256}.sig.json`,
    ]);
  });

  it('refuses a model signed by a key the agent does not trust, though the hub accepted it', async () => {
    const cache = new ModelCache(options({ trustedKeys: parseTrustedKeys(stranger.publicKeyPem) }));

    await assert.rejects(
      cache.fetch(refs.fast),
      (error: unknown) => error instanceof AgentError && error.reason === 'bad_signature',
    );
  });

  it('refuses an unsigned model when signatures are required, without downloading', async () => {
    const cache = new ModelCache(options());

    await assert.rejects(
      cache.fetch(refs.unsigned),
      (error: unknown) => error instanceof AgentError && error.reason === 'unsigned',
    );
    assert.equal(cache.downloads, 0);
  });

  it('fails with download_failed when the hub refuses the credential (401)', async () => {
    const cache = new ModelCache(
      options({ authorization: basic(device.credentials.username, 'wrong'), retries: 5 }),
    );

    await assert.rejects(
      cache.fetch(refs.fast),
      (error: unknown) =>
        error instanceof AgentError &&
        error.reason === 'download_failed' &&
        /HTTP 401/.test(error.message),
    );
  });
});
