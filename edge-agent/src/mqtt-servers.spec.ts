import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstServer, mqttServers } from './mqtt-servers.js';

describe('mqttServers', () => {
  it('leaves a single broker to the URL itself', () => {
    assert.equal(mqttServers(['mqtt://hub-a:1883'], 'cam-1'), undefined);
  });

  it('lists every broker of a failover list, in order from where the device starts, with default ports', () => {
    // A device that starts at the first broker (firstServer is 0 for it).
    const id = ['cam-0', 'cam-1', 'cam-2', 'cam-3', 'cam-4', 'cam-5'].find(
      (d) => firstServer(d, 3) === 0 && firstServer(d, 2) === 0,
    )!;
    assert.ok(id);
    assert.deepEqual(mqttServers(['mqtt://hub-a:1884', 'mqtt://hub-b', 'mqtts://[::1]'], id), [
      { host: 'hub-a', port: 1884, protocol: 'mqtt' },
      { host: 'hub-b', port: 1883, protocol: 'mqtt' },
      { host: '::1', port: 8883, protocol: 'mqtts' },
    ]);
    assert.deepEqual(mqttServers(['tls://a.example', 'tls://b.example:9883'], id), [
      { host: 'a.example', port: 8883, protocol: 'mqtts' },
      { host: 'b.example', port: 9883, protocol: 'mqtts' },
    ]);
    assert.deepEqual(mqttServers(['wss://a.example', 'ws://b.example:8083'], id), [
      { host: 'a.example', port: 443, protocol: 'wss' },
      { host: 'b.example', port: 8083, protocol: 'ws' },
    ]);
  });

  it('starts a fleet spread evenly over the brokers, each device always at the same one', () => {
    const urls = ['mqtt://hub-a', 'mqtt://hub-b', 'mqtt://hub-c'];
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const servers = mqttServers(urls, `cam-${i}`)!;
      counts[['hub-a', 'hub-b', 'hub-c'].indexOf(servers[0]!.host)]! += 1;
      // Every broker once, in the list's order from there.
      const order = servers.map((s) => s.host).join(',');
      assert.ok('hub-a,hub-b,hub-c,hub-a,hub-b'.includes(order), order);
    }
    for (const count of counts) assert.ok(count > 900 && count < 1100, `${counts.join(' ')}`);
    assert.deepEqual(mqttServers(urls, 'cam-7'), mqttServers(urls, 'cam-7'));
  });
});
