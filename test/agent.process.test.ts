// `sentinel-agent` as a real process: its command line, kill -9 and restart, and the whole path
// from a push at the hub to a model serving on the device.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fastGolden, fastModel, slowModel } from './support/onnx-models.js';
import {
  AGENT_BIN,
  ModelServer,
  serving,
  spawnAgent,
  stopProcess,
  TestBroker,
  type AgentProcess,
} from './support/agent-fixture.js';
import { runProcess } from './support/process.js';
import { startHub, type InProcessHub } from './support/hub.js';
import { createDevice, createGroup, pinGroup } from './support/fleet.js';
import { json, pushModel } from './support/push.js';

const golden = fastGolden();

async function status(agent: AgentProcess): Promise<Record<string, unknown>> {
  return (await (await fetch(`${agent.apiUrl}/v1/status`)).json()) as Record<string, unknown>;
}

async function inferVersion(agent: AgentProcess): Promise<string> {
  const response = await fetch(`${agent.apiUrl}/v1/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: { input: { dims: [1, 64], data: [...golden.input] } } }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { model: { version: string } }).model.version;
}

describe('sentinel-agent command line', () => {
  it('--help documents every setting', async () => {
    const run = await runProcess(process.execPath, [AGENT_BIN, '--help']);
    assert.equal(run.code, 0);
    for (const name of [
      'SENTINEL_DEVICE_ID',
      'SENTINEL_MQTT_URL',
      'SENTINEL_MQTT_USERNAME',
      'SENTINEL_MQTT_PASSWORD',
      'SENTINEL_HUB_URL',
      'SENTINEL_DATA_DIR',
      'SENTINEL_TRUSTED_KEYS',
      'SENTINEL_REQUIRE_SIGNED',
      'SENTINEL_TELEMETRY_INTERVAL_S',
      'SENTINEL_SIMULATE_FPS',
      '--config',
    ]) {
      assert.ok(run.stdout.includes(name), `${name} missing from --help`);
    }
  });

  it('refuses a bad configuration with exit code 2 and one line', async () => {
    const run = await runProcess(process.execPath, [AGENT_BIN], {
      PATH: process.env.PATH,
      SENTINEL_DEVICE_ID: 'cam-1',
      SENTINEL_GROUP: 'g',
      SENTINEL_TELEMETRY_INTERVAL_S: 'often',
    });
    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      'sentinel-agent: invalid configuration: SENTINEL_TELEMETRY_INTERVAL_S must be a number (got "often")\n',
    );
  });
});

describe('sentinel-agent killed with -9 and started again', () => {
  let broker: TestBroker;
  let server: ModelServer;
  let dir: string;
  let agent: AgentProcess | undefined;

  before(async () => {
    broker = new TestBroker();
    await broker.start();
    server = new ModelServer();
    await server.start();
    dir = await mkdtemp(join(tmpdir(), 'agent-restart-'));
  });
  after(async () => {
    if (agent) await stopProcess(agent.child, 'SIGKILL');
    await broker.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('comes back on the same active model in the same slot, with no download', async () => {
    const device = broker.addDevice('cam-r', 'restart');
    const env = {
      SENTINEL_DEVICE_ID: 'cam-r',
      SENTINEL_MQTT_URL: broker.url,
      SENTINEL_MQTT_PASSWORD: device.password,
      SENTINEL_GROUP: 'restart',
      SENTINEL_DATA_DIR: dir,
      SENTINEL_API: '127.0.0.1:0',
    };
    const v1 = server.add('det', '1.0.0', fastModel());
    const v2 = server.add('det', '2.0.0', slowModel());
    agent = await spawnAgent(env);
    await broker.publishDesired({ group: 'restart' }, { model: v1 });
    await broker.waitForState('cam-r', (s) => serving(s, v1));
    await broker.publishDesired({ group: 'restart' }, { model: v2, previous: v1 });
    const before = await broker.waitForState('cam-r', (s) => serving(s, v2));
    assert.equal(before.active_slot, 'green');

    await stopProcess(agent.child, 'SIGKILL');
    const saved = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as { active: string };
    assert.equal(saved.active, 'green');

    server.failWith = 503; // nothing may be downloaded again
    const requests = server.requests.length;
    agent = await spawnAgent(env);
    const after = await status(agent);
    assert.equal(after.active_slot, 'green');
    assert.equal((after.slots as Record<string, { version: string }>).green.version, '2.0.0');
    assert.equal((after.slots as Record<string, { version: string }>).blue.version, '1.0.0');
    assert.equal(await inferVersion(agent), '2.0.0');
    // It reconnects, reads the retained desired state and finds nothing to do.
    const state = await broker.waitForState(
      'cam-r',
      (s) => s.online && s.deployment?.phase === 'active' && s.ts > before.ts,
    );
    assert.ok(serving(state, v2));
    assert.equal(server.requests.length, requests);
    assert.equal(after.downloads, 0);
  });
});

describe('hub to device: push, pin, serve', () => {
  let hub: InProcessHub;
  let agent: AgentProcess | undefined;
  let dir: string;

  before(async () => {
    hub = await startHub();
    dir = await mkdtemp(join(tmpdir(), 'agent-hub-'));
  });
  after(async () => {
    if (agent) await stopProcess(agent.child);
    await hub.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('an agent that knows only its credential learns its group, downloads with it and serves', async () => {
    await createGroup(hub, 'lobby');
    const device = await createDevice(hub, 'cam-hub-1', 'lobby');
    const pushed = await json<{ id: string }>(
      await pushModel(hub, fastModel(), { name: 'det', version: '1.0.0' }),
    );
    agent = await spawnAgent({
      SENTINEL_DEVICE_ID: 'cam-hub-1',
      SENTINEL_MQTT_URL: `mqtt://127.0.0.1:${hub.mqtt!.port}`,
      SENTINEL_MQTT_PASSWORD: device.credentials.password,
      SENTINEL_HUB_URL: hub.url,
      SENTINEL_DATA_DIR: dir,
      SENTINEL_API: '127.0.0.1:0',
    });
    await pinGroup(hub, 'lobby', pushed.id);
    const deadline = Date.now() + 30_000;
    let last: Record<string, unknown> = {};
    while (Date.now() < deadline) {
      last = await status(agent);
      if (last.active_slot) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(last.group, 'lobby');
    assert.equal(last.active_slot, 'blue', JSON.stringify(last));
    assert.equal(last.downloads, 1);
    assert.equal(await inferVersion(agent), '1.0.0');
  });

  it('follows its device to another group', async () => {
    await createGroup(hub, 'yard');
    const v2 = await json<{ id: string }>(
      await pushModel(hub, slowModel(), { name: 'det', version: '2.0.0' }),
    );
    await pinGroup(hub, 'yard', v2.id);
    const moved = await fetch(`${hub.url}/api/v1/devices/cam-hub-1`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ group: 'yard' }),
    });
    assert.equal(moved.status, 200, await moved.text());
    const deadline = Date.now() + 30_000;
    let last: Record<string, unknown> = {};
    while (Date.now() < deadline) {
      last = await status(agent!);
      if (
        last.group === 'yard' &&
        (last.deployment as { phase?: string } | null)?.phase === 'active'
      )
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(last.group, 'yard', `${JSON.stringify(last)}\n${agent!.stderr()}`);
    assert.equal(await inferVersion(agent!), '2.0.0');
  });
});
