// Issue 15 item 9: `sentinel-agent` as a real process exits promptly on SIGTERM and SIGINT while
// its broker is unreachable (its MQTT client in the reconnect loop), and logs the signal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnAgent } from './support/agent-fixture.js';

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('sentinel-agent stops on a signal while the broker is unreachable', () => {
  let dir: string;
  let closedPort: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-signal-'));
    // A port nothing listens on: the agent stays in its reconnect loop.
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closedPort = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`exits with code 0 on ${signal}, and logs it`, async () => {
      const agent = await spawnAgent({
        SENTINEL_DEVICE_ID: `cam-${signal.toLowerCase()}`,
        SENTINEL_MQTT_URL: `mqtt://127.0.0.1:${closedPort}`,
        SENTINEL_MQTT_PASSWORD: 'secret',
        SENTINEL_GROUP: 'g',
        SENTINEL_DATA_DIR: join(dir, signal),
        SENTINEL_API: '127.0.0.1:0',
      });
      try {
        // It has tried the broker and failed at least once.
        await until(() => agent.stderr().includes('ECONNREFUSED'));
        const exited = once(agent.child, 'exit');
        agent.child.kill(signal);
        const [code] = (await Promise.race([
          exited,
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error(`no exit after ${signal}`)), 20_000).unref(),
          ),
        ])) as [number | null];
        assert.equal(code, 0, agent.stderr());
        assert.match(agent.stderr(), new RegExp(`"msg":"stopping","signal":"${signal}"`));
      } finally {
        agent.child.kill('SIGKILL');
      }
    });
  }
});
