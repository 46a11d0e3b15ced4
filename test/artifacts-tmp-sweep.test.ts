import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { spawnHub, type HubProcess } from './support/hub.js';
import { fastModel } from './support/onnx-models.js';

// A hub killed mid-upload leaves its partial file in DATA_DIR/artifacts/tmp; the next start
// removes it (files not written for 15 minutes), and leaves a fresh one alone (a live upload).

const BOUNDARY = 'sweep-boundary';

/** Starts a push and sends the fields and the first bytes of the file, then keeps the body open. */
function startPush(hub: HubProcess): void {
  const req = request(`${hub.url}/api/v1/models`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${hub.adminToken}`,
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'transfer-encoding': 'chunked',
    },
  });
  req.on('error', () => undefined); // the hub is killed under it
  const fields = { name: 'crashed', version: '1.0.0', model_type: 'x', framework: 'onnx' };
  let head = '';
  for (const [key, value] of Object.entries(fields))
    head += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`;
  head += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="m.onnx"\r\n`;
  head += 'Content-Type: application/octet-stream\r\n\r\n';
  req.write(head);
  req.write(Buffer.concat([fastModel(), Buffer.alloc(256 * 1024)]));
}

describe('temporary files of uploads cut by a crash', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-sweep-'));
  const tmp = join(dataDir, 'artifacts', 'tmp');
  let hub: HubProcess | undefined;
  after(async () => {
    await hub?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('are removed at the next start once stale; a fresh one is left', async () => {
    hub = await spawnHub({ DATA_DIR: dataDir });
    startPush(hub);
    while (readdirSync(tmp).length === 0) await sleep(20);
    await hub.kill();
    const [partial] = readdirSync(tmp);
    assert.ok(partial);

    // As if the crash were 16 minutes ago; and a file another hub on this folder writes right now.
    const past = new Date(Date.now() - 16 * 60_000);
    utimesSync(join(tmp, partial), past, past);
    writeFileSync(join(tmp, 'live-upload'), 'x');

    hub = await spawnHub({ DATA_DIR: dataDir });
    assert.deepEqual(readdirSync(tmp), ['live-upload']);
    const health = await fetch(`${hub.url}/health`);
    assert.equal(health.status, 200, await health.text());
  });
});
