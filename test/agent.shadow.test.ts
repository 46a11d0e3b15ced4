// Shadow verification on the device: an in-process agent against a real broker and real ONNX
// models. While the new model waits in the standby slot and the desired state asks for shadow, the
// agent runs it on a sample of the inputs it serves, answers only with the serving model, and
// reports the comparison in its telemetry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelRef, Telemetry } from '@sentinel/broker';
import { Agent } from '@sentinel/edge-agent';
import {
  fastGolden,
  fastModel,
  fastTwinModel,
  goldenMismatchModel,
} from './support/onnx-models.js';
import { agentConfig, ModelServer, serving, TestBroker } from './support/agent-fixture.js';

const golden = fastGolden();

describe('shadow verification in the agent', () => {
  let broker: TestBroker;
  let server: ModelServer;
  let dir: string;
  let agent: Agent;
  let v1: ModelRef;
  let twin: ModelRef;
  let mismatch: ModelRef;

  const infer = async () => {
    const response = await fetch(`${agent.apiUrl}/v1/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { input: { dims: [1, 64], data: [...golden.input] } } }),
    });
    assert.equal(response.status, 200);
    return ((await response.json()) as { model: { version: string } }).model.version;
  };
  /** The next telemetry window of the deployment's shadow with at least `samples` runs. */
  const shadowWindow = async (deployment: string, samples: number) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = broker.telemetry.find(
        (t) => t.shadow?.deployment_id === deployment && t.shadow.samples >= samples,
      );
      if (found) return found as Telemetry & { shadow: NonNullable<Telemetry['shadow']> };
      if (Date.now() > deadline) throw new Error(`no shadow window for ${deployment}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  before(async () => {
    broker = new TestBroker();
    await broker.start();
    server = new ModelServer();
    await server.start();
    dir = await mkdtemp(join(tmpdir(), 'agent-shadow-'));
    const outputs = { outputs: { output: [1, 16] } };
    v1 = server.add('det', '1.0.0', fastModel(), { metadata: outputs });
    twin = server.add('det', '1.0.1', fastTwinModel(), { metadata: outputs });
    mismatch = server.add('det', '2.0.0', goldenMismatchModel(), {
      metadata: { ...outputs, shadow: { compare: 'top1' } },
    });
    agent = new Agent(
      agentConfig({ broker, hub: server, dir }, 'cam-s', 'yard', {
        SENTINEL_TELEMETRY_INTERVAL_S: '0.5',
      }),
    );
    await agent.start();
    await broker.publishDesired({ group: 'yard' }, { model: v1 });
    await broker.waitForState('cam-s', (s) => serving(s, v1));
  });
  after(async () => {
    await agent?.stop();
    await broker?.stop();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a faithful candidate agrees fully; the application is answered by the serving model only', async () => {
    await broker.publishDesired(
      { group: 'yard' },
      {
        deployment_id: 'dep-twin',
        model: twin,
        previous: v1,
        activate: 'previous',
        shadow: { sample_rate: 1, queue: 64 },
      },
    );
    await broker.waitForState('cam-s', (s) => s.deployment?.phase === 'staged');
    for (let i = 0; i < 20; i += 1) assert.equal(await infer(), '1.0.0');
    const { shadow } = await shadowWindow('dep-twin', 1);
    assert.equal(shadow.model_version, '1.0.1');
    assert.equal(shadow.comparison, 'cosine');
    assert.equal(shadow.agreement, 1);
    assert.equal(shadow.errors, 0);
    assert.ok(shadow.latency_ms && shadow.active_latency_ms, 'both latencies on the same inputs');
  });

  it('a candidate whose outputs differ is measured as disagreeing (top-1, as its metadata asks)', async () => {
    await broker.publishDesired(
      { group: 'yard' },
      {
        deployment_id: 'dep-mismatch',
        model: mismatch,
        previous: v1,
        activate: 'previous',
        shadow: { sample_rate: 1, queue: 64 },
      },
    );
    await broker.waitForState(
      'cam-s',
      (s) => s.deployment?.deployment_id === 'dep-mismatch' && s.deployment.phase === 'staged',
    );
    for (let i = 0; i < 20; i += 1) assert.equal(await infer(), '1.0.0');
    const { shadow } = await shadowWindow('dep-mismatch', 1);
    assert.equal(shadow.comparison, 'top1');
    assert.equal(shadow.agreement, 0, 'another best class on the golden input');
  });

  it('stops shadowing at the cutover: the new model serves and no shadow block follows', async () => {
    await broker.publishDesired(
      { group: 'yard' },
      { deployment_id: 'dep-mismatch', model: mismatch, previous: v1, activate: 'new' },
    );
    await broker.waitForState('cam-s', (s) => serving(s, mismatch));
    const seen = broker.telemetry.length;
    for (let i = 0; i < 5; i += 1) assert.equal(await infer(), '2.0.0');
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.ok(broker.telemetry.length > seen, 'telemetry goes on');
    assert.ok(broker.telemetry.slice(seen).every((t) => t.shadow === undefined));
  });
});
