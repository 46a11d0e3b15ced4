// The serving gauge that shadow runs wait for: served inferences (Slots.run) count in it while
// they are in flight, failed ones too; a candidate's runs on the standby slot (runOn) do not. A
// real onnxruntime session of a test model.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { SessionPool, Slots } from '@sentinel/edge-agent';
import { fastGolden, fastModel } from './support/onnx-models.js';

describe('edge agent: serving gauge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-gauge-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('counts served inferences while in flight and once finished, not shadow runs', async () => {
    const path = join(dir, 'fast.onnx');
    writeFileSync(path, fastModel());
    const pool = new SessionPool({ intraOpThreads: 1 });
    const slots = new Slots(pool);
    const model = {
      id: '00000000-0000-4000-8000-000000000001',
      name: 'det',
      version: '1.0.0',
      sha256: 'a'.repeat(64),
      size: 1,
      url: 'http://127.0.0.1/x',
      signature: null,
    };
    slots.install('blue', model, await pool.acquire(model.sha256, path));
    slots.activate('blue');
    const feeds = {
      input: new ort.Tensor('float32', Float32Array.from(fastGolden().input), [1, 64]),
    };
    const gauge = pool.serving;
    let seen = 0;
    const stop = gauge.subscribe(() => (seen += 1));

    const served = slots.run(feeds);
    assert.equal(gauge.busy, true, 'in flight');
    await served;
    assert.equal(gauge.busy, false);
    assert.equal(gauge.served, 1);

    await slots.runOn('blue', feeds); // as a shadow run would
    assert.equal(gauge.served, 1, 'a run on a given slot is not a served one');

    const bad = { input: new ort.Tensor('float32', new Float32Array(3), [1, 3]) };
    await assert.rejects(slots.run(bad));
    assert.equal(gauge.busy, false, 'a failed inference leaves too');
    assert.equal(gauge.served, 2);
    assert.equal(seen, 2, 'listeners hear every served inference');
    stop();
    slots.close();
  });
});
