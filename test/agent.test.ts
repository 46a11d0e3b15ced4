// The edge agent against a real Aedes broker (the production factory and ACL) and a real HTTP
// server serving real ONNX models; the agent runs in this process so its counters can be read.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import {
  cohortBucket,
  deviceDesiredTopic,
  groupDesiredTopic,
  type ModelRef,
} from '@sentinel/broker';
import { Agent, type AgentConfig } from '@sentinel/edge-agent';
import {
  corruptModel,
  fastGolden,
  fastModel,
  fastModelAtOpset,
  GOLDEN_ATOL,
  goldenMismatchModel,
  slowModel,
} from './support/onnx-models.js';
import { generateSigningKey, signBufferAsBundle } from './support/signing.js';
import { agentConfig, ModelServer, serving, TestBroker } from './support/agent-fixture.js';

const golden = fastGolden();
const goldenMetadata = {
  golden: {
    input_name: golden.inputName,
    input_shape: golden.inputShape,
    input: [...golden.input],
    output_name: golden.outputName,
    output_shape: golden.outputShape,
    output: [...golden.output],
    atol: GOLDEN_ATOL,
  },
  outputs: { output: [1, 16] },
  map: 0.9,
};

describe('edge agent (in process) against a real broker and model server', () => {
  let broker: TestBroker;
  let server: ModelServer;
  let dir: string;
  const agents: Agent[] = [];
  let v1: ModelRef;
  let v2: ModelRef;
  let n = 0;
  let group: string;

  before(async () => {
    broker = new TestBroker();
    await broker.start();
    server = new ModelServer();
    await server.start();
    dir = await mkdtemp(join(tmpdir(), 'agent-'));
    v1 = server.add('det', '1.0.0', fastModel(), { metadata: goldenMetadata });
    v2 = server.add('det', '2.0.0', slowModel(), { metadata: { outputs: { output: [1, 16] } } });
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await broker.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    n += 1;
    group = `g${n}`;
  });

  function config(id: string, overrides: Record<string, string> = {}): AgentConfig {
    // The model server plays the hub: the device credential goes to its origin only.
    return agentConfig({ broker, hub: server, dir }, id, group, {
      SENTINEL_TELEMETRY_INTERVAL_S: '0.5',
      SENTINEL_DOWNLOAD_RETRIES: '1',
      ...overrides,
    });
  }

  async function startAgent(id: string, overrides: Record<string, string> = {}): Promise<Agent> {
    const agent = new Agent(config(id, overrides));
    agents.push(agent);
    await agent.start();
    return agent;
  }

  async function infer(agent: Agent): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${agent.apiUrl}/v1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { input: { dims: [1, 64], data: [...golden.input] } } }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('loads the desired model, serves it on the local API and reports active', async () => {
    // Every phase reported (no coalescing), to check their order.
    const agent = await startAgent('cam-a', { SENTINEL_STATE_COALESCE_MS: '0' });
    await broker.publishDesired({ group }, { model: v1 });
    const state = await broker.waitForState('cam-a', (s) => s.deployment?.phase === 'active');
    assert.ok(serving(state, v1));
    assert.equal(state.active_slot, 'blue');
    const { status, body } = await infer(agent);
    assert.equal(status, 200);
    const output = (body.outputs as Record<string, { data: number[] }>).output!.data;
    output.forEach((value, i) => assert.ok(Math.abs(value - golden.output[i]!) <= GOLDEN_ATOL));
    assert.equal((body.model as { version: string }).version, '1.0.0');
    // The phases it went through, in order.
    const phases = broker.states
      .get('cam-a')!
      .map((s) => s.deployment?.phase)
      .filter(Boolean);
    const order = ['notified', 'downloading', 'verifying', 'active'];
    let at = -1;
    for (const phase of order) {
      const index = phases.indexOf(phase as never, at + 1);
      assert.ok(index > at, `phase ${phase} missing or out of order in ${phases.join(',')}`);
      at = index;
    }
    assert.ok(server.requests.some((r) => r.authorization?.startsWith('Basic ')));
  });

  it('holds back the report of a passing phase that something else outruns', async () => {
    // Long enough that downloading, verifying and loading fit in it even on a slow machine.
    await startAgent('cam-coalesce', { SENTINEL_STATE_COALESCE_MS: '3000' });
    const connected = await broker.waitForState('cam-coalesce', (s) => s.online === true);
    assert.equal(connected.deployment, null);
    await broker.publishDesired({ group }, { model: v1, deployment_id: 'dep-coalesce' });
    await broker.waitForState('cam-coalesce', (s) => s.deployment?.phase === 'active');
    const phases = broker.states
      .get('cam-coalesce')!
      .filter((s) => s.deployment?.deployment_id === 'dep-coalesce')
      .map((s) => s.deployment!.phase);
    // downloading and verifying were held back, and then outrun by `active`; without coalescing
    // they are reported (the test before).
    assert.deepEqual(phases, ['notified', 'active']);
  });

  it('blue/green: stages while the old model serves, swaps on "new", rolls back without a download', async () => {
    const agent = await startAgent('cam-b');
    await broker.publishDesired({ group }, { model: v1 });
    await broker.waitForState('cam-b', (s) => serving(s, v1));
    await broker.publishDesired(
      { group },
      { model: v2, previous: v1, activate: 'previous', deployment_id: 'dep-2' },
    );
    const staged = await broker.waitForState('cam-b', (s) => s.deployment?.phase === 'staged');
    assert.ok(serving(staged, v1), 'v1 still serves while v2 is staged');
    assert.equal(((await infer(agent)).body.model as { version: string }).version, '1.0.0');

    await broker.publishDesired(
      { group },
      { model: v2, previous: v1, activate: 'new', deployment_id: 'dep-2' },
    );
    const active = await broker.waitForState('cam-b', (s) => s.deployment?.phase === 'active');
    assert.ok(serving(active, v2));
    assert.equal(((await infer(agent)).body.model as { version: string }).version, '2.0.0');

    const downloads = agent.status().downloads;
    await broker.publishDesired(
      { group },
      { model: v2, previous: v1, activate: 'previous', deployment_id: 'dep-2' },
    );
    const back = await broker.waitForState('cam-b', (s) => serving(s, v1));
    assert.equal(back.deployment?.phase, 'rolled_back');
    assert.equal(agent.status().downloads, downloads, 'the rollback downloaded nothing');
    assert.equal(((await infer(agent)).body.model as { version: string }).version, '1.0.0');
  });

  for (const [label, make, reason] of [
    [
      'a hash mismatch',
      () => server.add('det', '3.0.0', fastModel(), { sha256: 'ab'.repeat(32) }),
      'hash_mismatch',
    ],
    ['a corrupt ONNX file', () => server.add('det', '3.0.1', corruptModel()), 'load_error'],
    [
      'an opset newer than its onnxruntime loads',
      () => server.add('det', '3.0.4', fastModelAtOpset(99)),
      'incompatible',
    ],
    [
      'outputs that miss the golden ones',
      () => server.add('det', '3.0.2', goldenMismatchModel(), { metadata: goldenMetadata }),
      'health_check',
    ],
    [
      'a declared output shape the model does not have',
      () =>
        server.add('det', '3.0.3', goldenMismatchModel(), {
          metadata: { outputs: { output: [1, 17] } },
        }),
      'health_check',
    ],
  ] as const) {
    it(`refuses ${label} with reason ${reason} and keeps serving the current model`, async () => {
      const agent = await startAgent(`cam-${reason}-${n}`);
      const id = `cam-${reason}-${n}`;
      await broker.publishDesired({ group }, { model: v1 });
      await broker.waitForState(id, (s) => serving(s, v1));
      const bad = make();
      await broker.publishDesired(
        { group },
        { model: bad, previous: v1, deployment_id: `bad-${n}` },
      );
      const failed = await broker.waitForState(id, (s) => s.deployment?.phase === 'failed');
      assert.equal(failed.deployment?.reason, reason);
      assert.ok(failed.deployment?.detail, 'a one-line detail');
      assert.ok(serving(failed, v1));
      assert.equal((await infer(agent)).status, 200);
      if (reason === 'hash_mismatch') {
        assert.equal(agent.status().errors.length > 0, true);
      }
    });
  }

  it('ignores a malformed desired state and a stale seq, and keeps serving', async () => {
    const agent = await startAgent('cam-c');
    const first = await broker.publishDesired({ group }, { model: v1 });
    await broker.waitForState('cam-c', (s) => serving(s, v1));
    await broker.publishRaw(groupDesiredTopic(group), '{"seq": "many"}');
    await broker.waitFor(() => (agent.status().invalid_messages === 1 ? true : undefined));
    // An older seq (as a late duplicate would carry) for v2 changes nothing.
    await broker.publishRaw(
      groupDesiredTopic(group),
      JSON.stringify({ ...first, seq: first.seq - 1, model: v2, previous: v1 }),
    );
    await broker.command('cam-c', 'ping');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(serving(broker.latest('cam-c')!, v1));
    assert.equal((await infer(agent)).status, 200);
  });

  it('the rollback command swaps back at once and does not re-activate the model', async () => {
    const agent = await startAgent('cam-d');
    await broker.publishDesired({ group }, { model: v1 });
    await broker.waitForState('cam-d', (s) => serving(s, v1));
    await broker.publishDesired({ group }, { model: v2, previous: v1, deployment_id: 'dep-d' });
    await broker.waitForState('cam-d', (s) => serving(s, v2));
    await broker.command('cam-d', 'rollback', 'operator says so');
    const back = await broker.waitForState('cam-d', (s) => serving(s, v1));
    assert.equal(back.deployment?.phase, 'rolled_back');
    assert.equal(back.deployment?.reason, 'manual');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(serving(broker.latest('cam-d')!, v1), 'stays on v1 although desired still says v2');
    assert.equal(((await infer(agent)).body.model as { version: string }).version, '1.0.0');
  });

  it('an error burst after a swap swaps back by itself and says why', async () => {
    const agent = await startAgent('cam-e', {
      SENTINEL_ERROR_BURST: '3',
      SENTINEL_ERROR_BURST_WINDOW_S: '60',
    });
    await broker.publishDesired({ group }, { model: v1 });
    await broker.waitForState('cam-e', (s) => serving(s, v1));
    await broker.publishDesired({ group }, { model: v2, previous: v1, deployment_id: 'dep-e' });
    await broker.waitForState('cam-e', (s) => serving(s, v2));
    // The application's inferences start failing on the new model (here: inputs it rejects).
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${agent.apiUrl}/v1/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          inputs: { wrong_name: { dims: [1, 64], data: new Array(64).fill(0) } },
        }),
      });
      assert.equal(response.status, 422);
    }
    const back = await broker.waitForState('cam-e', (s) => serving(s, v1));
    assert.equal(back.deployment?.phase, 'rolled_back');
    assert.equal(back.deployment?.reason, 'error_burst');
  });

  it('canary: only the cohort device takes the new model', async () => {
    // A salt that splits cam-in and cam-out at 50 %.
    const splits = (s: string) =>
      cohortBucket(s, 'cam-in') < 5000 && cohortBucket(s, 'cam-out') >= 5000;
    let i = 0;
    while (!splits(`salt-${i}`)) i += 1;
    const salt = `salt-${i}`;
    const inside = await startAgent('cam-in');
    const outside = await startAgent('cam-out');
    await broker.publishDesired({ group }, { model: v1 });
    await broker.waitForState('cam-in', (s) => serving(s, v1));
    await broker.waitForState('cam-out', (s) => serving(s, v1));
    const before = outside.status().downloads;
    await broker.publishDesired(
      { group },
      {
        model: v2,
        previous: v1,
        strategy: 'canary',
        cohort: { percent: 50, salt },
        deployment_id: 'dep-c',
      },
    );
    const inState = await broker.waitForState('cam-in', (s) => serving(s, v2));
    assert.equal(inState.deployment?.in_cohort, true);
    const outState = await broker.waitForState(
      'cam-out',
      (s) => s.deployment?.deployment_id === 'dep-c',
    );
    assert.ok(serving(outState, v1));
    assert.equal(outState.deployment?.in_cohort, false);
    assert.equal(outside.status().downloads, before);
    assert.ok(inside.status().downloads >= 1);
  });

  it('a device override wins over the group; clearing it returns to the group state', async () => {
    await startAgent('cam-f');
    await broker.publishDesired({ group }, { model: v1 });
    await broker.waitForState('cam-f', (s) => serving(s, v1));
    await broker.publishDesired(
      { device: 'cam-f' },
      { model: v2, previous: v1, strategy: 'pinned', deployment_id: null },
    );
    await broker.waitForState('cam-f', (s) => serving(s, v2));
    await broker.publishRaw(deviceDesiredTopic('cam-f'), '');
    await broker.waitForState('cam-f', (s) => serving(s, v1));
  });

  it('requires a valid signature from its own trusted keys when configured to', async () => {
    const signer = generateSigningKey('ecdsa-p256');
    const stranger = generateSigningKey('ecdsa-p256');
    const bytes = fastModel();
    const signed = server.add('det', '4.0.0', bytes, {
      signature: await signBufferAsBundle(bytes, signer),
    });
    const foreign = server.add('det', '4.0.1', bytes, {
      signature: await signBufferAsBundle(bytes, stranger),
    });
    const unsigned = server.add('det', '4.0.2', bytes);
    const agent = await startAgent('cam-g', {
      SENTINEL_TRUSTED_KEYS: signer.publicKeyPem,
      SENTINEL_REQUIRE_SIGNED: 'true',
    });
    for (const [model, reason] of [
      [unsigned, 'unsigned'],
      [foreign, 'bad_signature'],
    ] as const) {
      await broker.publishDesired({ group }, { model, deployment_id: `sig-${reason}` });
      const failed = await broker.waitForState(
        'cam-g',
        (s) => s.deployment?.deployment_id === `sig-${reason}` && s.deployment.phase === 'failed',
      );
      assert.equal(failed.deployment?.reason, reason);
      assert.equal(failed.active_slot, null);
    }
    await broker.publishDesired({ group }, { model: signed, deployment_id: 'sig-ok' });
    await broker.waitForState('cam-g', (s) => serving(s, signed));
    assert.equal((await infer(agent)).status, 200);
  });

  it('survives the model server being down and recovers on the next desired state', async () => {
    await startAgent('cam-h');
    await broker.publishDesired({ group }, { model: v1 });
    await broker.waitForState('cam-h', (s) => serving(s, v1));
    // Other bytes than v1's (same bytes would be the same model, already serving).
    const v3 = server.add('det', '5.0.0', goldenMismatchModel());
    server.failWith = 503;
    try {
      await broker.publishDesired({ group }, { model: v3, previous: v1, deployment_id: 'dep-h' });
      const failed = await broker.waitForState(
        'cam-h',
        (s) => s.deployment?.phase === 'failed',
        60_000,
      );
      assert.equal(failed.deployment?.reason, 'download_failed');
      assert.ok(serving(failed, v1));
    } finally {
      server.failWith = null;
    }
    await broker.publishDesired({ group }, { model: v3, previous: v1, deployment_id: 'dep-h' });
    await broker.waitForState('cam-h', (s) => s.deployment?.phase === 'active');
  });

  it('simulation mode produces telemetry with real measurements and a golden quality score', async () => {
    await startAgent('cam-i', { SENTINEL_SIMULATE_FPS: '200' });
    await broker.publishDesired({ group }, { model: v1 });
    await broker.waitForState('cam-i', (s) => serving(s, v1));
    const window = await broker.waitFor(() =>
      broker.telemetry.find((t) => t.device_id === 'cam-i' && t.frames > 10),
    );
    assert.equal(window.model_version, '1.0.0');
    assert.equal(window.slot, 'blue');
    assert.ok(
      window.fps > 0 && window.latency_ms.p50 > 0 && window.latency_ms.p95 >= window.latency_ms.p50,
    );
    assert.ok(window.memory_mb > 0);
    assert.equal(window.map, 0.9, 'the declared mAP, since every golden frame matched');
  });

  it('keeps every inference answered across 20 swaps under load', async () => {
    const agent = await startAgent('cam-j');
    await broker.publishDesired({ group }, { model: v1 });
    await broker.waitForState('cam-j', (s) => serving(s, v1));
    await broker.publishDesired(
      { group },
      { model: v2, previous: v1, activate: 'previous', deployment_id: 'dep-j' },
    );
    await broker.waitForState('cam-j', (s) => s.deployment?.phase === 'staged');

    const feeds = { input: new ort.Tensor('float32', Float32Array.from(golden.input), [1, 64]) };
    let running = true;
    let ok = 0;
    const failures: string[] = [];
    const versions = new Set<string>();
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          const result = await agent.infer(feeds);
          versions.add(result.model.version);
          ok += 1;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    });
    const swapsBefore = agent.status().swaps;
    for (let i = 0; i < 20; i++) {
      const activate = i % 2 === 0 ? 'new' : 'previous';
      await broker.publishDesired(
        { group },
        { model: v2, previous: v1, activate, deployment_id: 'dep-j' },
      );
      const want = activate === 'new' ? v2 : v1;
      await broker.waitForState('cam-j', (s) => serving(s, want));
      await new Promise((r) => setTimeout(r, 20));
    }
    running = false;
    await Promise.all(loops);
    assert.equal(agent.status().swaps - swapsBefore, 20);
    assert.deepEqual(failures, []);
    assert.ok(ok > 100, `only ${ok} inferences ran`);
    assert.deepEqual([...versions].sort(), ['1.0.0', '2.0.0']);
    assert.equal(agent.status().inference_errors, 0);
  });
});
