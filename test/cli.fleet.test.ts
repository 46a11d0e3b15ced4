// The fleet half of the `sentinel` CLI against a real hub: groups, devices (the credential printed
// once as the agent's environment, used as printed by a real agent and a real MQTT client),
// rotation, moves, desired-state pins, tokens, and models by name@version in the CLI and the API.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync } from 'mqtt';
import { spawnAgent, stopProcess, type AgentProcess } from './support/agent-fixture.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { runProcess } from './support/process.js';

const BIN = new URL('../src/cli/main.js', import.meta.url).pathname;

function sentinel(hub: InProcessHub, args: string[], env: Record<string, string> = {}) {
  return runProcess(process.execPath, [BIN, ...args], {
    PATH: process.env.PATH,
    SENTINEL_URL: hub.url,
    SENTINEL_TOKEN: hub.adminToken,
    ...env,
  });
}

async function ok(hub: InProcessHub, args: string[], env: Record<string, string> = {}) {
  const result = await sentinel(hub, args, env);
  assert.equal(result.code, 0, `sentinel ${args.join(' ')}: ${result.stderr}`);
  return result;
}

async function json<T>(hub: InProcessHub, args: string[]): Promise<T> {
  return JSON.parse((await ok(hub, [...args, '--json'])).stdout) as T;
}

/** KEY=value lines as an agent's environment file holds them. */
function parseEnvLines(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n').filter(Boolean)) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    assert.ok(match, `not an environment line: ${line}`);
    env[match[1]] = match[2];
  }
  return env;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function serving(agent: AgentProcess): Promise<string | null> {
  const status = (await (await fetch(`${agent.apiUrl}/v1/status`)).json()) as {
    active_slot: string | null;
    slots: Record<string, { version: string } | null>;
  };
  return status.active_slot ? (status.slots[status.active_slot]?.version ?? null) : null;
}

async function mqttLogin(url: string, username: string, password: string): Promise<boolean> {
  try {
    const client = await connectAsync(url, {
      username,
      password,
      clientId: username,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    await client.endAsync();
    return true;
  } catch {
    return false;
  }
}

describe('sentinel CLI: groups, devices, pins and tokens against a real hub', () => {
  let hub: InProcessHub;
  let agent: AgentProcess | undefined;
  let mqttUrl: string;
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-cli-fleet-'));
  const push = (file: string, version: string) =>
    json<{ id: string }>(hub, [
      'model',
      'push',
      file,
      '--name',
      'fleet-det',
      '--version',
      version,
      '--model-type',
      'detector',
      '--framework',
      'onnx',
      '--stage',
      'staging',
    ]);
  let first: { id: string };

  before(async () => {
    hub = await startHub();
    mqttUrl = `mqtt://127.0.0.1:${hub.mqtt!.port}`;
    writeFileSync(join(dir, 'fast.onnx'), fastModel());
    writeFileSync(join(dir, 'slow.onnx'), slowModel());
    first = await push(join(dir, 'fast.onnx'), '1.0.0');
    await push(join(dir, 'slow.onnx'), '1.1.0');
  });
  after(async () => {
    if (agent) await stopProcess(agent.child);
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, lists and shows groups', async () => {
    const created = await ok(hub, [
      'group',
      'create',
      'yard',
      '--environment',
      'production',
      '--label',
      'site=north',
    ]);
    assert.match(created.stdout, /^group yard\n/);
    await ok(hub, ['group', 'create', 'depot', '--environment', 'production']);
    const list = await ok(hub, ['group', 'list', '--environment', 'production']);
    assert.match(list.stdout, /^NAME +ENVIRONMENT +DEVICES/);
    assert.match(list.stdout, /yard +production +0 +- +site=north/);
    const group = await json<{ name: string; labels: object }>(hub, ['group', 'get', 'yard']);
    assert.deepEqual(group.labels, { site: 'north' });
  });

  let env: Record<string, string>;
  it('creates a device and prints its credential once, as environment lines an agent runs with', async () => {
    const created = await ok(hub, ['device', 'create', 'cam-1', '--group', 'yard'], {
      SENTINEL_MQTT_URL: mqttUrl,
    });
    assert.match(created.stderr, /created device cam-1 in group yard \(production\)/);
    assert.match(created.stderr, /shown only now/);
    env = parseEnvLines(created.stdout);
    assert.deepEqual(Object.keys(env), [
      'SENTINEL_HUB_URL',
      'SENTINEL_MQTT_URL',
      'SENTINEL_DEVICE_ID',
      'SENTINEL_MQTT_USERNAME',
      'SENTINEL_MQTT_PASSWORD',
    ]);
    assert.equal(env.SENTINEL_HUB_URL, hub.url);
    assert.equal(env.SENTINEL_MQTT_URL, mqttUrl);
    assert.equal(env.SENTINEL_DEVICE_ID, 'cam-1');
    assert.equal(env.SENTINEL_MQTT_USERNAME, 'cam-1');
    // Never again: not in the device as read back.
    const shown = await ok(hub, ['device', 'get', 'cam-1', '--json']);
    assert.ok(!shown.stdout.includes(env.SENTINEL_MQTT_PASSWORD));

    agent = await spawnAgent({
      ...env,
      SENTINEL_DATA_DIR: join(dir, 'agent'),
      SENTINEL_API: '127.0.0.1:0',
    });
    await until('cam-1 online', async () => {
      const device = await json<{ online: boolean }>(hub, ['device', 'get', 'cam-1']);
      return device.online ? true : undefined;
    });
    const list = await ok(hub, ['device', 'list', '--group', 'yard']);
    assert.match(list.stdout, /cam-1 +yard +production +yes/);
  });

  it('pins a model by name@version on the group, then on the device, and unpins', async () => {
    const pinned = await ok(hub, ['group', 'pin', 'yard', 'fleet-det@1.0.0']);
    assert.match(pinned.stdout, /model +fleet-det@1\.0\.0/);
    await until('1.0.0 served', async () =>
      (await serving(agent!)) === '1.0.0' ? true : undefined,
    );
    const desired = await json<{ model: { id: string } }>(hub, ['group', 'desired', 'yard']);
    assert.equal(desired.model.id, first.id);

    const devicePin = await ok(hub, ['device', 'pin', 'cam-1', 'fleet-det@1.1.0']);
    assert.match(devicePin.stdout, /^pinned device cam-1\n {2}model +fleet-det@1\.1\.0\n/);
    await until('1.1.0 served', async () =>
      (await serving(agent!)) === '1.1.0' ? true : undefined,
    );
    assert.match((await ok(hub, ['device', 'desired', 'cam-1'])).stdout, /fleet-det@1\.1\.0/);
    await ok(hub, ['device', 'unpin', 'cam-1']);
    assert.match((await ok(hub, ['device', 'desired', 'cam-1'])).stdout, /no desired state/);
    await until('back to 1.0.0', async () =>
      (await serving(agent!)) === '1.0.0' ? true : undefined,
    );
  });

  it('rotates the credential: the old password stops, the printed new one logs in', async () => {
    await stopProcess(agent!.child);
    agent = undefined;
    assert.equal(await mqttLogin(mqttUrl, 'cam-1', env.SENTINEL_MQTT_PASSWORD), true);
    const rotated = await json<{ agent_env: Record<string, string> }>(hub, [
      'device',
      'rotate',
      'cam-1',
      '--mqtt-url',
      mqttUrl,
    ]);
    const fresh = rotated.agent_env.SENTINEL_MQTT_PASSWORD;
    assert.notEqual(fresh, env.SENTINEL_MQTT_PASSWORD);
    assert.equal(await mqttLogin(mqttUrl, 'cam-1', env.SENTINEL_MQTT_PASSWORD), false);
    assert.equal(await mqttLogin(mqttUrl, 'cam-1', fresh), true);
  });

  it('moves a device to another group', async () => {
    const moved = await ok(hub, ['device', 'move', 'cam-1', 'depot']);
    assert.match(moved.stdout, /group +depot/);
    const result = await sentinel(hub, ['device', 'move', 'cam-1', 'nowhere']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^sentinel: group "nowhere" does not exist.*\(HTTP 400/);
  });

  it('creates, lists and revokes tokens; the secret alone is on stdout', async () => {
    const created = await ok(hub, ['token', 'create', 'nightly-ci', '--role', 'viewer']);
    const secret = created.stdout.trim();
    assert.match(created.stderr, /created viewer token nightly-ci/);
    assert.equal((await sentinel(hub, ['model', 'list'], { SENTINEL_TOKEN: secret })).code, 0);
    const tokens = await json<{ id: string; name: string }[]>(hub, ['token', 'list']);
    const token = tokens.find((t) => t.name === 'nightly-ci');
    assert.ok(token);
    assert.match((await ok(hub, ['token', 'list'])).stdout, /nightly-ci +viewer/);
    await ok(hub, ['token', 'delete', token.id]);
    assert.equal((await sentinel(hub, ['model', 'list'], { SENTINEL_TOKEN: secret })).code, 4);
    assert.equal((await sentinel(hub, ['token', 'create', 'x', '--role', 'root'])).code, 2);
  });

  it('answers a desired state that is not set as JSON null, not an empty body', async () => {
    for (const path of ['/api/v1/devices/cam-1/desired', '/api/v1/groups/depot/desired']) {
      const response = await api(hub)(path);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(await response.text(), 'null');
    }
  });

  it('takes models by name@version in the API', async () => {
    const byName = await api(hub)('/api/v1/models/fleet-det@1.0.0');
    assert.equal(byName.status, 200);
    assert.equal(((await byName.json()) as { id: string }).id, first.id);
    const lineage = await api(hub)('/api/v1/models/fleet-det@1.0.0/lineage');
    assert.equal(lineage.status, 200);
    const missing = await api(hub)('/api/v1/models/fleet-det@9.9.9');
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { message: string }).message, /fleet-det@9\.9\.9/);
    const junk = await api(hub)('/api/v1/models/fleet-det');
    assert.equal(junk.status, 400);
    assert.match(((await junk.json()) as { message: string }).message, /name@version/);
    const deployment = await api(hub)('/api/v1/deployments', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model_id: 'fleet-det@1.1.0',
        environment: 'production',
        deployment_type: 'blue-green',
        target: 'depot',
      }),
    });
    assert.equal(deployment.status, 201, await deployment.clone().text());
    const created = (await deployment.json()) as { model: { version: string } };
    assert.equal(created.model.version, '1.1.0');
    const badPin = await api(hub)('/api/v1/groups/yard/desired', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model_id: 'fleet-det' }),
    });
    assert.equal(badPin.status, 400);
  });

  it('takes models by name@version in the CLI, with the same exit codes everywhere', async () => {
    const got = await json<{ id: string }>(hub, ['model', 'get', 'fleet-det@1.0.0']);
    assert.equal(got.id, first.id);
    const listed = await ok(hub, ['deployment', 'list', '--model-id', 'fleet-det@1.1.0']);
    assert.match(listed.stdout, /fleet-det@1\.1\.0/);
    const updated = await json<{ stage: string }>(hub, [
      'model',
      'update',
      'fleet-det@1.1.0',
      '--stage',
      'production',
    ]);
    assert.equal(updated.stage, 'production');

    // Missing: the hub's 404, exit 1, for get and deploy alike.
    const missing = [
      await sentinel(hub, ['model', 'get', 'fleet-det@7.0.0']),
      await sentinel(hub, [
        'model',
        'deploy',
        'fleet-det@7.0.0',
        '--environment',
        'production',
        '--deployment-type',
        'blue-green',
      ]),
    ];
    for (const result of missing) {
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /^sentinel: model fleet-det@7\.0\.0 not found \(HTTP 404/);
    }
    // Malformed: exit 2, nothing sent, for every command that takes a model.
    for (const args of [
      ['model', 'get', 'fleet-det'],
      [
        'model',
        'deploy',
        'fleet-det',
        '--environment',
        'production',
        '--deployment-type',
        'canary',
      ],
      ['model', 'update', 'fleet-det', '--stage', 'archived'],
      ['model', 'delete', 'fleet-det'],
      ['group', 'pin', 'yard', 'fleet-det'],
      ['device', 'pin', 'cam-1', 'fleet-det'],
    ]) {
      const result = await sentinel(hub, args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(
        result.stderr,
        /^sentinel: model "fleet-det" must be a model version id \(UUID\), name@version \(e\.g\. detector@2\.0\.0\) or name@alias/,
      );
    }
  });

  it('moves an alias, shows its history, deploys through it and honours stage gates', async () => {
    const set = await json<{ version: string }>(hub, [
      'model',
      'alias',
      'set',
      'fleet-det@champion',
      '1.0.0',
      '--reason',
      'first pick',
    ]);
    assert.equal(set.version, '1.0.0');
    await ok(hub, ['model', 'alias', 'set', 'fleet-det@champion', '1.1.0']);
    assert.match(
      (await ok(hub, ['model', 'alias', 'list', 'fleet-det'])).stdout,
      /fleet-det@champion\s+1\.1\.0/,
    );
    const history = (await ok(hub, ['model', 'alias', 'history', 'fleet-det@champion'])).stdout;
    assert.match(history, /1\.0\.0\s+1\.1\.0/);
    assert.match(history, /-\s+1\.0\.0\s+\S+\s+first pick/);
    assert.equal((await ok(hub, ['model', 'get', 'fleet-det@champion'])).code, 0);
    const bad = await sentinel(hub, ['model', 'alias', 'set', 'fleet-det@Champ', '1.0.0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^sentinel: alias "Champ" must be/);

    await ok(hub, ['group', 'create', 'gated-lobby', '--environment', 'gated']);
    await ok(hub, ['gate', 'set', 'gated', '--stage', 'archived']);
    assert.match((await ok(hub, ['gate', 'list'])).stdout, /gated\s+archived\s+-/);
    const deployArgs = [
      'model',
      'deploy',
      'fleet-det@champion',
      '--environment',
      'gated',
      '--deployment-type',
      'blue-green',
    ];
    const held = await sentinel(hub, deployArgs);
    assert.equal(held.code, 1, held.stderr);
    assert.match(held.stderr, /gated takes versions in stage archived; fleet-det@1\.1\.0 is in/);
    const overridden = await json<{ model: { version: string } }>(hub, [
      ...deployArgs,
      '--override-gates',
    ]);
    assert.equal(overridden.model.version, '1.1.0');
    assert.match(
      (await ok(hub, ['gate', 'rm', 'gated'])).stdout,
      /removed the stage gates of gated/,
    );
    assert.match(
      (await ok(hub, ['model', 'alias', 'rm', 'fleet-det@champion'])).stdout,
      /removed fleet-det@champion/,
    );
  });

  it('sets and clears maintenance windows of a group', async () => {
    const set = await ok(hub, [
      'group',
      'windows',
      'gated-lobby',
      '--window',
      'mon-fri 22:00-04:00 Europe/Berlin',
      '--window',
      'sat,sun 01:00-05:00',
    ]);
    assert.match(
      set.stdout,
      /windows +mon,tue,wed,thu,fri 22:00-04:00 Europe\/Berlin; sat,sun 01:00-05:00 UTC/,
    );
    const refused = await sentinel(hub, [
      'group',
      'windows',
      'gated-lobby',
      '--window',
      'mon 01:00-02:00 Mars/Base',
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not an IANA time zone/);
    assert.match(
      (await ok(hub, ['group', 'windows', 'gated-lobby', '--none'])).stdout,
      /windows +any time/,
    );
  });

  it('deletes a model by name@version, and refuses one a pin still needs', async () => {
    await push(join(dir, 'fast.onnx'), '3.0.0');
    await ok(hub, ['model', 'delete', 'fleet-det@3.0.0']);
    assert.equal((await sentinel(hub, ['model', 'get', 'fleet-det@3.0.0'])).code, 1);
    const pinned = await sentinel(hub, ['model', 'delete', 'fleet-det@1.0.0']);
    assert.equal(pinned.code, 1);
    assert.match(pinned.stderr, /HTTP 409/);
  });

  it('deletes devices and groups', async () => {
    assert.match((await ok(hub, ['device', 'delete', 'cam-1'])).stdout, /deleted device cam-1/);
    assert.match((await ok(hub, ['group', 'delete', 'yard'])).stdout, /deleted group yard/);
    assert.equal((await sentinel(hub, ['group', 'get', 'yard'])).code, 1);
    assert.equal((await sentinel(hub, ['group', 'get', 'Yard'])).code, 2);
  });
});
