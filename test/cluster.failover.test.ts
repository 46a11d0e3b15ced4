// Two hubs act as one (cluster mode: PostgreSQL + Redis): a device report is handled once, by the
// hub the device is connected to; revoked credentials and tokens take effect on every hub at once;
// and when a hub is killed mid-rollout, real agents configured with both brokers move to the
// other one, which finishes the rollout with every device's report recorded.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import pg from 'pg';
import {
  deviceStateTopic,
  deviceTelemetryTopic,
  encodeMessage,
  inCohort,
  type DeviceState,
} from '@sentinel/broker';
import { spawnAgent, stopProcess, type AgentProcess } from './support/agent-fixture.js';
import { saltFor } from './support/agent-fleet.js';
import {
  deploy,
  deploymentAction,
  getDeployment,
  servingVersion,
  waitForDeployment,
} from './support/deployments.js';
import {
  connectDevice,
  createDevice,
  createGroup,
  pinGroup,
  type DeviceCredentialsResponse,
} from './support/fleet.js';
import { api, spawnHub, type HubProcess, type TestHub } from './support/hub.js';
import { validMessage } from './support/mqtt-payloads.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './support/postgres.js';
import { skipWithoutRedis, startRedis, type RedisServer } from './support/redis.js';
import { startS3Server, type TestS3Server } from './support/s3-server.js';
import { json, pushModel } from './support/push.js';

// A Redis server of its own (pub/sub channels are server-wide, not per database).
const skip = skipWithoutPostgres || skipWithoutRedis;

/** Fails instead of hanging when something never happens; not a speed assertion. */
const WAIT_MS = 60_000;

async function metric(hub: TestHub, series: string): Promise<number> {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The client's connection ends (or the test fails after WAIT_MS instead of hanging). */
function closed(client: MqttClient, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    new Promise<void>((resolve) => client.once('close', () => resolve())),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

function observe(hub: TestHub, token: string): Promise<MqttClient> {
  return connectAsync(`mqtt://127.0.0.1:${hub.mqtt!.port}`, {
    username: 'observer',
    password: token,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
}

describe('cluster: two hubs act as one', { skip }, () => {
  let database: TestDatabase;
  let redis: RedisServer;
  let db: pg.Client;
  let s3: TestS3Server;
  let hubA: HubProcess;
  let hubB: HubProcess;
  const clients: MqttClient[] = [];
  const track = <T extends MqttClient>(client: T): T => (clients.push(client), client);
  const endClients = () => Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  const mqttUrl = (hub: TestHub) => `mqtt://127.0.0.1:${hub.mqtt!.port}`;

  before(async () => {
    redis = await startRedis();
    database = await createTestDatabase();
    // Artifacts in one store for the cluster: any hub serves what another stored.
    s3 = await startS3Server({ createBucket: true });
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      S3_BUCKET: s3.bucket,
      ADMIN_TOKEN: 'cluster-failover-admin-token-0123456789',
      ROLLOUT_INTERVAL_MS: '100',
    };
    hubA = await spawnHub(env); // A applies the migrations first; B then finds them done
    hubB = await spawnHub(env);
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    await createGroup(hubA, 'desk');
  });
  after(async () => {
    await endClients();
    await db?.end();
    await hubA?.stop();
    await hubB?.stop();
    await database?.drop();
    await s3?.close();
    await redis?.stop();
  });

  it('handles a report sent to hub A once, on A, though hub B receives it too', async () => {
    const device = await createDevice(hubA, 'desk-cam', 'desk');
    const watcher = track(await observe(hubB, hubB.adminToken));
    let seenOnB = 0;
    watcher.on('message', () => (seenOnB += 1));
    await watcher.subscribeAsync([deviceStateTopic('desk-cam'), deviceTelemetryTopic('desk-cam')], {
      qos: 1,
    });
    const reports = { a: await metric(hubA, 'sentinel_device_reports_total') };
    const windows = { a: await metric(hubA, 'sentinel_telemetry_received_total') };
    const before = {
      reportsB: await metric(hubB, 'sentinel_device_reports_total'),
      windowsB: await metric(hubB, 'sentinel_telemetry_received_total'),
    };

    const client = track(await connectDevice(mqttUrl(hubA), device));
    for (const second of [10, 11, 12]) {
      const state = { ...validMessage('device-state', 'desk-cam') };
      state.ts = `2024-05-01T10:00:${second}.000Z`;
      await client.publishAsync(
        deviceStateTopic('desk-cam'),
        encodeMessage('device-state', state as DeviceState),
        { qos: 1 },
      );
    }
    await client.publishAsync(
      deviceTelemetryTopic('desk-cam'),
      JSON.stringify(validMessage('telemetry', 'desk-cam')),
      { qos: 1 },
    );
    // B's broker got all four (through Redis): its hub could have handled them.
    await waitFor('the reports on hub B', async () => seenOnB === 4);
    await waitFor(
      'hub A to handle the three states and the window',
      async () =>
        (await metric(hubA, 'sentinel_device_reports_total')) === reports.a + 3 &&
        (await metric(hubA, 'sentinel_telemetry_received_total')) === windows.a + 1,
    );
    assert.equal(await metric(hubB, 'sentinel_device_reports_total'), before.reportsB);
    assert.equal(await metric(hubB, 'sentinel_telemetry_received_total'), before.windowsB);
    // Recorded (by A) for the whole cluster: B's API shows it.
    await waitFor('the report in the fleet', async () => {
      const view = await json<{ last_seen_at: string | null }>(
        await api(hubB)('/api/v1/devices/desk-cam'),
      );
      return view.last_seen_at !== null;
    });
    await endClients();
  });

  it('ends on hub B the session of a device whose credentials hub A rotated, and refuses its old secret there at once', async () => {
    const device = await createDevice(hubA, 'desk-rot', 'desk');
    // Connected to B: B has checked (and cached) the secret.
    const client = track(await connectDevice(mqttUrl(hubB), device));
    const gone = closed(client, "the end of the device's session on hub B");
    const rotated = await json<DeviceCredentialsResponse>(
      await api(hubA)('/api/v1/devices/desk-rot/rotate-credentials', { method: 'POST' }),
    );
    await gone;
    await assert.rejects(connectDevice(mqttUrl(hubB), device), /Not authorized|Bad username/i);
    track(await connectDevice(mqttUrl(hubB), rotated));
    await endClients();
  });

  it('ends on hub B the observer sessions of a token hub A revoked', async () => {
    const created = await json<{ id: string; token: string }>(
      await api(hubA)('/api/v1/tokens', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'cluster-viewer', role: 'viewer' }),
      }),
    );
    const observer = track(await observe(hubB, created.token));
    const gone = closed(observer, "the end of the observer's session on hub B");
    const deleted = await api(hubA)(`/api/v1/tokens/${created.id}`, { method: 'DELETE' });
    assert.equal(deleted.status, 204);
    await gone;
    await assert.rejects(observe(hubB, created.token), /Not authorized|Bad username/i);
    await endClients();
  });

  it('finishes a rollout on hub B after hub A is killed mid-rollout, with every report recorded', async () => {
    const devices = ['yard-1', 'yard-2', 'yard-3', 'yard-4'];
    const dir = await mkdtemp(join(tmpdir(), 'cluster-agents-'));
    const agents = new Map<string, AgentProcess>();
    const serving = async (id: string) => {
      const status = (await (await fetch(`${agents.get(id)!.apiUrl}/v1/status`)).json()) as {
        active_slot: string | null;
        slots: Record<string, { version: string } | null>;
      };
      return status.active_slot ? (status.slots[status.active_slot]?.version ?? null) : null;
    };
    const waitServing = (ids: string[], version: string) =>
      waitFor(`${ids.join(', ')} to serve ${version}`, async () =>
        (await Promise.all(ids.map(serving))).every((v) => v === version),
      );
    try {
      await createGroup(hubA, 'yard');
      for (const id of devices) {
        const device = await createDevice(hubA, id, 'yard');
        agents.set(
          id,
          await spawnAgent({
            SENTINEL_DEVICE_ID: id,
            // Both hubs: each agent starts at one chosen by its id (yard-2 and yard-4 at A, the
            // others at B); a lost connection makes it try the next one.
            SENTINEL_MQTT_URL: `${mqttUrl(hubA)},${mqttUrl(hubB)}`,
            SENTINEL_MQTT_PASSWORD: device.credentials.password,
            SENTINEL_GROUP: 'yard',
            SENTINEL_HUB_URL: hubA.url,
            // Desired states carry the URL of the hub that published them (no PUBLIC_URL here).
            SENTINEL_CREDENTIAL_ORIGINS: hubB.url,
            SENTINEL_DATA_DIR: join(dir, id),
            SENTINEL_API: '127.0.0.1:0',
            SENTINEL_TELEMETRY_INTERVAL_S: '1',
            SENTINEL_SIMULATE_FPS: '5',
          }),
        );
      }
      const v1 = await json<{ id: string }>(
        await pushModel(hubA, fastModel(), { name: 'yard-model', version: '1.0.0' }),
      );
      const v2 = await json<{ id: string }>(
        await pushModel(hubA, slowModel(), { name: 'yard-model', version: '2.0.0' }),
      );
      await pinGroup(hubA, 'yard', v1.id);
      await waitServing(devices, '1.0.0');
      // The same list spreads the fleet over the hubs.
      assert.equal(await metric(hubA, 'sentinel_mqtt_clients'), 2);
      assert.equal(await metric(hubB, 'sentinel_mqtt_clients'), 2);

      const salt = saltFor(devices, 50, 2);
      const cohort = devices.filter((id) => inCohort(id, { percent: 50, salt }));
      const rollout = await deploy(hubA, {
        model_id: v2.id,
        environment: 'production',
        deployment_type: 'canary',
        target: 'yard',
        rules: { enabled: false },
        canary: { steps: [50, 100], step_interval_s: 3600, salt },
      });
      // The first step is done and recorded: the cohort reported 2.0.0 (through either hub).
      await waitForDeployment(hubA, rollout.id, (d) => d.progress.phases.active === 2);
      await waitServing(cohort, '2.0.0');

      await hubA.kill(); // SIGKILL: no goodbye to anyone
      const killedAt = new Date();
      await waitFor(
        'the agents on hub B',
        async () => (await metric(hubB, 'sentinel_mqtt_clients')) === devices.length,
      );
      const promoted = await deploymentAction(hubB, rollout.id, 'promote');
      assert.equal(promoted.status, 200, await promoted.text());
      const done = await waitForDeployment(
        hubB,
        rollout.id,
        (d) => d.status === 'succeeded',
        WAIT_MS,
      );
      assert.equal(done.progress.phases.active, devices.length);
      await waitServing(devices, '2.0.0');

      // Every device's final state is recorded (by B, for its new sessions).
      await waitFor('the final states in the fleet', async () => {
        const views = await Promise.all(
          devices.map(async (id) =>
            json<{ online: boolean; reported: DeviceState | null }>(
              await api(hubB)(`/api/v1/devices/${id}`),
            ),
          ),
        );
        return views.every(
          (v) => v.online && v.reported !== null && servingVersion(v.reported) === '2.0.0',
        );
      });
      // Telemetry windows: each written once (no hub wrote another's), by A before and B after.
      const { rows: twice } = await db.query(
        `SELECT device, time, count(*)::int AS n FROM telemetry_points
          WHERE device = ANY($1) GROUP BY device, time HAVING count(*) > 1`,
        [devices],
      );
      assert.deepEqual(twice, []);
      const { rows: after } = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM telemetry_points WHERE device = ANY($1) AND time > $2',
        [devices, killedAt],
      );
      assert.ok(after[0].n > 0, 'hub B writes the windows of the agents that moved to it');
      assert.equal((await getDeployment(hubB, rollout.id)).status, 'succeeded');
    } catch (error) {
      for (const [id, agent] of agents)
        console.error(`--- agent ${id}\n${agent.stderr().slice(-3000)}`);
      console.error(`--- hub B\n${hubB.output().slice(-5000)}`);
      throw error;
    } finally {
      await Promise.all([...agents.values()].map((a) => stopProcess(a.child)));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
