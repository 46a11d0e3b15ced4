import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../src/app.factory.js';
import { BrokerService } from '../../src/broker/broker.service.js';
import { loadConfig } from '../../src/config/app-config.js';

export interface TestHub {
  url: string;
  /** The embedded broker's plain ports (null in external-broker mode, or MQTT_PLAINTEXT=false). */
  mqtt: { port: number; wsPort: number | null } | null;
  /** The embedded broker's mqtts and wss ports (null without TLS_CERT_FILE). */
  mqttTls?: { port: number; wsPort: number | null } | null;
  adminToken: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface InProcessHub extends TestHub {
  app: INestApplication;
}

function baseEnv(env: Record<string, string>) {
  const dataDir = env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'sentinel-hub-'));
  const adminToken = env.ADMIN_TOKEN ?? `test-admin-${randomBytes(16).toString('hex')}`;
  return {
    dataDir,
    adminToken,
    ownsDataDir: env.DATA_DIR === undefined,
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      MQTT_PORT: '0',
      MQTT_WS_PORT: '0',
      MQTT_TLS_PORT: '0',
      MQTT_WSS_PORT: '0',
      ...env,
      DATA_DIR: dataDir,
      ADMIN_TOKEN: adminToken,
    },
  };
}

/** The hub in this process: fast, and lets a test reach into the Nest container. */
export async function startHub(env: Record<string, string> = {}): Promise<InProcessHub> {
  const base = baseEnv(env);
  const config = loadConfig(base.env);
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const ports = app.get(BrokerService).ports;
  return {
    app,
    url: `${config.TLS_CERT_FILE ? 'https' : 'http'}://127.0.0.1:${port}`,
    mqtt: ports?.mqtt ? { port: ports.mqtt, wsPort: ports.ws } : null,
    mqttTls: ports?.mqtts ? { port: ports.mqtts, wsPort: ports.wss } : null,
    adminToken: base.adminToken,
    dataDir: base.dataDir,
    async stop() {
      await app.close();
      if (base.ownsDataDir) rmSync(base.dataDir, { recursive: true, force: true });
    },
  };
}

export interface HubProcess extends TestHub {
  child: ChildProcess;
  output(): string;
  /** SIGKILL, leaving DATA_DIR as a crash would. */
  kill(): Promise<void>;
}

const MAIN = new URL('../../src/main.js', import.meta.url).pathname;

/** The hub as a real process (`node dist/src/main.js`), as users run it. */
export async function spawnHub(env: Record<string, string> = {}): Promise<HubProcess> {
  const base = baseEnv(env);
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, ...base.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const match = /sentinel-hub listening on (https?):\/\/[^:]+:(\d+)/.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        resolve(`${match[1]}://127.0.0.1:${match[2]}`);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`hub exited with ${code} before listening:\n${output}`)),
    );
  });

  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const mqttLine = /sentinel-hub mqtt on tcp:\/\/[^:]+:(\d+)(?: and ws:\/\/[^:]+:(\d+))?/.exec(
    output,
  );
  const tlsLine =
    /sentinel-hub mqtt tls on mqtts:\/\/[^:]+:(\d+)(?: and wss:\/\/[^:]+:(\d+))?/.exec(output);
  return {
    child,
    url,
    mqtt: mqttLine
      ? { port: Number(mqttLine[1]), wsPort: mqttLine[2] ? Number(mqttLine[2]) : null }
      : null,
    mqttTls: tlsLine
      ? { port: Number(tlsLine[1]), wsPort: tlsLine[2] ? Number(tlsLine[2]) : null }
      : null,
    adminToken: base.adminToken,
    dataDir: base.dataDir,
    output: () => output,
    kill: () => stopWith('SIGKILL'),
    async stop() {
      await stopWith('SIGTERM');
      if (base.ownsDataDir) rmSync(base.dataDir, { recursive: true, force: true });
    },
  };
}

/** fetch with the given token as Bearer. */
export function api(hub: TestHub, token = hub.adminToken) {
  return (path: string, init: RequestInit = {}) =>
    fetch(hub.url + path, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.headers as Record<string, string> | undefined),
      },
    });
}
