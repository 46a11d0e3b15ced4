import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnHub, type HubProcess } from './support/hub.js';
import { fastModel, writeLargeOnnxModel } from './support/onnx-models.js';
import { pushModel } from './support/push.js';
import { peakRssDuring, rssOf } from './support/rss.js';

const SIZE = 200 * 1024 * 1024;
const MIB = 1024 * 1024;

describe('streaming upload', () => {
  let hub: HubProcess;
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-big-'));
  const file = join(dir, 'big.onnx');

  before(async () => {
    await writeLargeOnnxModel(file, SIZE);
    hub = await spawnHub();
    // warm the upload path once so lazy initialisation does not count as growth
    assert.equal(
      (await pushModel(hub, fastModel(), { name: 'warmup', version: '1.0.0' })).status,
      201,
    );
  });
  after(async () => {
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pushes a 200 MB model while the hub grows by less than 50 MB', async () => {
    const baseline = rssOf(hub.child.pid!);
    const { result, peak } = await peakRssDuring(hub.child.pid!, async () => {
      const response = await pushModel(hub, { path: file }, { name: 'big', version: '1.0.0' });
      return {
        status: response.status,
        body: (await response.json()) as { size: number; sha256: string },
      };
    });
    assert.equal(result.status, 201, JSON.stringify(result.body));
    assert.equal(result.body.size, SIZE);
    const growth = peak - baseline;
    console.log(
      `hub RSS: baseline ${(baseline / MIB).toFixed(0)} MiB, peak ${(peak / MIB).toFixed(0)} MiB, growth ${(growth / MIB).toFixed(1)} MiB`,
    );
    assert.ok(growth < 50 * MIB, `RSS grew by ${(growth / MIB).toFixed(1)} MiB`);
  });
});
