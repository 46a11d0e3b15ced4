import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cohortBucket, inCohort } from './cohort.js';
import { createBroker, type SentinelBroker } from './create-broker.js';
import {
  LATENCY_HIST_RELATIVE_ERROR,
  histogramCount,
  histogramPercentile,
  latencyBucket,
  latencyBucketBounds,
} from './latency-histogram.js';
import {
  MESSAGE_KINDS,
  encodeMessage,
  messageJsonSchemaFiles,
  parseMessage,
  type DesiredState,
  type DeviceState,
  type MessageKind,
} from './protocol.js';
import {
  deviceCommandsTopic,
  deviceDesiredTopic,
  deviceStateTopic,
  groupDesiredTopic,
} from './topics.js';

// Compiled to broker/dist/: the repository root is two levels up.
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const protocolMd = readFileSync(`${repoRoot}docs/protocol.md`, 'utf8');

/** Code blocks that follow a `<!-- tag: name -->` comment in docs/protocol.md. */
function taggedBlocks(tag: string): Array<{ name: string; code: string }> {
  const re = new RegExp(
    `<!-- ${tag}: ([a-z-]+) -->\\s*\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``,
    'g',
  );
  return [...protocolMd.matchAll(re)].map((m) => ({ name: m[1], code: m[2] }));
}

function snippet(name: string): string {
  const block = taggedBlocks('snippet').find((b) => b.name === name);
  assert.ok(block, `snippet ${name} in docs/protocol.md`);
  return block.code;
}

describe('docs/protocol', () => {
  it('docs/protocol/*.json match the schemas in the code (npm run protocol:schemas)', () => {
    for (const [name, text] of Object.entries(messageJsonSchemaFiles())) {
      let committed: unknown;
      try {
        committed = JSON.parse(readFileSync(`${repoRoot}docs/protocol/${name}`, 'utf8'));
      } catch (err) {
        assert.fail(
          `docs/protocol/${name} is missing or not JSON (${String(err)}): run npm run protocol:schemas`,
        );
      }
      assert.deepEqual(
        committed,
        JSON.parse(text),
        `docs/protocol/${name} is stale: run npm run protocol:schemas`,
      );
    }
  });

  it('every example in protocol.md is valid, and every message has one', () => {
    const examples = taggedBlocks('example');
    for (const { name, code } of examples) {
      assert.ok((MESSAGE_KINDS as string[]).includes(name), `unknown example kind ${name}`);
      const result = parseMessage(name as MessageKind, code);
      assert.ok(result.ok, `${name} example: ${result.ok ? '' : result.error}\n${code}`);
    }
    for (const kind of MESSAGE_KINDS) {
      assert.ok(
        examples.some((e) => e.name === kind),
        `no example for ${kind}`,
      );
    }
  });

  it("the telemetry example's latency_hist agrees with its frames and latency_ms", () => {
    const example = taggedBlocks('example').find((b) => b.name === 'telemetry');
    const parsed = parseMessage('telemetry', example!.code);
    assert.ok(parsed.ok);
    const { frames, latency_ms: ms, latency_hist: hist } = parsed.value;
    assert.ok(hist, 'the example shows latency_hist');
    assert.equal(histogramCount(hist), frames);
    for (const [p, exact] of [
      [50, ms.p50],
      [95, ms.p95],
    ] as const) {
      const estimate = histogramPercentile(hist, p)!;
      assert.ok(Math.abs(estimate - exact) <= exact * LATENCY_HIST_RELATIVE_ERROR, `p${p}`);
      const { lower, upper } = latencyBucketBounds(latencyBucket(exact));
      assert.ok(estimate > lower && estimate <= upper, `p${p} in the bucket of ${exact}`);
    }
    assert.equal(Math.max(...hist.map(([b]) => b)), latencyBucket(ms.max));
  });

  it('states the cohort worked example the code computes', () => {
    const bucket = cohortBucket('canary-2024', 'cam-0001');
    assert.equal(bucket, 5445);
    assert.match(protocolMd, /salt `canary-2024`, device id `cam-0001`/);
    assert.ok(protocolMd.includes(`mod 10000 = **${bucket}**`));
  });

  it('names every topic of the tree', () => {
    for (const topic of [
      groupDesiredTopic('x').replace('/x/', '/{group}/'),
      deviceDesiredTopic('x').replace('/x/', '/{device}/'),
      deviceCommandsTopic('x').replace('/x/', '/{device}/'),
      deviceStateTopic('x').replace('/x/', '/{device}/'),
      'sentinel/v1/devices/{device}/telemetry',
    ]) {
      assert.ok(protocolMd.includes(`\`${topic}\``), topic);
    }
  });
});

const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : null;

describe(
  'docs/protocol Python cohort snippet',
  { skip: python ? false : 'python3 not found' },
  () => {
    it('computes the same buckets and memberships as cohort.ts', () => {
      const ids = Array.from({ length: 300 }, (_, i) => `dev-${i}`);
      const percents = [0, 0.01, 5, 12.345, 25, 50.005, 99.99, 100];
      const program = `${snippet('python-cohort')}
import json, sys
ids, percents = json.load(sys.stdin)
print(json.dumps([[cohort_bucket("s", i), [in_cohort(i, {"percent": p, "salt": "s"}) for p in percents]] for i in ids]))
`;
      const run = spawnSync(python!, ['-c', program], {
        input: JSON.stringify([ids, percents]),
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, run.stderr);
      const expected = ids.map((id) => [
        cohortBucket('s', id),
        percents.map((percent) => inCohort(id, { percent, salt: 's' })),
      ]);
      assert.deepEqual(JSON.parse(run.stdout), expected);
    });
  },
);

/** A python3 that has paho-mqtt (Debian: python3-paho-mqtt), or null. */
function pythonWithPaho(): string | null {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    if (spawnSync(candidate, ['-c', 'import paho.mqtt.client'], { stdio: 'ignore' }).status === 0) {
      return candidate;
    }
  }
  return null;
}

const pahoPython = pythonWithPaho();

describe(
  'docs/protocol Python agent against the broker',
  { skip: pahoPython ? false : 'no python3 with paho-mqtt (apt-get install python3-paho-mqtt)' },
  () => {
    const deviceId = 'py-cam-1';
    const group = 'py-group';
    let broker: SentinelBroker;
    let agent: ChildProcess | null = null;
    const states: DeviceState[] = [];
    const stdout: string[] = [];
    const events = new EventEmitter();

    /** Resolves once something received so far (or later) satisfies the predicate. */
    function until<T>(list: T[], pred: (item: T) => boolean, what: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          events.removeListener('update', check);
          reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(list)}`));
        }, 10_000);
        function check() {
          const found = list.find(pred);
          if (found === undefined) return;
          clearTimeout(timer);
          events.removeListener('update', check);
          resolve(found);
        }
        events.on('update', check);
        check();
      });
    }

    const model = (version: string): NonNullable<DesiredState['model']> => ({
      id: '0b6f8c1e-3f0e-4a59-9d2a-1c2b3d4e5f60',
      name: 'people-detector',
      version,
      sha256: 'a'.repeat(64),
      size: 1,
      url: 'http://127.0.0.1:1/artifact',
      signature: null,
    });
    const desired = (
      seq: number,
      version: string,
      strategy: DesiredState['strategy'] = 'blue-green',
    ) =>
      encodeMessage('desired-state', {
        deployment_id: `dep-${seq}`,
        seq,
        strategy,
        model: model(version),
        previous: null,
        activate: 'new',
        cohort: null,
        issued_at: new Date().toISOString(),
      });

    before(async () => {
      broker = await createBroker({
        host: '127.0.0.1',
        port: 0,
        authenticate: async (_client, username, password) =>
          username === deviceId && password?.toString() === 'py-secret'
            ? { kind: 'device', deviceId, group }
            : null,
      });
      await broker.subscribe(deviceStateTopic(deviceId), (_topic, payload) => {
        if (payload.length === 0) return;
        const parsed = parseMessage('device-state', payload);
        assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
        states.push(parsed.value);
        events.emit('update');
      });
      const code = `${snippet('python-cohort')}\n${snippet('python-agent')}`;
      agent = spawn(pahoPython!, ['-u', '-c', code], {
        env: {
          ...process.env,
          SENTINEL_MQTT_HOST: '127.0.0.1',
          SENTINEL_MQTT_PORT: String(broker.port),
          SENTINEL_DEVICE_ID: deviceId,
          SENTINEL_DEVICE_SECRET: 'py-secret',
          SENTINEL_GROUP: group,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let buffered = '';
      agent.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        stdout.push(...lines);
        events.emit('update');
      });
      agent.stderr!.setEncoding('utf8').on('data', (chunk: string) => process.stderr.write(chunk));
    });

    after(async () => {
      if (agent && agent.exitCode === null && agent.signalCode === null) {
        const exited = new Promise((resolve) => agent!.once('exit', resolve));
        agent.kill('SIGKILL');
        await exited;
      }
      await broker.publish(groupDesiredTopic(group), '', { qos: 1, retain: true });
      await broker.publish(deviceStateTopic(deviceId), '', { qos: 1, retain: true });
      await broker.close();
    });

    it('connects and reports itself online', async () => {
      await until(states, (s) => s.online && s.device_id === deviceId, 'online state');
    });

    it('applies the group desired state, then a device override, then falls back', async () => {
      await broker.publish(groupDesiredTopic(group), desired(5, '1.4.0'), { qos: 1, retain: true });
      await until(
        states,
        (s) => s.deployment?.seq === 5 && s.deployment.phase === 'notified',
        'seq 5',
      );
      await until(stdout, (l) => l === 'desired seq 5: serve 1.4.0', 'agent output for seq 5');

      // A stale group message is ignored: the next line printed is the override's.
      await broker.publish(groupDesiredTopic(group), desired(4, '0.0.4'), { qos: 1, retain: true });
      await broker.publish(deviceDesiredTopic(deviceId), desired(1, '9.9.9', 'pinned'), {
        qos: 1,
        retain: true,
      });
      await until(stdout, (l) => l === 'desired seq 1: serve 9.9.9', 'the override');
      assert.ok(!stdout.some((l) => l.includes('0.0.4')), stdout.join('\n'));

      // The override wins over a newer group message...
      await broker.publish(groupDesiredTopic(group), desired(6, '1.6.0'), { qos: 1, retain: true });
      await until(
        stdout,
        (l) => l === 'desired seq 1: serve 9.9.9' && stdout.filter((x) => x === l).length === 2,
        'the override applied again',
      );
      // ...until it is cleared.
      await broker.publish(deviceDesiredTopic(deviceId), '', { qos: 1, retain: true });
      await until(stdout, (l) => l === 'desired seq 6: serve 1.6.0', 'fallback to the group');
    });

    it('answers a ping, once per command id', async () => {
      await until(states, (s) => s.deployment?.seq === 6, 'the state for seq 6');
      const before = states.length;
      const ping = (id: string) =>
        encodeMessage('command', { command: 'ping', id, issued_at: new Date().toISOString() });
      await broker.publish(deviceCommandsTopic(deviceId), ping('ping-1'), {
        qos: 1,
        retain: false,
      });
      await broker.publish(deviceCommandsTopic(deviceId), ping('ping-1'), {
        qos: 1,
        retain: false,
      });
      await broker.publish(deviceCommandsTopic(deviceId), ping('ping-2'), {
        qos: 1,
        retain: false,
      });
      // A later desired state marks the end: every ping was handled before it.
      await broker.publish(groupDesiredTopic(group), desired(7, '1.7.0'), { qos: 1, retain: true });
      await until(states, (s) => s.deployment?.seq === 7, 'seq 7');
      const pongs = states.slice(before).filter((s) => s.deployment?.seq === 6);
      assert.equal(pongs.length, 2);
    });

    it('its Last Will marks it offline when the process dies', async () => {
      const exited = new Promise((resolve) => agent!.once('exit', resolve));
      agent!.kill('SIGKILL');
      await exited;
      const last = await until(states, (s) => !s.online, 'the Last Will');
      assert.deepEqual(Object.keys(last).sort(), ['device_id', 'online', 'ts']);
    });
  },
);
