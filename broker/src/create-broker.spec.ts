import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import { connect as netConnect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { Principal } from './acl.js';
import {
  createBroker,
  type BrokerOptions,
  type DeniedEvent,
  type SentinelBroker,
} from './create-broker.js';
import { IndexedRetainedPersistence } from './indexed-persistence.js';
import { parseMessage } from './message-codec.js';
import {
  deviceCommandsTopic,
  deviceDesiredTopic,
  deviceStateTopic,
  deviceTelemetryTopic,
  groupDesiredTopic,
} from './topics.js';

// These tests state Aedes behaviour (see stack-notes): a denied PUBLISH closes the connection, a
// denied SUBSCRIBE is granted 0x80 and the connection stays. Mosquitto behaves differently.

const WAIT_MS = 5000;

/** A ref'd timer: it keeps the loop alive, and is no longer active once it has fired. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Fails instead of hanging when something never happens; not a speed assertion. */
function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // Unref'd: the resource counts below must not see the test's own timers.
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Account {
  password: string;
  principal: Principal;
}

function accounts(): Record<string, Account> {
  return {
    'cam-1': {
      password: 'pw-cam-1',
      principal: { kind: 'device', deviceId: 'cam-1', group: 'lobby' },
    },
    'cam-2': {
      password: 'pw-cam-2',
      principal: { kind: 'device', deviceId: 'cam-2', group: 'garage' },
    },
    hub: { password: 'pw-hub', principal: { kind: 'hub' } },
    obs: { password: 'pw-obs', principal: { kind: 'observer' } },
  };
}

function authenticator(table: Record<string, Account>): BrokerOptions['authenticate'] {
  return async (_client, username, password) => {
    if (username === 'explode') throw new Error('credential store down');
    const account = username === undefined ? undefined : table[username];
    if (!account || password?.toString() !== account.password) return null;
    return account.principal;
  };
}

interface Harness {
  broker: SentinelBroker;
  denied: DeniedEvent[];
  connected: string[];
  disconnected: string[];
  warnings: string[];
}

async function startBroker(extra: Partial<BrokerOptions> = {}): Promise<Harness> {
  const h = { denied: [], connected: [], disconnected: [], warnings: [] } as unknown as Harness;
  h.broker = await createBroker({
    host: '127.0.0.1',
    port: 0,
    wsPort: 0,
    authenticate: authenticator(accounts()),
    onDenied: (e) => h.denied.push(e),
    onClientConnected: (id) => h.connected.push(id),
    onClientDisconnected: (id) => h.disconnected.push(id),
    logger: { warn: (m) => h.warnings.push(m), info: () => {} },
    observerUsername: 'obs',
    refusalLog: { lines: 10_000, intervalMs: 60_000 },
    ...extra,
  });
  return h;
}

const clients: MqttClient[] = [];

async function connect(
  url: string,
  username: string,
  password: string,
  opts: IClientOptions = {},
): Promise<MqttClient> {
  const client = await connectAsync(
    url,
    {
      clientId: username,
      username,
      password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: WAIT_MS,
      ...opts,
    },
    false,
  );
  clients.push(client);
  return client;
}

async function endAll(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
}

interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** Resolves with the next message on `topic` that matches. */
function nextMessage(
  client: MqttClient,
  topic: string,
  match: (m: Received) => boolean = () => true,
) {
  return within(
    new Promise<Received>((resolve) => {
      const onMessage = (t: string, payload: Buffer, packet: { retain?: boolean }) => {
        const m = { topic: t, payload, retain: packet.retain === true };
        if (t === topic && match(m)) {
          client.removeListener('message', onMessage);
          resolve(m);
        }
      };
      client.on('message', onMessage);
    }),
    `a message on ${topic}`,
  );
}

function closed(client: MqttClient): Promise<void> {
  return within(new Promise<void>((resolve) => client.once('close', () => resolve())), 'close');
}

function connectError(promise: Promise<unknown>): Promise<{ code?: number; message: string }> {
  return promise.then(
    () => assert.fail('connection was accepted'),
    (err: { code?: number; message: string }) => err,
  );
}

// libuv finishes closing handles a loop turn after their 'close' events.
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

const WATCHED_RESOURCES = ['TCPServerWrap', 'TCPSocketWrap', 'Timeout'];

function countResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) {
    if (WATCHED_RESOURCES.includes(r)) counts[r] = (counts[r] ?? 0) + 1;
  }
  return counts;
}

describe('createBroker (in memory)', () => {
  let h: Harness;
  let tcp: string;
  let ws: string;

  before(async () => {
    h = await startBroker({ maxPayloadBytes: 4096 });
    tcp = `mqtt://127.0.0.1:${h.broker.port}`;
    ws = `ws://127.0.0.1:${h.broker.wsPort}`;
  });

  after(async () => {
    await endAll();
    await h.broker.close();
  });

  it('keeps retained messages in the indexed persistence', () => {
    // aedes' default scans every retained message per SUBSCRIBE (see indexed-persistence.ts).
    const { persistence } = h.broker.aedes as unknown as {
      persistence: { asyncPersistence?: unknown };
    };
    assert.ok(persistence.asyncPersistence instanceof IndexedRetainedPersistence);
  });

  it('binds free ports', () => {
    assert.ok(h.broker.port! > 0);
    assert.ok(h.broker.wsPort !== null && h.broker.wsPort > 0 && h.broker.wsPort !== h.broker.port);
  });

  it('refuses a wrong password and an unknown user with CONNACK 4', async () => {
    for (const [user, pw] of [
      ['cam-1', 'wrong'],
      ['nobody', 'x'],
    ]) {
      const err = await connectError(connect(tcp, user, pw));
      assert.equal(err.code, 4);
      assert.match(err.message, /Bad username or password/);
    }
    const noCredentials = await connectError(
      connectAsync(tcp, { protocolVersion: 4, reconnectPeriod: 0 }, false),
    );
    assert.equal(noCredentials.code, 4);
  });

  it('answers CONNACK 3 when authenticate fails, 2 for a device using another client id', async () => {
    assert.equal((await connectError(connect(tcp, 'explode', 'x'))).code, 3);
    assert.match(h.warnings.join('\n'), /authentication unavailable: Error: credential store down/);
    const err = await connectError(connect(tcp, 'cam-1', 'pw-cam-1', { clientId: 'cam-2' }));
    assert.equal(err.code, 2);
  });

  it('refuses a Last Will on a topic the device may not publish (CONNACK 5)', async () => {
    const will = {
      topic: deviceStateTopic('cam-2'),
      payload: Buffer.from('{}'),
      qos: 1 as const,
      retain: true,
    };
    assert.equal((await connectError(connect(tcp, 'cam-1', 'pw-cam-1', { will }))).code, 5);
    assert.ok(h.denied.some((e) => e.action === 'will' && e.topic === will.topic));
  });

  for (const transport of ['tcp', 'ws'] as const) {
    it(`delivers retained and live desired state to an allowed subscriber (${transport})`, async () => {
      const url = transport === 'tcp' ? tcp : ws;
      const topic = groupDesiredTopic('lobby');
      await h.broker.publish(topic, `{"retained":"${transport}"}`, { qos: 1, retain: true });
      const device = await connect(url, 'cam-1', 'pw-cam-1');
      const retained = nextMessage(device, topic);
      const granted = await device.subscribeAsync(topic, { qos: 1 });
      assert.equal(granted[0].qos, 1);
      const first = await retained;
      assert.equal(first.retain, true);
      assert.equal(first.payload.toString(), `{"retained":"${transport}"}`);

      const live = nextMessage(device, topic, (m) => m.payload.toString() === 'live');
      await h.broker.publish(topic, 'live', { qos: 1, retain: false });
      assert.equal((await live).retain, false);

      await h.broker.publish(topic, '', { qos: 1, retain: true }); // clear
      await device.endAsync();
    });
  }

  it('grants 0x80 to a denied subscription and keeps the connection', async () => {
    const device = await connect(tcp, 'cam-1', 'pw-cam-1');
    const err = (await device.subscribeAsync('sentinel/v1/#', { qos: 1 }).then(
      () => assert.fail('subscription was granted'),
      (e: { packet?: { granted?: number[] } }) => e,
    )) as { packet?: { granted?: number[] } };
    assert.deepEqual(err.packet?.granted, [128]);
    const denial = h.denied.find((e) => e.action === 'subscribe' && e.topic === 'sentinel/v1/#');
    assert.deepEqual(denial?.principal, { kind: 'device', deviceId: 'cam-1', group: 'lobby' });
    assert.equal(denial?.clientId, 'cam-1');
    assert.match(h.warnings.join('\n'), /denied subscribe on "sentinel\/v1\/#" for device cam-1/);

    // Still connected and still served.
    assert.equal(device.connected, true);
    await device.subscribeAsync(deviceCommandsTopic('cam-1'), { qos: 1 });
    const command = nextMessage(device, deviceCommandsTopic('cam-1'));
    await h.broker.publish(deviceCommandsTopic('cam-1'), '{"command":"ping"}', {
      qos: 1,
      retain: false,
    });
    assert.equal((await command).payload.toString(), '{"command":"ping"}');
    await device.endAsync();
  });

  it('disconnects a device publishing where it may not, and delivers nothing', async () => {
    const observer = await connect(tcp, 'obs', 'pw-obs');
    await observer.subscribeAsync('sentinel/v1/#', { qos: 1 });
    const seen: string[] = [];
    observer.on('message', (topic) => seen.push(topic));

    for (const topic of [deviceStateTopic('cam-2'), groupDesiredTopic('lobby'), '$SYS/fake']) {
      const device = await connect(tcp, 'cam-1', 'pw-cam-1');
      const gone = closed(device);
      device.publish(topic, '{"spoof":true}', { qos: 1 }, () => {});
      await gone;
      assert.ok(
        h.denied.some((e) => e.action === 'publish' && e.topic === topic && e.clientId === 'cam-1'),
        topic,
      );
      device.end(true);
    }
    // A marker published after the denials arrives; nothing denied came before it.
    const marker = nextMessage(observer, deviceCommandsTopic('cam-9'));
    await h.broker.publish(deviceCommandsTopic('cam-9'), 'marker', { qos: 1, retain: false });
    await marker;
    assert.deepEqual(seen, [deviceCommandsTopic('cam-9')]);
    assert.equal(h.denied.find((e) => e.topic === '$SYS/fake')?.reason, 'reserved_topic');
    await observer.endAsync();
  });

  it('refuses an over-size publish and accepts one at the limit', async () => {
    const observer = await connect(tcp, 'obs', 'pw-obs');
    const topic = deviceTelemetryTopic('cam-1');
    await observer.subscribeAsync(topic, { qos: 0 });
    const device = await connect(tcp, 'cam-1', 'pw-cam-1');

    const atLimit = nextMessage(observer, topic);
    await device.publishAsync(topic, Buffer.alloc(4096, 0x61), { qos: 1 });
    assert.equal((await atLimit).payload.length, 4096);

    const received: number[] = [];
    observer.on('message', (_t, payload: Buffer) => received.push(payload.length));
    const gone = closed(device);
    device.publish(topic, Buffer.alloc(4097, 0x61), { qos: 1 }, () => {});
    await gone;
    const denial = h.denied.find((e) => e.reason === 'payload_too_large');
    assert.equal(denial?.topic, topic);

    const marker = nextMessage(observer, topic, (m) => m.payload.toString() === 'marker');
    await h.broker.publish(topic, 'marker', { qos: 0, retain: false });
    await marker;
    assert.deepEqual(received, [6]);
    device.end(true);
    await observer.endAsync();
  });

  it('drops a connection announcing a huge packet at its header', async () => {
    const socket = netConnect(h.broker.port!, '127.0.0.1');
    const gone = within(
      new Promise((resolve) => socket.once('close', resolve)),
      'the broker to drop the socket',
    );
    socket.on('error', () => {});
    // A CONNECT claiming 268 MB: without the guard Aedes would wait for the bytes.
    socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    await gone;
    assert.match(h.warnings.join('\n'), /announced a \d+-byte packet/);
  });

  it('refuses in-process publishes on unpublishable topics or over the limit', async () => {
    await assert.rejects(
      h.broker.publish('sentinel/v1/devices/+/state', 'x', { qos: 0, retain: false }),
      TypeError,
    );
    await assert.rejects(h.broker.publish('$SYS/x', 'x', { qos: 0, retain: false }), TypeError);
    await assert.rejects(
      h.broker.publish('a/b', Buffer.alloc(4097), { qos: 0, retain: false }),
      RangeError,
    );
  });

  it('publishes the Last Will (retained state online:false) when a device drops', async () => {
    const topic = deviceStateTopic('cam-1');
    const lwt = JSON.stringify({ device_id: 'cam-1', online: false, ts: new Date().toISOString() });
    const device = await connect(tcp, 'cam-1', 'pw-cam-1', {
      will: { topic, payload: Buffer.from(lwt), qos: 1, retain: true },
    });
    const gone = closed(device);
    device.stream.destroy(); // no DISCONNECT: the broker must publish the will
    await gone;
    device.end(true);

    const observer = await connect(tcp, 'obs', 'pw-obs');
    const retained = nextMessage(observer, topic);
    await observer.subscribeAsync(topic, { qos: 1 });
    const message = await retained;
    assert.equal(message.retain, true);
    const parsed = parseMessage('device-state', message.payload);
    assert.ok(parsed.ok && parsed.value.online === false);
    await h.broker.publish(topic, '', { qos: 1, retain: true });
    await observer.endAsync();
  });

  it('subscribes in process as the hub', async () => {
    const got: string[] = [];
    const unsubscribe = await h.broker.subscribe(
      'sentinel/v1/devices/+/state',
      (topic, payload) => {
        got.push(`${topic} ${payload.toString()}`);
      },
    );
    const device = await connect(tcp, 'cam-1', 'pw-cam-1');
    await device.publishAsync(deviceStateTopic('cam-1'), 'hello', { qos: 1 });
    await unsubscribe();
    await device.publishAsync(deviceStateTopic('cam-1'), 'after', { qos: 1 });
    await h.broker.publish(deviceStateTopic('cam-1'), '', { qos: 1, retain: true });
    assert.deepEqual(got, [`${deviceStateTopic('cam-1')} hello`]);
    await device.endAsync();
  });

  it("hands the hub its clients' publishes and wills, not its own publishes", async () => {
    const got: string[] = [];
    const remove = h.broker.onClientPublish(
      'sentinel/v1/devices/+/state',
      (topic, payload, meta, id) => {
        got.push(`${id} ${topic} ${payload.length > 0 ? 'report' : 'empty'} retain=${meta.retain}`);
      },
    );
    const device = await connect(tcp, 'cam-1', 'pw-cam-1', {
      will: {
        topic: deviceStateTopic('cam-1'),
        payload: Buffer.from('gone'),
        qos: 1,
        retain: true,
      },
    });
    await device.publishAsync(deviceStateTopic('cam-1'), 'hello', { qos: 1, retain: true });
    await device.publishAsync(deviceTelemetryTopic('cam-1'), '{}', { qos: 0 });
    await h.broker.publish(deviceStateTopic('cam-1'), 'from the hub', { qos: 1, retain: false });
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    device.stream.destroy(); // no DISCONNECT: the will goes out
    await closed;
    await within(
      (async () => {
        while (got.length < 2) await delay(10);
      })(),
      'the will',
    );
    remove();
    const again = await connect(tcp, 'cam-1', 'pw-cam-1');
    await again.publishAsync(deviceStateTopic('cam-1'), 'after', { qos: 1 });
    await h.broker.publish(deviceStateTopic('cam-1'), '', { qos: 1, retain: true });
    assert.deepEqual(got, [
      `cam-1 ${deviceStateTopic('cam-1')} report retain=true`,
      `cam-1 ${deviceStateTopic('cam-1')} report retain=true`,
    ]);
    await again.endAsync();
  });

  it('lists clients and disconnects them by principal', async () => {
    const cam1 = await connect(tcp, 'cam-1', 'pw-cam-1');
    const cam2 = await connect(ws, 'cam-2', 'pw-cam-2');
    const observer = await connect(tcp, 'obs', 'pw-obs');
    const listed = h.broker.clients().sort((a, b) => a.clientId.localeCompare(b.clientId));
    assert.deepEqual(listed, [
      { clientId: 'cam-1', principal: { kind: 'device', deviceId: 'cam-1', group: 'lobby' } },
      { clientId: 'cam-2', principal: { kind: 'device', deviceId: 'cam-2', group: 'garage' } },
      { clientId: 'observer:obs', principal: { kind: 'observer' } },
    ]);
    assert.ok(h.connected.includes('cam-2'));

    const gone = closed(cam1);
    assert.equal(
      h.broker.disconnectWhere((p) => p.kind === 'device' && p.deviceId === 'cam-1'),
      1,
    );
    await gone;
    assert.ok(h.disconnected.includes('cam-1'));
    assert.equal(cam2.connected, true);
    assert.deepEqual(
      h.broker
        .clients()
        .map((c) => c.clientId)
        .sort(),
      ['cam-2', 'observer:obs'],
    );

    const gone2 = closed(cam2);
    assert.equal(h.broker.disconnectClient('cam-2'), true);
    assert.equal(h.broker.disconnectClient('nobody'), false);
    await gone2;
    assert.equal(observer.connected, true);
    cam1.end(true);
    cam2.end(true);
    await observer.endAsync();
  });

  it("puts an observer using a device's client id in its own namespace", async () => {
    const cam1 = await connect(tcp, 'cam-1', 'pw-cam-1');
    const observer = await connect(tcp, 'obs', 'pw-obs', { clientId: 'cam-1' });
    assert.equal(cam1.connected, true, 'the device keeps its session');
    assert.ok(h.broker.clients().some((c) => c.clientId === 'observer:cam-1'));
    await cam1.endAsync();
    await observer.endAsync();
  });
});

describe('createBroker with hooks that throw', () => {
  it('answers CONNACK 3 / SUBACK 0x80 and keeps running', async () => {
    const h = await startBroker({
      wsPort: null,
      authenticate: ((_client: { id: string }, username: string | undefined) => {
        if (username === 'sync') throw new Error('synchronous failure');
        return Promise.resolve({ kind: 'device', deviceId: 'cam-1', group: 'lobby' });
      }) as BrokerOptions['authenticate'],
      authorize: () => {
        throw new Error('policy engine down');
      },
      onDenied: () => {
        throw new Error('logging down');
      },
    });
    const url = `mqtt://127.0.0.1:${h.broker.port}`;
    try {
      assert.equal((await connectError(connect(url, 'sync', 'x'))).code, 3);
      const device = await connect(url, 'cam-1', 'x');
      const err = (await device.subscribeAsync(deviceCommandsTopic('cam-1')).then(
        () => assert.fail('granted'),
        (e: { packet?: { granted?: number[] } }) => e,
      )) as { packet?: { granted?: number[] } };
      assert.deepEqual(err.packet?.granted, [128]);
      assert.equal(device.connected, true);
      assert.match(h.warnings.join('\n'), /authorize hook threw/);
      assert.match(h.warnings.join('\n'), /onDenied hook threw/);
    } finally {
      await endAll();
      await h.broker.close();
    }
  });
});

describe('createBroker close()', () => {
  it('closes with clients still connected and leaves no handles behind', async () => {
    await endAll();
    await settle();
    const baseline = countResources();
    const h = await startBroker();
    const device = await connect(`mqtt://127.0.0.1:${h.broker.port}`, 'cam-1', 'pw-cam-1');
    const wsDevice = await connect(`ws://127.0.0.1:${h.broker.wsPort}`, 'cam-2', 'pw-cam-2');
    // A socket that never sends CONNECT is not an MQTT client yet; close() must end it too.
    const raw = netConnect(h.broker.port!, '127.0.0.1');
    raw.on('error', () => {});
    await within(new Promise((resolve) => raw.once('connect', resolve)), 'raw connect');
    const rawClosed = within(new Promise((resolve) => raw.once('close', resolve)), 'raw close');

    const deviceGone = Promise.all([closed(device), closed(wsDevice)]);
    await within(h.broker.close(), 'close()');
    await h.broker.close(); // idempotent
    await deviceGone;
    await rawClosed;
    await endAll();
    await settle();
    assert.deepEqual(countResources(), baseline);

    await assert.rejects(
      connectAsync(
        `mqtt://127.0.0.1:${h.broker.port}`,
        { reconnectPeriod: 0, connectTimeout: 2000 },
        false,
      ),
    );
  });

  it('rejects when the port is taken, leaving nothing open', async () => {
    await settle();
    const baseline = countResources();
    const h = await startBroker({ wsPort: null });
    assert.equal(h.broker.wsPort, null);
    await assert.rejects(startBroker({ port: h.broker.port, wsPort: null }), /EADDRINUSE/);
    await h.broker.close();
    await settle();
    assert.deepEqual(countResources(), baseline);
  });
});

describe('createBroker with Redis unreachable', () => {
  it('fails start-up with a clear error and leaves nothing open', async () => {
    // A port that was free a moment ago: connections to it are refused.
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    await settle();
    const baseline = countResources();

    const warnings: string[] = [];
    await assert.rejects(
      startBroker({
        redisUrl: `redis://user:secret@127.0.0.1:${port}/0`,
        redisConnectTimeoutMs: 500,
        logger: { warn: (m) => warnings.push(m), info: () => {} },
      }),
      (err: Error) => {
        assert.match(
          err.message,
          new RegExp(
            `Redis at redis://\\*\\*\\*@127.0.0.1:${port}/0 not reachable within 500 ms: .*ECONNREFUSED`,
          ),
        );
        assert.doesNotMatch(err.message, /secret/);
        return true;
      },
    );
    // Each connection logs a repeated error once, not once per retry.
    assert.ok(warnings.length <= 3, warnings.join('\n'));
    // ioredis arms a 2 s timer per disconnect of an already-refused socket and never clears it.
    await within(
      (async () => {
        while (!isDeepStrictEqual(countResources(), baseline)) await delay(50);
      })(),
      'the Redis connections to be released',
    );
  });

  it('refuses a non-Redis URL', async () => {
    await assert.rejects(startBroker({ redisUrl: 'http://127.0.0.1:6379' }), /redis:\/\//);
  });
});

// ---- cluster through Redis

const REDIS_URL = 'redis://127.0.0.1:6379/5';

function probeRedis(): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = netConnect(6379, '127.0.0.1');
    const done = (reason: string | null) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(1000, () => done('Redis at 127.0.0.1:6379 did not answer PING within 1 s'));
    socket.once('error', (err) => done(`Redis not reachable at 127.0.0.1:6379: ${err.message}`));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) =>
      done(data.toString().startsWith('+PONG') ? null : `unexpected PING reply ${data}`),
    );
  });
}

const redisUnavailable = await probeRedis();

describe('createBroker cluster through Redis (db 5)', { skip: redisUnavailable ?? false }, () => {
  // Unique names per run: Redis pub/sub channels are shared by every database.
  const suffix = randomBytes(4).toString('hex');
  const group = `it-${suffix}`;
  const device = `dev-${suffix}`;
  const topic = groupDesiredTopic(group);
  const overrideTopic = deviceDesiredTopic(device);
  const authenticate = authenticator({
    [device]: { password: 'pw', principal: { kind: 'device', deviceId: device, group } },
  });
  let a: Harness;
  let b: Harness;
  let baseline: Record<string, number>;

  before(async () => {
    await settle();
    baseline = countResources();
    a = await startBroker({ redisUrl: REDIS_URL, id: `a-${suffix}`, wsPort: null, authenticate });
    b = await startBroker({ redisUrl: REDIS_URL, id: `b-${suffix}`, wsPort: null, authenticate });
  });

  after(async () => {
    await endAll();
    await Promise.all([a.broker.close(), b.broker.close()]);
  });

  it('a client on A receives retained and live messages published on B', async () => {
    await b.broker.publish(topic, 'retained-from-b', { qos: 1, retain: true });
    const client = await connect(`mqtt://127.0.0.1:${a.broker.port}`, device, 'pw');
    const retained = nextMessage(client, topic);
    await client.subscribeAsync(topic, { qos: 1 });
    const first = await retained;
    assert.equal(first.payload.toString(), 'retained-from-b');
    assert.equal(first.retain, true);

    const live = nextMessage(client, topic, (m) => m.payload.toString() === 'live-from-b');
    await b.broker.publish(topic, 'live-from-b', { qos: 1, retain: true });
    await live;
    await client.endAsync();
  });

  it('a new subscriber on B gets a retained message set through A', async () => {
    await a.broker.publish(overrideTopic, 'override-from-a', { qos: 1, retain: true });
    const client = await connect(`mqtt://127.0.0.1:${b.broker.port}`, device, 'pw');
    const retained = nextMessage(client, overrideTopic);
    await client.subscribeAsync(overrideTopic, { qos: 1 });
    assert.equal((await retained).payload.toString(), 'override-from-a');
    await client.endAsync();
  });

  it("hands a client's publish to its own broker's hook only, and to every broker's subscribers", async () => {
    const hooked = { a: 0, b: 0 };
    const subscribed = { a: 0, b: 0 };
    const filter = deviceStateTopic(device);
    const removers = [
      a.broker.onClientPublish(filter, () => void hooked.a++),
      b.broker.onClientPublish(filter, () => void hooked.b++),
    ];
    const unsubscribers = await Promise.all([
      a.broker.subscribe(filter, () => void subscribed.a++),
      b.broker.subscribe(filter, () => void subscribed.b++),
    ]);
    const client = await connect(`mqtt://127.0.0.1:${a.broker.port}`, device, 'pw');
    await client.publishAsync(filter, 'report', { qos: 1 });
    await within(
      (async () => {
        while (subscribed.a < 1 || subscribed.b < 1) await delay(10);
      })(),
      'the report on both brokers',
    );
    await b.broker.publish(filter, 'from hub b', { qos: 1, retain: false });
    await within(
      (async () => {
        while (subscribed.a < 2 || subscribed.b < 2) await delay(10);
      })(),
      "hub b's publish on both brokers",
    );
    for (const remove of removers) remove();
    await Promise.all(unsubscribers.map((unsubscribe) => unsubscribe()));
    assert.deepEqual(hooked, { a: 1, b: 0 });
    await client.endAsync();
  });

  it("drops a dead member's will of a device that came back here, and publishes the others", async () => {
    const back = `back-${suffix}`;
    const away = `away-${suffix}`;
    // A member in a child process, killed with SIGKILL: its clients' wills stay in Redis.
    const script = `
      import { createBroker } from ${JSON.stringify(new URL('./create-broker.js', import.meta.url).href)};
      const broker = await createBroker({
        host: '127.0.0.1', port: 0, redisUrl: ${JSON.stringify(REDIS_URL)},
        id: ${JSON.stringify(`dead-${suffix}`)}, heartbeatIntervalMs: 200,
        authenticate: (client, username) => ({ kind: 'device', deviceId: username, group: 'g' }),
      });
      console.log('port ' + broker.port);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const port = await within(
      new Promise<number>((resolve) =>
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /port (\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        }),
      ),
      'the doomed broker',
      20_000,
    );
    for (const id of [back, away]) {
      const will = { topic: deviceStateTopic(id), payload: Buffer.from(`will of ${id}`) };
      await connect(`mqtt://127.0.0.1:${port}`, id, 'pw', {
        will: { ...will, qos: 1, retain: true },
      });
    }
    child.kill('SIGKILL');
    await once(child, 'exit');

    const c = await startBroker({
      redisUrl: REDIS_URL,
      id: `c-${suffix}`,
      wsPort: null,
      heartbeatIntervalMs: 200,
      authenticate: authenticator({
        [back]: { password: 'pw', principal: { kind: 'device', deviceId: back, group } },
      }),
    });
    try {
      const delivered: string[] = [];
      const consumed: string[] = [];
      const states = 'sentinel/v1/devices/+/state';
      const unsubscribe = await c.broker.subscribe(states, (t, p) => delivered.push(`${t} ${p}`));
      const remove = c.broker.onClientPublish(states, (t, p) => consumed.push(`${t} ${p}`));
      const again = await connect(`mqtt://127.0.0.1:${c.broker.port}`, back, 'pw');
      await again.publishAsync(deviceStateTopic(back), 'back online', { qos: 1, retain: true });
      const awayWill = `${deviceStateTopic(away)} will of ${away}`;
      await within(
        (async () => {
          while (!delivered.includes(awayWill)) await delay(50);
        })(),
        "the sweep of the dead member's wills",
        20_000,
      );
      await delay(1000); // a further sweep (every 800 ms here): every will of the member was seen
      remove();
      await unsubscribe();
      assert.equal(delivered.filter((m) => m.includes(`will of ${back}`)).length, 0);
      assert.deepEqual(consumed, [`${deviceStateTopic(back)} back online`, awayWill]);
      await again.endAsync();
      await c.broker.publish(deviceStateTopic(back), '', { qos: 1, retain: true });
      await c.broker.publish(deviceStateTopic(away), '', { qos: 1, retain: true });
    } finally {
      await c.broker.close();
    }
  });

  it('close() releases every Redis connection (clearing the test retained messages first)', async () => {
    await endAll();
    await a.broker.publish(topic, '', { qos: 1, retain: true });
    await a.broker.publish(overrideTopic, '', { qos: 1, retain: true });
    await Promise.all([a.broker.close(), b.broker.close()]);
    await settle();
    assert.deepEqual(countResources(), baseline);
  });
});
