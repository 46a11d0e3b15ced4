import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mqttServers } from './mqtt-servers.js';

describe('mqttServers', () => {
  it('leaves a single broker to the URL itself', () => {
    assert.equal(mqttServers(['mqtt://hub-a:1883']), undefined);
  });

  it('lists every broker of a failover list, in order, with default ports', () => {
    assert.deepEqual(mqttServers(['mqtt://hub-a:1884', 'mqtt://hub-b', 'mqtts://[::1]']), [
      { host: 'hub-a', port: 1884, protocol: 'mqtt' },
      { host: 'hub-b', port: 1883, protocol: 'mqtt' },
      { host: '::1', port: 8883, protocol: 'mqtts' },
    ]);
    assert.deepEqual(mqttServers(['tls://a.example', 'tls://b.example:9883']), [
      { host: 'a.example', port: 8883, protocol: 'mqtts' },
      { host: 'b.example', port: 9883, protocol: 'mqtts' },
    ]);
    assert.deepEqual(mqttServers(['wss://a.example', 'ws://b.example:8083']), [
      { host: 'a.example', port: 443, protocol: 'wss' },
      { host: 'b.example', port: 8083, protocol: 'ws' },
    ]);
  });
});
