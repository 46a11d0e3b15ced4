import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MqttClient } from 'mqtt';
import { spawnHub, type HubProcess } from './support/hub.js';
import {
  connectDevice,
  createDevice,
  createGroup,
  nextJsonMessage,
  pinGroup,
  type DeviceCredentialsResponse,
} from './support/fleet.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './support/postgres.js';
import { skipWithoutRedis, startRedis, type RedisServer } from './support/redis.js';
import { json, pushModel } from './support/push.js';

// A Redis server of its own (pub/sub channels are server-wide, not per database).
const skip = skipWithoutPostgres || skipWithoutRedis;

describe('cluster mode: two hub processes sharing PostgreSQL and Redis', { skip }, () => {
  let database: TestDatabase;
  let redis: RedisServer;
  let hubA: HubProcess;
  let hubB: HubProcess;
  let cam1: DeviceCredentialsResponse;
  let cam2: DeviceCredentialsResponse;
  const clients: MqttClient[] = [];

  const connectTo = async (hub: HubProcess, device: DeviceCredentialsResponse) => {
    const client = await connectDevice(`mqtt://127.0.0.1:${hub.mqtt!.port}`, device);
    clients.push(client);
    return client;
  };
  const nextMessage = (client: MqttClient) => nextJsonMessage<{ model: { id: string } }>(client);

  before(async () => {
    redis = await startRedis();
    database = await createTestDatabase();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      ADMIN_TOKEN: 'cluster-test-admin-token-0123456789',
    };
    hubA = await spawnHub(env); // A applies the migrations first; B then finds them done
    hubB = await spawnHub(env);
    await createGroup(hubA, 'hall');
    cam1 = await createDevice(hubA, 'hall-cam-1', 'hall');
    cam2 = await createDevice(hubA, 'hall-cam-2', 'hall');
  });
  after(async () => {
    for (const client of clients) await client.endAsync(true);
    await hubA?.stop();
    await hubB?.stop();
    await database?.drop();
    await redis?.stop();
  });

  it('delivers a desired state published by hub B to a device connected to hub A', async () => {
    const device = await connectTo(hubA, cam1);
    await device.subscribeAsync('sentinel/v1/groups/hall/desired', { qos: 1 });
    const modelId = (
      await json<{ id: string }>(
        await pushModel(hubB, fastModel(), { name: 'hall-model', version: '1.0.0' }),
      )
    ).id;
    const received = nextMessage(device);
    await pinGroup(hubB, 'hall', modelId);
    assert.equal((await received).model.id, modelId);
  });

  it('gives a new subscriber on hub B the retained message set through hub A', async () => {
    const modelId = (
      await json<{ id: string }>(
        await pushModel(hubA, slowModel(), { name: 'hall-model', version: '2.0.0' }),
      )
    ).id;
    await pinGroup(hubA, 'hall', modelId);
    const device = await connectTo(hubB, cam2);
    const received = nextMessage(device);
    await device.subscribeAsync('sentinel/v1/groups/hall/desired', { qos: 1 });
    assert.equal((await received).model.id, modelId);
  });
});
