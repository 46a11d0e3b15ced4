// Telemetry and rules end to end: real agents in simulation mode, the hub with InfluxDB (a real
// influxd) or the embedded store; a slow model's canary is rolled back by the rules, a healthy
// one promotes, and an InfluxDB outage neither rolls back nor loses the hub.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fastModel, goldenMismatchModel, slowModel } from './support/onnx-models.js';
import { AgentFleet, saltFor } from './support/agent-fleet.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { json, pushModel } from './support/push.js';
import { deploy, getDeployment, waitForDeployment } from './support/deployments.js';
import { skipWithoutInflux, startInflux, type InfluxServer } from './support/influx.js';

const DEVICES = ['cam-1', 'cam-2', 'cam-3', 'cam-4'];

/**
 * A cohort salt that puts exactly one device in a 25 % cohort: one core runs the slow model flat
 * out, the other keeps the hub and three baseline devices at their frame rate, so the figures
 * measure the model rather than a starved machine.
 */
const SALT = saltFor(DEVICES, 25, 1, 'rules-e2e');
// ~10 ms per inference on one thread: at most ~100 frames/s against the 200 asked for, which the
// fast model keeps.
const SLOW = { rows: 128, hidden: 512, layers: 16 };

async function metric(hub: InProcessHub, name: string): Promise<number> {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const ENGINES = [
  { name: 'InfluxDB', skip: skipWithoutInflux },
  { name: 'embedded store', skip: false as const },
];

for (const engine of ENGINES) {
  describe(`rules on real agents (${engine.name})`, { skip: engine.skip }, () => {
    let influx: InfluxServer | null = null;
    let hub: InProcessHub;
    let fleet: AgentFleet;
    let v1: string;

    const waitServing = (version: string) => fleet.waitServing(DEVICES, version);

    async function push(
      version: string,
      bytes: Buffer,
      metadata?: Record<string, unknown>,
    ): Promise<string> {
      const response = await pushModel(hub, bytes, {
        name: 'det',
        version,
        ...(metadata ? { metadata: JSON.stringify(metadata) } : {}),
      });
      assert.equal(response.status, 201);
      return (await json<{ id: string }>(response)).id;
    }

    const rules = { window_s: 3, warmup_s: 1, min_samples: 2 };

    before(async () => {
      influx = engine.name === 'InfluxDB' ? await startInflux() : null;
      hub = await startHub({
        ROLLOUT_INTERVAL_MS: '100',
        RULES_INTERVAL_S: '1',
        ...(influx
          ? { INFLUX_URL: influx.url, INFLUX_DB: 'sentinel', TELEMETRY_BUFFER_POINTS: '200' }
          : {}),
      });
      fleet = await AgentFleet.start(hub, {
        SENTINEL_TELEMETRY_INTERVAL_S: '0.5',
        SENTINEL_SIMULATE_FPS: '200',
      });
      await fleet.group('yard', DEVICES);
      v1 = await push('1.0.0', fastModel());
      const first = await deploy(hub, {
        model_id: v1,
        environment: 'production',
        deployment_type: 'blue-green',
        target: 'yard',
      });
      await waitForDeployment(hub, first.id, (d) => d.status === 'succeeded');
      await waitServing('1.0.0');
      await new Promise((r) => setTimeout(r, (rules.window_s + 1) * 1000));
    });
    after(async () => {
      await fleet?.stop();
      await hub?.stop();
      await influx?.stop();
    });

    it('rolls back a canary of a slow model by itself, with the figures in the event', async () => {
      const slow = await push('2.0.0', slowModel(SLOW));
      const canary = await deploy(hub, {
        model_id: slow,
        environment: 'production',
        deployment_type: 'canary',
        target: 'yard',
        canary: { steps: [25, 100], step_interval_s: 3600, salt: SALT },
        rules,
      });
      const rolled = await waitForDeployment(
        hub,
        canary.id,
        (d) => d.status === 'rolled_back',
        90_000,
      );
      const event = rolled.events.find((e) => e.type === 'rolled_back')!;
      assert.equal(event.actor, 'rules');
      assert.match(
        String(event.figures.why),
        // whichever check crossed first (the slow model costs FPS, latency and memory)
        /^degraded: (fps|latency_p95|memory)( \(fleet p95\))? [\d.]+ \S+ vs [\d.]+ \S+ \([+-][\d.]+ %, limit [+-]\d+ % and [\d.]+ \S+; p [^;]+ < 0\.01( on the windows' \w+)?; \d+ vs \d+ windows on 1 vs 1 devices\)/,
      );
      const checks = event.figures.checks as {
        metric: string;
        status: string;
        p_value?: number;
      }[];
      const degraded = checks.filter((c) => c.status === 'degraded');
      assert.ok(degraded.length > 0);
      for (const c of degraded) assert.ok(c.p_value! < 0.01, `${c.metric} p ${c.p_value}`);
      await waitServing('1.0.0');
      // window_s of steady v1 telemetry: the next canary's baseline (its devices before the step).
      await new Promise((r) => setTimeout(r, (rules.window_s + 1) * 1000));

      const health = (await (await api(hub)(`/api/v1/deployments/${canary.id}/health`)).json()) as {
        verdict: string;
        action: string;
        evaluated_at: string;
      };
      assert.equal(health.verdict, 'degraded');
      assert.equal(health.action, 'rolled_back');
      const detected = Date.parse(health.evaluated_at);
      const rolledAt = Date.parse((event as unknown as { at: string }).at);
      console.log(
        `# ${engine.name}: canary created to rollback ${rolledAt - Date.parse(canary.created_at as string)} ms ` +
          `(warm-up ${rules.warmup_s} s, window ${rules.window_s} s, rules every 1 s); ` +
          `degraded verdict to rollback event ${rolledAt - detected} ms`,
      );
    });

    it('promotes a healthy canary through every step without a rollback', async () => {
      const healthy = await push('3.0.0', goldenMismatchModel());
      const canary = await deploy(hub, {
        model_id: healthy,
        environment: 'production',
        deployment_type: 'canary',
        target: 'yard',
        canary: { steps: [25, 100], step_interval_s: 2, salt: SALT },
        observe_s: 3,
        rules,
      });
      const done = await waitForDeployment(
        hub,
        canary.id,
        (d) => ['succeeded', 'rolled_back', 'failed'].includes(d.status),
        90_000,
      );
      assert.equal(done.status, 'succeeded', JSON.stringify(done.events));
      assert.deepEqual(
        done.events.map((e) => e.type),
        ['created', 'step', 'observing', 'succeeded'],
      );
      await waitServing('3.0.0');
    });

    if (engine.name === 'InfluxDB') {
      it('with InfluxDB stopped nothing rolls back; ingest buffers, drops with counts, and recovers', async () => {
        // Slow (the rules will see it), but not while InfluxDB is down.
        const next = await push('4.0.0', slowModel({ ...SLOW, hidden: 511 }));
        await influx!.pause();
        const droppedBefore = await metric(
          hub,
          'sentinel_telemetry_dropped_total{reason="overflow"}',
        );
        const canary = await deploy(hub, {
          model_id: next,
          environment: 'production',
          deployment_type: 'canary',
          target: 'yard',
          canary: { steps: [25, 100], step_interval_s: 1, salt: SALT },
          rules,
        });
        // 4 devices x 2 windows/s against a buffer of 200 points: it overflows within ~25 s.
        const deadline = Date.now() + 60_000;
        while (
          (await metric(hub, 'sentinel_telemetry_dropped_total{reason="overflow"}')) <=
          droppedBefore
        ) {
          assert.ok(Date.now() < deadline, 'the buffer never overflowed');
          await new Promise((r) => setTimeout(r, 500));
        }
        const buffered = await metric(hub, 'sentinel_telemetry_buffered');
        assert.ok(
          buffered > 150 && buffered <= 200,
          `buffered ${buffered}: bounded by the capacity`,
        );
        const during = await getDeployment(hub, canary.id);
        assert.equal(during.status, 'in_progress', 'no rollback and no step without data');
        assert.equal(during.canary!.step_index, 0);

        const writtenBefore = await metric(hub, 'sentinel_telemetry_written_total');
        await influx!.resume();
        const rolled = await waitForDeployment(
          hub,
          canary.id,
          (d) => d.status === 'rolled_back',
          90_000,
        );
        assert.ok((await metric(hub, 'sentinel_telemetry_written_total')) > writtenBefore);
        assert.equal(rolled.events.find((e) => e.type === 'rolled_back')?.actor, 'rules');
        await waitServing('3.0.0');
      });
    }
  });
}
