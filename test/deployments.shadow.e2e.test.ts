// Shadow verification end to end on real agents (simulation mode, real inference on real ONNX
// models) with InfluxDB (a real influxd) or the embedded store: staged devices run the candidate
// beside the serving model on a sample of the same inputs; the rules judge the shadow figures.
// A candidate whose outputs differ, or a faithful but slower one, is stopped before any device
// serves it; a good one cuts over.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentFleet } from './support/agent-fleet.js';
import {
  deploy,
  servingVersion,
  StateRecorder,
  waitForDeployment,
  type DeploymentDetail,
} from './support/deployments.js';
import { skipWithoutInflux, startInflux, type InfluxServer } from './support/influx.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import {
  fastModel,
  fastTwinModel,
  goldenMismatchModel,
  slowTwinModel,
} from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

const YARD = ['sh-1', 'sh-2', 'sh-3'];
// Two tiny models' p95 latencies differ by scheduling jitter on a busy machine: a floor of 3 ms
// keeps that from being a change (the slower candidate is 30 ms and more behind).
const RULES = { window_s: 3, warmup_s: 1, min_samples: 4, min_devices: 2, p95_min_delta_ms: 3 };
const SHADOW = { sample_rate: 0.5, duration_s: 5, queue: 4 };
const FINAL = ['succeeded', 'rolled_back', 'failed', 'paused'];
const OUTPUTS = { outputs: { output: [1, 16] } };

interface Health {
  verdict: string | null;
  action: string;
  stage?: string;
  baseline_kind?: string;
  reasons: string[];
  checks: { metric: string; status: string; cohort: number | null }[];
  shadow?: { samples: number; dropped: number; devices: number } | null;
}

const ENGINES = [
  { name: 'InfluxDB', skip: skipWithoutInflux },
  { name: 'embedded store', skip: false as const },
];

for (const engine of ENGINES) {
  describe(`shadow verification (${engine.name})`, { skip: engine.skip }, () => {
    let influx: InfluxServer | null = null;
    let hub: InProcessHub;
    let fleet: AgentFleet;
    let states: StateRecorder;
    const ids: Record<string, string> = {};

    async function push(version: string, bytes: Buffer, metadata = {}): Promise<void> {
      const response = await pushModel(hub, bytes, {
        name: 'shd',
        version,
        metadata: JSON.stringify({ ...OUTPUTS, ...metadata }),
      });
      assert.equal(response.status, 201, await response.clone().text());
      ids[version] = (await json<{ id: string }>(response)).id;
    }
    async function history(id: string): Promise<Health[]> {
      const response = await api(hub)(`/api/v1/deployments/${id}/health/history?limit=100`);
      return ((await response.json()) as { items: Health[] }).items;
    }
    async function shadowDeploy(version: string): Promise<DeploymentDetail> {
      const created = await deploy(hub, {
        model_id: ids[version]!,
        environment: 'production',
        deployment_type: 'blue-green',
        target: 'yard',
        rules: RULES,
        observe_s: 0,
        shadow: SHADOW,
      });
      try {
        return await waitForDeployment(hub, created.id, (d) => FINAL.includes(d.status), 90_000);
      } catch (error) {
        throw new Error(
          `${(error as Error).message.slice(0, 300)}... health: ${JSON.stringify((await history(created.id))[0])}`,
          { cause: error },
        );
      }
    }
    /** Whether any device ever reported serving `version`. */
    const everServed = (version: string) =>
      YARD.some((device) => states.of(device).some((s) => servingVersion(s.state) === version));
    const types = (d: DeploymentDetail) => d.events.map((e) => e.type);

    before(async () => {
      influx = engine.name === 'InfluxDB' ? await startInflux() : null;
      hub = await startHub({
        ROLLOUT_INTERVAL_MS: '100',
        RULES_INTERVAL_S: '1',
        ...(influx ? { INFLUX_URL: influx.url, INFLUX_DB: 'sentinel' } : {}),
      });
      fleet = await AgentFleet.start(hub, {
        SENTINEL_TELEMETRY_INTERVAL_S: '0.5',
        SENTINEL_SIMULATE_FPS: '40',
      });
      await fleet.group('yard', YARD);
      await push('1.0.0', fastModel());
      await push('2.0.0', goldenMismatchModel(), { shadow: { compare: 'top1' } });
      await push('2.1.0', slowTwinModel({ rows: 64, hidden: 512, layers: 16 }));
      await push('2.2.0', fastTwinModel());
      const first = await deploy(hub, {
        model_id: ids['1.0.0']!,
        environment: 'production',
        deployment_type: 'blue-green',
        target: 'yard',
      });
      await waitForDeployment(hub, first.id, (d) => d.status === 'succeeded');
      await fleet.waitServing(YARD, '1.0.0');
      states = await StateRecorder.connect(hub);
    });
    after(async () => {
      await states?.close();
      await fleet?.stop();
      await hub?.stop();
      await influx?.stop();
    });

    it('stops a candidate whose outputs differ before any device serves it', async () => {
      const done = await shadowDeploy('2.0.0');
      assert.equal(done.status, 'rolled_back', JSON.stringify(types(done)));
      assert.ok(types(done).includes('shadow'), 'the shadow phase began');
      assert.ok(!types(done).includes('cutover'), 'no cutover');
      assert.equal(done.events.find((e) => e.type === 'rolled_back')?.actor, 'rules');
      assert.ok(!everServed('2.0.0'), 'no device ever served 2.0.0');
      const [last] = await history(done.id);
      assert.equal(last!.stage, 'shadow');
      assert.equal(last!.baseline_kind, 'shadow');
      assert.equal(last!.verdict, 'degraded');
      const agreement = last!.checks.find((c) => c.metric === 'agreement')!;
      assert.equal(agreement.status, 'degraded', JSON.stringify(last!.checks));
      assert.ok(last!.shadow && last!.shadow.samples > 0 && last!.shadow.devices >= 2);
      await fleet.waitServing(YARD, '1.0.0');
      console.log(`# ${engine.name}: mismatch stopped in shadow: ${last!.reasons.join('; ')}`);
    });

    it('stops a faithful but slower candidate on its latency', async () => {
      const done = await shadowDeploy('2.1.0');
      assert.equal(done.status, 'rolled_back', JSON.stringify(types(done)));
      assert.ok(!everServed('2.1.0'), 'no device ever served 2.1.0');
      const [last] = await history(done.id);
      const byMetric = Object.fromEntries(last!.checks.map((c) => [c.metric, c]));
      assert.equal(byMetric.latency_p95?.status, 'degraded', JSON.stringify(last!.checks));
      assert.equal(byMetric.agreement?.status, 'ok', 'its outputs are the serving model’s');
      await fleet.waitServing(YARD, '1.0.0');
      console.log(`# ${engine.name}: slower twin stopped in shadow: ${last!.reasons.join('; ')}`);
    });

    it('cuts a good candidate over after a healthy shadow phase', async () => {
      const done = await shadowDeploy('2.2.0');
      const [last] = await history(done.id);
      assert.equal(done.status, 'succeeded', `${types(done).join(',')}: ${JSON.stringify(last)}`);
      const order = types(done);
      assert.ok(order.indexOf('shadow') < order.indexOf('cutover'), order.join(','));
      await fleet.waitServing(YARD, '2.2.0');
      const shadowed = (await history(done.id)).filter((h) => h.stage === 'shadow');
      assert.ok(shadowed.length > 0);
      assert.equal(shadowed[0]!.verdict, 'healthy', JSON.stringify(shadowed[0]));
    });
  });
}
