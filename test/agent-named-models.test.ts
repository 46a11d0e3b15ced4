// Issue 16 item 5: one agent serving two models, `default` and `classifier` (docs/protocol.md 6.6),
// against a real Aedes broker (the production factory and ACL) and real ONNX models. Each has its
// own desired topics, blue/green slots, telemetry windows and rollbacks; one never touches the
// other's slots; a restart restores both.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import {
  deviceCommandsTopic,
  deviceDesiredTopic,
  encodeMessage,
  groupDesiredTopic,
  type DesiredState,
  type DeviceState,
  type ModelRef,
} from '@sentinel/broker';
import { Agent, type AgentConfig } from '@sentinel/edge-agent';
import {
  fastGolden,
  fastModel,
  fastTwinModel,
  goldenMismatchModel,
} from './support/onnx-models.js';
import { agentConfig, ModelServer, serving, TestBroker } from './support/agent-fixture.js';

const golden = fastGolden();
const outputs = { outputs: { output: [1, 16] } };

/** An answer of the local API (an inference, or an error). */
interface ApiAnswer {
  error?: string;
  model: { name: string; version: string };
  outputs: { output: { data: number[] } };
}

/** Whether the named model `name` serves `model` in the device's state. */
function servingAs(state: DeviceState, name: string, model: ModelRef): boolean {
  const unit = state.models?.[name];
  const slot = unit?.active_slot;
  return !!slot && unit.slots[slot]?.sha256 === model.sha256;
}

describe('edge agent with several named models', () => {
  let broker: TestBroker;
  let server: ModelServer;
  let dir: string;
  let agent: Agent;
  let config: AgentConfig;
  let v1: ModelRef;
  let v2: ModelRef;
  let c1: ModelRef;
  let c2: ModelRef;
  let seq = 1000;
  const group = 'line-1';
  const id = 'cam-named';

  /** A retained desired state on the group's topic of model `name` (`default`: the plain one). */
  async function publishDesired(
    name: string,
    fields: Partial<DesiredState> & Pick<DesiredState, 'model' | 'deployment_id'>,
    topic = groupDesiredTopic(group, name),
  ): Promise<void> {
    seq += 1;
    const desired: DesiredState = {
      seq,
      strategy: 'blue-green',
      previous: null,
      activate: 'new',
      cohort: null,
      issued_at: new Date().toISOString(),
      ...fields,
    };
    await broker.broker.publish(topic, encodeMessage('desired-state', desired), {
      qos: 1,
      retain: true,
    });
  }

  async function rollback(serveAs?: string): Promise<void> {
    const command = {
      command: 'rollback' as const,
      id: randomUUID(),
      issued_at: new Date().toISOString(),
      reason: 'test rollback',
      ...(serveAs ? { serve_as: serveAs } : {}),
    };
    await broker.broker.publish(deviceCommandsTopic(id), encodeMessage('command', command), {
      qos: 1,
      retain: false,
    });
  }

  async function post(path: string, body: unknown): Promise<{ status: number; body: ApiAnswer }> {
    const response = await fetch(`${agent.apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as ApiAnswer };
  }

  const input = { inputs: { input: { dims: [1, 64], data: [...golden.input] } } };

  async function startAgent(): Promise<Agent> {
    agent = new Agent(config);
    await agent.start();
    return agent;
  }

  /** Another agent on this broker, its own device in `deviceGroup`; the caller stops it. */
  async function startOther(
    device: string,
    deviceGroup: string,
    overrides: Record<string, string> = {},
  ): Promise<Agent> {
    const other = new Agent(
      agentConfig({ broker, hub: server, dir }, device, deviceGroup, overrides),
    );
    await other.start();
    return other;
  }

  before(async () => {
    broker = new TestBroker();
    await broker.start();
    server = new ModelServer();
    await server.start();
    dir = await mkdtemp(join(tmpdir(), 'agent-named-'));
    v1 = server.add('det', '1.0.0', fastModel(), { metadata: outputs });
    v2 = server.add('det', '2.0.0', fastTwinModel(), { metadata: outputs });
    // Other weights than the detector's: its answers tell the two sessions apart.
    c1 = server.add('cls', '1.0.0', goldenMismatchModel(), { metadata: outputs });
    c2 = server.add('cls', '2.0.0', fastTwinModel(), { metadata: outputs });
    config = agentConfig({ broker, hub: server, dir }, id, group, {
      SENTINEL_TELEMETRY_INTERVAL_S: '0.5',
      SENTINEL_DOWNLOAD_RETRIES: '1',
    });
  });
  after(async () => {
    await agent?.stop();
    await broker.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the default and the classifier desired states into separate slot pairs', async () => {
    await startAgent();
    await publishDesired('default', { model: v1, deployment_id: 'dep-d1' });
    await publishDesired('classifier', { model: c1, deployment_id: 'dep-c1' });
    const state = await broker.waitForState(
      id,
      (s) =>
        serving(s, v1) &&
        servingAs(s, 'classifier', c1) &&
        s.deployment?.phase === 'active' &&
        s.models?.classifier?.deployment?.phase === 'active',
    );
    assert.deepEqual(state.errors, [], 'the broker granted the named-model subscriptions');
    assert.equal(state.active_slot, 'blue');
    assert.deepEqual(state.slots?.green, null);
    assert.equal(state.deployment?.deployment_id, 'dep-d1');
    assert.deepEqual(Object.keys(state.models ?? {}), ['classifier']);
    const classifier = state.models!.classifier!;
    assert.equal(classifier.active_slot, 'blue');
    assert.equal(classifier.slots.green, null);
    assert.equal(classifier.deployment?.deployment_id, 'dep-c1');
    // Each model on disk: default where a one-model agent kept it, the classifier in its folder.
    const top = JSON.parse(await readFile(join(dir, id, 'state.json'), 'utf8'));
    const named = JSON.parse(
      await readFile(join(dir, id, 'named', 'classifier', 'state.json'), 'utf8'),
    );
    assert.equal(top.blue.sha256, v1.sha256);
    assert.equal(named.blue.sha256, c1.sha256);
    assert.equal(named.group, null);
  });

  it('answers each model on its own route of the local API; 404 for a name it does not serve', async () => {
    const det = await post('/v1/infer', input);
    const cls = await post('/v1/models/classifier/infer', input);
    assert.equal(det.status, 200, JSON.stringify(det.body));
    assert.equal(cls.status, 200, JSON.stringify(cls.body));
    assert.deepEqual([det.body.model.name, det.body.model.version], ['det', '1.0.0']);
    assert.deepEqual([cls.body.model.name, cls.body.model.version], ['cls', '1.0.0']);
    assert.notDeepEqual(det.body.outputs.output.data, cls.body.outputs.output.data);
    const alias = await post('/v1/models/default/infer', input);
    assert.equal(alias.body.model.name, 'det');
    const unknown = await post('/v1/models/detector/infer', input);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error ?? '', /no model named "detector"/);
    assert.equal((await post('/v1/models/detector/quality', { map: 0.5 })).status, 404);
    assert.equal((await post('/v1/models/classifier/quality', { map: 0.75 })).status, 204);
    const status = agent.status();
    assert.equal(status.active_slot, 'blue');
    assert.equal(status.slots.blue?.version, '1.0.0');
    assert.equal(status.models.classifier?.active_slot, 'blue');
    assert.equal(status.models.classifier?.slots.blue?.name, 'cls');
    assert.equal(status.models.classifier?.deployment?.phase, 'active');
    assert.ok(status.inferences >= 2);
    assert.equal(status.models.classifier?.inferences, 1);
    const overHttp = (await (await fetch(`${agent.apiUrl}/v1/status`)).json()) as {
      models: Record<string, { active_slot: string }>;
    };
    assert.deepEqual(Object.keys(overHttp.models), ['classifier']);
  });

  it('sends one telemetry window per model per interval, the classifier one with serve_as', async () => {
    // The quality reported for the classifier went into the classifier's window only.
    await broker.waitFor(() =>
      broker.telemetry.some((t) => t.serve_as === 'classifier' && t.map === 0.75)
        ? true
        : undefined,
    );
    assert.ok(broker.telemetry.every((t) => t.serve_as === 'classifier' || t.map === undefined));
    const from = broker.telemetry.length;
    await broker.waitFor(() => {
      const recent = broker.telemetry.slice(from);
      return recent.filter((t) => t.serve_as === 'classifier').length >= 2 &&
        recent.filter((t) => t.serve_as === undefined).length >= 2
        ? true
        : undefined;
    });
    const recent = broker.telemetry.slice(from).filter((t) => t.device_id === id);
    const classifier = recent.filter((t) => t.serve_as === 'classifier');
    const plain = recent.filter((t) => t.serve_as === undefined);
    assert.ok(classifier.every((t) => t.model_id === c1.id && t.deployment_id === 'dep-c1'));
    assert.ok(plain.every((t) => t.model_id === v1.id && t.deployment_id === 'dep-d1'));
    assert.ok(recent.every((t) => t.serve_as === undefined || t.serve_as === 'classifier'));
    // Two models, two windows each interval (give or take the one in flight).
    assert.ok(
      Math.abs(classifier.length - plain.length) <= 1,
      `${classifier.length} vs ${plain.length}`,
    );
  });

  it('a new classifier desired state swaps the classifier only, with no inference dropped', async () => {
    const before = agent.status();
    const defaultSlots = before.slots;
    const feeds = { input: new ort.Tensor('float32', Float32Array.from(golden.input), [1, 64]) };
    let running = true;
    const failures: string[] = [];
    const seen = { default: new Set<string>(), classifier: new Set<string>() };
    const loops = (['default', 'classifier'] as const).flatMap((name) =>
      Array.from({ length: 2 }, async () => {
        while (running) {
          try {
            const result = await agent.infer(feeds, name);
            seen[name].add(`${result.model.name}@${result.model.version}`);
          } catch (error) {
            failures.push(`${name}: ${(error as Error).message}`);
          }
        }
      }),
    );
    await publishDesired('classifier', { model: c2, previous: c1, deployment_id: 'dep-c2' });
    await broker.waitForState(
      id,
      (s) =>
        servingAs(s, 'classifier', c2) &&
        s.models?.classifier?.deployment?.deployment_id === 'dep-c2',
    );
    // And back and forth on the same deployment: every swap with inferences in flight.
    for (const activate of ['previous', 'new'] as const) {
      await publishDesired('classifier', {
        model: c2,
        previous: c1,
        activate,
        deployment_id: 'dep-c2',
      });
      await broker.waitForState(id, (s) =>
        servingAs(s, 'classifier', activate === 'new' ? c2 : c1),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    running = false;
    await Promise.all(loops);
    assert.deepEqual(failures, []);
    assert.deepEqual([...seen.default], ['det@1.0.0']);
    assert.deepEqual([...seen.classifier].sort(), ['cls@1.0.0', 'cls@2.0.0']);
    const after = agent.status();
    assert.deepEqual(after.slots, defaultSlots, 'the default slots did not move');
    assert.equal(after.swaps, before.swaps);
    assert.equal(after.deployment?.deployment_id, 'dep-d1');
    assert.equal(after.models.classifier!.swaps - before.models.classifier!.swaps, 3);
    assert.equal(after.models.classifier!.slots.green?.version, '2.0.0');
    assert.equal(after.models.classifier!.slots.blue?.version, '1.0.0');
    assert.equal(after.models.classifier!.inference_errors, 0);
    assert.equal(after.inference_errors, 0);
  });

  it('a new default desired state swaps the default model only', async () => {
    const before = agent.status().models.classifier!;
    await publishDesired('default', { model: v2, previous: v1, deployment_id: 'dep-d2' });
    const state = await broker.waitForState(
      id,
      (s) =>
        serving(s, v2) &&
        s.deployment?.deployment_id === 'dep-d2' &&
        s.deployment.phase === 'active',
    );
    assert.equal(state.active_slot, 'green');
    assert.ok(servingAs(state, 'classifier', c2));
    const after = agent.status().models.classifier!;
    assert.deepEqual(after.slots, before.slots);
    assert.equal(after.swaps, before.swaps);
    assert.equal(after.deployment?.deployment_id, 'dep-c2');
    assert.equal((await post('/v1/infer', input)).body.model.version, '2.0.0');
    assert.equal((await post('/v1/models/classifier/infer', input)).body.model.version, '2.0.0');
    // v2 has the classifier's c2 bytes: the shared, content-addressed cache had it already.
    assert.equal(server.downloadsOf(v2), 0);
  });

  it('a rollback command with serve_as rolls back that model only; an unknown name does nothing', async () => {
    const before = agent.status();
    await rollback('classifier');
    const state = await broker.waitForState(
      id,
      (s) =>
        servingAs(s, 'classifier', c1) && s.models?.classifier?.deployment?.phase === 'rolled_back',
    );
    assert.equal(state.models!.classifier!.deployment?.reason, 'manual');
    assert.ok(serving(state, v2), 'the default model still serves its new version');
    assert.equal(state.deployment?.phase, 'active');
    const after = agent.status();
    assert.equal(after.swaps, before.swaps);
    assert.deepEqual(after.slots, before.slots);

    await rollback('detector');
    const refused = await broker.waitForState(id, (s) =>
      (s.errors ?? []).some((e) => /serves no model named detector/.test(e)),
    );
    assert.ok(serving(refused, v2));
    assert.ok(servingAs(refused, 'classifier', c1));
    assert.equal(agent.status().swaps, before.swaps);
  });

  it('a cleared classifier topic keeps the classifier serving; a restart restores both models', async () => {
    await broker.publishRaw(groupDesiredTopic(group, 'classifier'), Buffer.alloc(0));
    await broker.waitForState(
      id,
      (s) => s.models?.classifier !== undefined && s.models.classifier.deployment === null,
    );
    assert.equal((await post('/v1/models/classifier/infer', input)).body.model.version, '1.0.0');
    await agent.stop();

    await startAgent();
    // Restored from disk before the broker said anything: both slot pairs as they were.
    const status = agent.status();
    assert.equal(status.active_slot, 'green');
    assert.equal(status.slots.green?.version, '2.0.0');
    assert.equal(status.slots.blue?.version, '1.0.0');
    const classifier = status.models.classifier!;
    assert.equal(classifier.active_slot, 'blue');
    assert.equal(classifier.slots.blue?.version, '1.0.0');
    assert.equal(classifier.slots.green?.version, '2.0.0');
    assert.equal((await post('/v1/models/classifier/infer', input)).body.model.name, 'cls');
    assert.equal((await post('/v1/infer', input)).body.model.version, '2.0.0');
    const state = await broker.waitForState(
      id,
      (s) => s.online && serving(s, v2) && servingAs(s, 'classifier', c1),
    );
    assert.equal(state.models!.classifier!.deployment, null);
    // The rollback's refusal of c2 for dep-c2 is the classifier's, in its own state file.
    const top = JSON.parse(await readFile(join(dir, id, 'state.json'), 'utf8'));
    const named = JSON.parse(
      await readFile(join(dir, id, 'named', 'classifier', 'state.json'), 'utf8'),
    );
    assert.deepEqual(top.vetoes, []);
    assert.deepEqual(
      named.vetoes.map((v: { deployment_id: string; reason: string }) => [
        v.deployment_id,
        v.reason,
      ]),
      [['dep-c2', 'manual']],
    );
  });

  it('serves at most 8 named models (an error for the 9th); a device override wins per name', async () => {
    const many = 'cam-many';
    const manyGroup = 'line-2';
    const other = await startOther(many, manyGroup);
    try {
      const names = Array.from({ length: 9 }, (_, i) => `m${i}`);
      for (const name of names) {
        await publishDesired(
          name,
          { model: v1, deployment_id: `dep-${name}` },
          groupDesiredTopic(manyGroup, name),
        );
      }
      const state = await broker.waitForState(
        many,
        (s) =>
          Object.values(s.models ?? {}).filter((m) => m.deployment?.phase === 'active').length ===
            8 && (s.errors ?? []).some((e) => /serves at most 8 named models/.test(e)),
      );
      const served = Object.keys(state.models!);
      const ignored = names.filter((name) => !served.includes(name));
      assert.equal(ignored.length, 1);
      assert.ok(state.errors!.some((e) => e.includes(`model ${ignored[0]} ignored`)));
      assert.equal(state.active_slot, null, 'the default model has no desired state');
      // Serving only named models is serving.
      assert.equal((await fetch(`${other.apiUrl}/healthz`)).status, 200);

      // A device override of one named model wins over the group's; removed, the group's applies.
      const pinned = served[0]!;
      const pinTopic = deviceDesiredTopic(many, pinned);
      await publishDesired(pinned, { model: c1, deployment_id: 'dep-pin' }, pinTopic);
      const pin = await broker.waitForState(many, (s) => servingAs(s, pinned, c1));
      for (const name of served.slice(1)) assert.ok(servingAs(pin, name, v1), name);
      assert.equal(pin.models![pinned]!.deployment?.deployment_id, 'dep-pin');
      await broker.publishRaw(pinTopic, Buffer.alloc(0));
      const back = await broker.waitForState(
        many,
        (s) =>
          servingAs(s, pinned, v1) &&
          s.models![pinned]!.deployment?.deployment_id === `dep-${pinned}`,
      );
      assert.equal(Object.keys(back.models!).length, 8);
    } finally {
      await other.stop();
    }
  });

  it('a hold without a model (an incompatible device) makes no named model; released, the group state applies', async () => {
    const held = 'cam-held';
    const heldGroup = 'line-3';
    const other = await startOther(held, heldGroup);
    try {
      // The hub holds an incompatible device back from a new name's first deployment with a device
      // override that names no model, then publishes the group state.
      const hold = deviceDesiredTopic(held, 'ocr');
      await publishDesired('ocr', { model: null, deployment_id: null, strategy: 'none' }, hold);
      await publishDesired(
        'ocr',
        { model: c1, deployment_id: 'dep-ocr' },
        groupDesiredTopic(heldGroup, 'ocr'),
      );
      await publishDesired(
        'default',
        { model: v1, deployment_id: 'dep-h1' },
        groupDesiredTopic(heldGroup),
      );
      const state = await broker.waitForState(
        held,
        (s) => s.deployment?.deployment_id === 'dep-h1' && s.deployment.phase === 'active',
      );
      assert.equal(state.models, undefined, 'no empty ocr model on the held device');
      // Released: the group's state applies and the model is installed.
      await broker.publishRaw(hold, Buffer.alloc(0));
      await broker.waitForState(held, (s) => servingAs(s, 'ocr', c1));
    } finally {
      await other.stop();
    }
  });

  it('the update lock is the device one: held, it defers the swap of every model', async () => {
    const locked = 'cam-lock';
    const lockGroup = 'line-3';
    const other = await startOther(locked, lockGroup);
    const topic = (name: string) => groupDesiredTopic(lockGroup, name);
    try {
      await publishDesired('default', { model: v1, deployment_id: 'dep-l1' }, topic('default'));
      await publishDesired(
        'classifier',
        { model: c1, deployment_id: 'dep-lc1' },
        topic('classifier'),
      );
      await broker.waitForState(locked, (s) => serving(s, v1) && servingAs(s, 'classifier', c1));
      const lock = await fetch(`${other.apiUrl}/v1/update-lock`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'recording' }),
      });
      assert.equal(lock.status, 200);
      await publishDesired(
        'default',
        { model: v2, previous: v1, deployment_id: 'dep-l2' },
        topic('default'),
      );
      await publishDesired(
        'classifier',
        { model: c2, previous: c1, deployment_id: 'dep-lc2' },
        topic('classifier'),
      );
      const deferred = await broker.waitForState(
        locked,
        (s) =>
          s.deployment?.phase === 'deferred' &&
          s.models?.classifier?.deployment?.phase === 'deferred',
      );
      assert.ok(serving(deferred, v1));
      assert.ok(servingAs(deferred, 'classifier', c1));
      assert.equal(deferred.models!.classifier!.deployment?.detail, 'recording');
      await fetch(`${other.apiUrl}/v1/update-lock`, { method: 'DELETE' });
      await broker.waitForState(
        locked,
        (s) =>
          serving(s, v2) &&
          servingAs(s, 'classifier', c2) &&
          s.deployment?.phase === 'active' &&
          s.models?.classifier?.deployment?.phase === 'active',
      );
    } finally {
      await other.stop();
    }
  });

  it('simulated frames run through every model, each counted in its own window', async () => {
    const sim = 'cam-sim';
    const simGroup = 'line-4';
    const other = await startOther(sim, simGroup, {
      SENTINEL_SIMULATE_FPS: '20',
      SENTINEL_TELEMETRY_INTERVAL_S: '0.5',
    });
    const topic = (name: string) => groupDesiredTopic(simGroup, name);
    try {
      await publishDesired('default', { model: v1, deployment_id: 'dep-s1' }, topic('default'));
      await publishDesired(
        'classifier',
        { model: c1, deployment_id: 'dep-sc1' },
        topic('classifier'),
      );
      const windows = (serveAs: string | undefined, modelId: string) =>
        broker.telemetry.some(
          (t) =>
            t.device_id === sim && t.serve_as === serveAs && t.model_id === modelId && t.frames > 0,
        );
      await broker.waitFor(() =>
        windows(undefined, v1.id) && windows('classifier', c1.id) ? true : undefined,
      );
      const status = other.status();
      assert.ok(status.inferences > 0);
      assert.ok(status.models.classifier!.inferences > 0);
    } finally {
      await other.stop();
    }
  });
});
