import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createBroker, type SentinelBroker } from './create-broker.js';
import { deviceStateTopic, groupDesiredTopic } from './topics.js';

// Clients nobody here wrote, against this broker (Aedes behaviour: a denied publish closes the
// connection, which mosquitto_pub reports as "connection was lost").

const installed = spawnSync('mosquitto_pub', ['--help'], { stdio: 'ignore' }).error === undefined;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Asynchronous on purpose: the broker runs in this process and must keep serving.
function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

describe(
  'mosquitto_pub / mosquitto_sub against the broker',
  { skip: installed ? false : 'mosquitto-clients not installed' },
  () => {
    let broker: SentinelBroker;
    let base: string[];
    const device = ['-i', 'cam-1', '-u', 'cam-1', '-P', 'pw-cam-1'];

    before(async () => {
      broker = await createBroker({
        host: '127.0.0.1',
        port: 0,
        authenticate: async (_client, username, password) =>
          username === 'cam-1' && password?.toString() === 'pw-cam-1'
            ? { kind: 'device', deviceId: 'cam-1', group: 'lobby' }
            : null,
      });
      base = ['-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv311', '-q', '1'];
    });

    after(async () => {
      await broker.close();
    });

    it('refuses a wrong password', async () => {
      const r = await run('mosquitto_pub', [
        ...base,
        '-i',
        'cam-1',
        '-u',
        'cam-1',
        '-P',
        'nope',
        '-t',
        deviceStateTopic('cam-1'),
        '-m',
        '{}',
      ]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /bad user name or password/);
    });

    it('accepts a publish on the device state topic and drops one on another device', async () => {
      assert.equal(
        (
          await run('mosquitto_pub', [
            ...base,
            ...device,
            '-t',
            deviceStateTopic('cam-1'),
            '-m',
            '{}',
          ])
        ).code,
        0,
      );
      const denied = await run('mosquitto_pub', [
        ...base,
        ...device,
        '-t',
        deviceStateTopic('cam-2'),
        '-m',
        '{}',
      ]);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /connection was lost/);
    });

    it('delivers the retained group desired state and denies a wildcard', async () => {
      await broker.publish(groupDesiredTopic('lobby'), '{"seq":1}', { qos: 1, retain: true });
      const r = await run('mosquitto_sub', [
        ...base,
        ...device,
        '-t',
        groupDesiredTopic('lobby'),
        '-C',
        '1',
        '-W',
        '5',
        '-v',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${groupDesiredTopic('lobby')} {"seq":1}`);
      const denied = await run('mosquitto_sub', [
        ...base,
        ...device,
        '-t',
        'sentinel/v1/#',
        '-C',
        '1',
        '-W',
        '5',
      ]);
      assert.match(denied.stderr, /All subscription requests were denied/);
      await broker.publish(groupDesiredTopic('lobby'), '', { qos: 1, retain: true });
    });

    it('refuses MQTT 5', async () => {
      const r = await run('mosquitto_pub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(broker.port),
        '-V',
        'mqttv5',
        ...device,
        '-t',
        deviceStateTopic('cam-1'),
        '-m',
        '{}',
      ]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Unsupported Protocol Version/);
    });
  },
);
