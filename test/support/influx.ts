import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './mosquitto.js';

/** Whether a real InfluxDB 1.x server binary is installed (`apt-get install influxdb`). */
export const skipWithoutInflux =
  spawnSync('influxd', ['version'], { encoding: 'utf8' }).status === 0
    ? false
    : 'influxd is not installed (apt-get install influxdb)';

export interface InfluxServer {
  url: string;
  port: number;
  /** Stops the server, keeping its data (for outage tests); `start` brings it back on the same port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real InfluxDB 1.x on free loopback ports with its data in a temporary folder (the stock
 * config also opens :8082 on every interface; this one does not).
 */
export async function startInflux(): Promise<InfluxServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-influx-'));
  const port = await freePort();
  const rpcPort = await freePort();
  const config = join(dir, 'influxdb.conf');
  writeFileSync(
    config,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(dir, 'meta')}"`,
      '[data]',
      `  dir = "${join(dir, 'data')}"`,
      `  wal-dir = "${join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${port}"`,
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[ifql]',
      '  enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let log = '';
  const launch = async () => {
    child = spawn('influxd', ['-config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        const response = await fetch(`${url}/ping`);
        if (response.status === 204) return;
      } catch {
        // not listening yet
      }
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`influxd did not start on ${port}:\n${log}`);
  };
  const halt = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    await exited;
  };
  await launch();
  return {
    url,
    port,
    pause: halt,
    resume: launch,
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
