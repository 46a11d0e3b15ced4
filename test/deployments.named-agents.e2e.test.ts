// Several named models per device, end to end: the hub and two real agent processes serving a
// `default` detector and a `classifier`, each with its own blue/green slot pair, desired states,
// deployments, telemetry and rollbacks (docs/protocol.md 6.6). One model's rollout and rollback
// never touch the other's slots, manual or automatic.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeviceState, NamedModelState } from '@sentinel/broker';
import { AgentFleet } from './support/agent-fleet.js';
import {
  deploy,
  deploymentAction,
  getDeployment,
  StateRecorder,
  waitForDeployment,
  type DeploymentBody,
} from './support/deployments.js';
import { pinGroup } from './support/fleet.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel, fastTwinModel, slowModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

const DEVICES = ['cam-a', 'cam-b'];
const CLASSIFIER = 'classifier';
const rules = { window_s: 3, warmup_s: 1, min_samples: 2 };

interface SlotView {
  version: string;
  name?: string;
}
interface ModelStatus {
  active_slot: string | null;
  slots: Record<string, SlotView | null>;
  deployment: { deployment_id: string | null; phase: string } | null;
}
interface AgentStatus extends ModelStatus {
  models?: Record<string, ModelStatus>;
}

const servingOf = (s: ModelStatus | undefined): string | null =>
  s?.active_slot ? (s.slots[s.active_slot]?.version ?? null) : null;

/** The default model's slots as a device reported them: what a classifier change must not move. */
const defaultSlots = (state: DeviceState) => JSON.stringify([state.active_slot, state.slots]);
const named = (state: DeviceState): NamedModelState | undefined => state.models?.[CLASSIFIER];

describe('several named models per device with real agents', () => {
  let hub: InProcessHub;
  let fleet: AgentFleet;
  let recorder: StateRecorder;
  const ids: Record<string, string> = {};

  const status = async (id: string) =>
    (await (await fetch(`${fleet.apiUrl(id)}/v1/status`)).json()) as AgentStatus;

  async function waitAll(what: string, predicate: (s: AgentStatus) => boolean): Promise<void> {
    const deadline = Date.now() + 60_000;
    let last: AgentStatus[] = [];
    while (Date.now() < deadline) {
      last = await Promise.all(DEVICES.map(status));
      if (last.every(predicate)) return;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`${what}: timed out; last ${JSON.stringify(last)}`);
  }
  const waitServing = (detector: string, classifier: string) =>
    waitAll(
      `detector ${detector}, classifier ${classifier}`,
      (s) => servingOf(s) === detector && servingOf(s.models?.[CLASSIFIER]) === classifier,
    );

  async function push(name: string, version: string, bytes: Buffer): Promise<string> {
    const response = await pushModel(hub, bytes, { name, version });
    assert.equal(response.status, 201, await response.clone().text());
    const id = (await json<{ id: string }>(response)).id;
    ids[`${name}@${version}`] = id;
    return id;
  }

  const blueGreen = (model_id: string, extra: Partial<DeploymentBody> = {}) =>
    deploy(hub, {
      model_id,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'yard',
      rules: { enabled: false },
      ...extra,
    });

  /** Device states reported since `since`, every device. */
  const reportsSince = (since: number) =>
    DEVICES.flatMap((id) => recorder.of(id).filter((r) => r.at >= since && r.state.online));

  /** Waits until every device reported a state matching `predicate` since `since`. */
  async function waitReports(since: number, predicate: (s: DeviceState) => boolean): Promise<void> {
    const deadline = Date.now() + 30_000;
    const seen = () =>
      DEVICES.every((id) => recorder.of(id).some((r) => r.at >= since && predicate(r.state)));
    while (!seen()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the device reports');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  before(async () => {
    hub = await startHub({ ROLLOUT_INTERVAL_MS: '100', RULES_INTERVAL_S: '1' });
    recorder = await StateRecorder.connect(hub);
    fleet = await AgentFleet.start(hub, {
      SENTINEL_TELEMETRY_INTERVAL_S: '0.5',
      SENTINEL_SIMULATE_FPS: '100',
    });
    await fleet.group('yard', DEVICES);
    await pinGroup(hub, 'yard', await push('det', '1.0.0', fastModel()));
    await fleet.waitServing(DEVICES, '1.0.0');
  });
  after(async () => {
    await fleet?.stop();
    await recorder?.close();
    await hub?.stop();
  });

  it('a deployment with serve_as installs a second model beside the first, in its own slots', async () => {
    const since = Date.now();
    const cls1 = await blueGreen(await push('cls', '1.0.0', fastTwinModel()), {
      serve_as: CLASSIFIER,
    });
    assert.equal(cls1.serve_as, CLASSIFIER);
    const done = await waitForDeployment(hub, cls1.id, (d) => d.status === 'succeeded');
    assert.equal(done.progress.phases.active, DEVICES.length);
    await waitServing('1.0.0', '1.0.0');

    const s = await status('cam-a');
    assert.equal(s.slots[s.active_slot!]?.version, '1.0.0');
    assert.equal(
      s.models?.[CLASSIFIER]?.slots[s.models[CLASSIFIER].active_slot!]?.version,
      '1.0.0',
    );
    // Each model answers on its own route of the local API.
    const input = {
      inputs: { input: { dims: [1, 64], data: Array.from({ length: 64 }, () => 0.5) } },
    };
    for (const path of ['/v1/infer', `/v1/models/${CLASSIFIER}/infer`]) {
      const r = await fetch(`${fleet.apiUrl('cam-a')}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input),
      });
      assert.equal(r.status, 200, `${path}: ${await r.text()}`);
    }
    const unknown = await fetch(`${fleet.apiUrl('cam-a')}/v1/models/ocr/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    assert.equal(unknown.status, 404);

    // The detector's slots never moved while the classifier was installed.
    const reports = reportsSince(since);
    assert.ok(reports.some((r) => named(r.state)?.deployment?.deployment_id === cls1.id));
    assert.deepEqual(new Set(reports.map((r) => servingOfState(r.state))), new Set(['1.0.0']));
    assertDefaultStill(reports);

    // The hub shows both models of the device.
    const device = (await (await api(hub)('/api/v1/devices/cam-a')).json()) as {
      models?: Record<string, unknown> | { name: string }[];
    };
    assert.ok(JSON.stringify(device.models ?? null).includes(CLASSIFIER), JSON.stringify(device));
  });

  it('both models roll out at once in one group; two deployments of the same name do not', async () => {
    const det2 = await blueGreen(await push('det', '2.0.0', fastTwinModel()));
    const cls2 = await blueGreen(await push('cls', '2.0.0', fastModel()), { serve_as: CLASSIFIER });
    const clash = await api(hub)('/api/v1/deployments', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model_id: ids['cls@1.0.0'],
        environment: 'production',
        deployment_type: 'blue-green',
        target: 'yard',
        serve_as: CLASSIFIER,
      }),
    });
    assert.equal(clash.status, 409, await clash.text());
    await waitForDeployment(hub, det2.id, (d) => d.status === 'succeeded');
    await waitForDeployment(hub, cls2.id, (d) => d.status === 'succeeded');
    await waitServing('2.0.0', '2.0.0');
  });

  it('a manual rollback of the classifier leaves the detector serving, without a swap', async () => {
    const cls2 = await latest(CLASSIFIER);
    const since = Date.now();
    const r = await deploymentAction(hub, cls2, 'rollback');
    assert.equal(r.status, 200, await r.text());
    await waitServing('2.0.0', '1.0.0');
    await waitReports(since, (x) => named(x)?.deployment?.phase === 'rolled_back');
    const reports = reportsSince(since);
    assertDefaultStill(reports);
    assert.ok(reports.every((x) => servingOfState(x.state) === '2.0.0'));
    assert.equal((await getDeployment(hub, cls2)).status, 'rolled_back');
  });

  it('a manual rollback of the detector leaves the classifier serving', async () => {
    const det2 = await latest('default');
    const since = Date.now();
    const r = await deploymentAction(hub, det2, 'rollback');
    assert.equal(r.status, 200, await r.text());
    await waitServing('1.0.0', '1.0.0');
    await waitReports(since, (x) => x.deployment?.phase === 'rolled_back');
    for (const x of reportsSince(since)) {
      const c = named(x.state);
      assert.ok(c, 'every report carries the classifier');
      assert.equal(c.active_slot && c.slots[c.active_slot]?.version, '1.0.0');
    }
  });

  it('the rules roll back a slow classifier by themselves; the detector is not touched', async () => {
    // Steady classifier telemetry first: the baseline of the comparison.
    await new Promise((r) => setTimeout(r, (rules.window_s + 1) * 1000));
    const since = Date.now();
    const slow = await blueGreen(
      await push('cls', '3.0.0', slowModel({ rows: 128, hidden: 512, layers: 16 })),
      { serve_as: CLASSIFIER, rules },
    );
    const rolled = await waitForDeployment(hub, slow.id, (d) => d.status === 'rolled_back', 90_000);
    const event = rolled.events.find((e) => e.type === 'rolled_back')!;
    assert.equal(event.actor, 'rules');
    await waitServing('1.0.0', '1.0.0');
    const reports = reportsSince(since);
    assert.ok(reports.some((x) => named(x.state)?.deployment?.deployment_id === slow.id));
    assert.ok(reports.every((x) => servingOfState(x.state) === '1.0.0'));
    assertDefaultStill(reports);
  });

  /** The newest deployment of a model name in the group. */
  async function latest(serveAs: string): Promise<string> {
    const list = (await (
      await api(hub)(`/api/v1/deployments?serve_as=${serveAs}&limit=1`)
    ).json()) as { items: { id: string; serve_as: string }[] };
    assert.equal(list.items[0]?.serve_as, serveAs);
    return list.items[0].id;
  }
});

/** Per device, the default model's slots were the same in every report: no load, no swap. */
function assertDefaultStill(reports: { state: DeviceState }[]): void {
  for (const id of DEVICES) {
    const seen = new Set(
      reports.filter((r) => r.state.device_id === id).map((r) => defaultSlots(r.state)),
    );
    assert.ok(seen.size <= 1, `${id}: the default model's slots moved: ${[...seen].join(' | ')}`);
  }
}

function servingOfState(state: DeviceState): string | null {
  return state.active_slot ? (state.slots?.[state.active_slot]?.version ?? null) : null;
}
