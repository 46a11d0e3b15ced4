import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { skipWithoutRedis, startRedis, type RedisServer } from '../../test/support/redis.js';
import { loadConfig } from '../config/app-config.js';
import { ClusterBus } from './cluster-bus.js';

function bus(env: Record<string, string>): ClusterBus {
  return new ClusterBus(loadConfig({ DATA_DIR: '/tmp/unused', ...env }));
}

/** Resolves with the next payload of `event` a bus delivers. */
function next<T>(subscribe: (listener: (payload: T) => void) => () => void): Promise<T> {
  return new Promise((resolve) => {
    const off = subscribe((payload) => {
      off();
      resolve(payload);
    });
  });
}

describe('ClusterBus', () => {
  it('without REDIS_URL: delivers to this hub at once', async () => {
    const local = bus({});
    await local.onModuleInit();
    const seen: string[] = [];
    local.on('token.revoked', ({ tokenId }) => seen.push(tokenId));
    local.publish('token.revoked', { tokenId: 't-1' });
    assert.deepEqual(seen, ['t-1']);
    assert.equal(local.clustered, false);
    local.onApplicationShutdown();
  });

  // A Redis server of its own: the cluster channel is server-wide, shared by every database.
  describe('through Redis', { skip: skipWithoutRedis }, () => {
    let redis: RedisServer;
    let a: ClusterBus;
    let b: ClusterBus;
    before(async () => {
      redis = await startRedis();
      a = bus({ REDIS_URL: redis.url });
      b = bus({ REDIS_URL: redis.url });
    });
    after(async () => {
      a?.onApplicationShutdown();
      b?.onApplicationShutdown();
      await redis?.stop();
    });

    it('delivers an event to this hub at once and to the other hub once', async () => {
      await Promise.all([a.onModuleInit(), b.onModuleInit()]);
      const onA: string[][] = [];
      a.on('devices.revoked', ({ deviceIds }) => onA.push(deviceIds));
      const onB = next<{ deviceIds: string[]; reason: string }>((l) => b.on('devices.revoked', l));
      a.publish('devices.revoked', { deviceIds: ['cam-1'], reason: 'credentials rotated' });
      assert.deepEqual(onA, [['cam-1']]);
      assert.deepEqual(await onB, { deviceIds: ['cam-1'], reason: 'credentials rotated' });
      // A's own message came back from Redis too, and was not delivered a second time: an event
      // B sends after it arrives after it on A.
      const fromB = next<{ tokenId: string }>((l) => a.on('token.revoked', l));
      b.publish('token.revoked', { tokenId: 't-2' });
      assert.deepEqual(await fromB, { tokenId: 't-2' });
      assert.deepEqual(onA, [['cam-1']]);
    });
  });
});
