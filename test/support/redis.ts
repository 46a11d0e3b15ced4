import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './mosquitto.js';

/**
 * Whether a real Redis server binary is installed (`apt-get install redis-server`). Each test file
 * that needs Redis starts its own server: Redis pub/sub channels are server-wide, not per database,
 * so two files sharing one server (even on different database numbers) would receive each other's
 * cluster events (`sentinel:cluster:v1`) and MQTT messages (mqemitter-redis publishes every topic as
 * a channel), and could not run in parallel.
 */
export const skipWithoutRedis =
  spawnSync('redis-server', ['--version'], { encoding: 'utf8', env: withoutFaketime(process.env) })
    .status === 0
    ? false
    : 'redis-server is not installed (apt-get install redis-server)';

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * A private Redis on a free loopback port, in memory only (no RDB or AOF files), for one test file.
 * If another process takes the free port before the server binds it, it tries another port.
 */
export async function startRedis(): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchRedis(await freePort());
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

async function launchRedis(port: number): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
    ],
    // Its own clock: redis-server hangs at start under libfaketime (CI's shifted-clock pass), which
    // LD_PRELOAD would otherwise carry into it; the servers the tests start keep the real time.
    { stdio: ['ignore', 'pipe', 'pipe'], env: withoutFaketime(process.env) },
  );
  let log = '';
  const collect = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPing(port, child, () => log);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function withoutFaketime(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(([key]) => key !== 'LD_PRELOAD' && !key.startsWith('FAKETIME')),
  );
}

/** Waits until the server answers PING (it refuses commands while it loads). */
async function waitForPing(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const pong = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let reply = '';
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk: Buffer) => {
        reply += chunk.toString();
        if (reply.includes('\r\n')) {
          socket.destroy();
          resolve(reply.startsWith('+PONG'));
        }
      });
      socket.once('error', () => resolve(false));
      // A server that accepted the connection but never answers is not ready either.
      socket.setTimeout(1_000, () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (pong) return;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`redis-server did not answer on ${port}:\n${log()}`);
}
