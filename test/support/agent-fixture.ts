import { createHash, randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { loadAgentConfig, type AgentConfig } from '@sentinel/edge-agent';
import {
  createBroker,
  deviceCommandsTopic,
  deviceDesiredTopic,
  encodeMessage,
  groupDesiredTopic,
  parseMessage,
  ALL_DEVICE_STATE,
  ALL_DEVICE_TELEMETRY,
  type DesiredState,
  type DeviceState,
  type ModelRef,
  type SentinelBroker,
  type Telemetry,
} from '@sentinel/broker';

/** A plain artifact server: models by path, with ETag = quoted sha256 and Range, like the hub's. */
export class ModelServer {
  readonly requests: { path: string; range?: string; authorization?: string }[] = [];
  private readonly files = new Map<string, Buffer>();
  private server?: Server;
  /** Answer every request with this status instead (e.g. 503), while set. */
  failWith: number | null = null;
  baseUrl = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Serves `bytes` and returns the ModelRef a desired state carries for it. */
  add(
    name: string,
    version: string,
    bytes: Buffer,
    extra: { metadata?: Record<string, unknown>; signature?: string | null; sha256?: string } = {},
  ): ModelRef {
    const id = randomUUID();
    const path = `/models/${id}`;
    this.files.set(path, bytes);
    return {
      id,
      name,
      version,
      sha256: extra.sha256 ?? createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
      url: `${this.baseUrl}${path}`,
      signature: extra.signature ? (JSON.parse(extra.signature) as Record<string, unknown>) : null,
      ...(extra.metadata ? { metadata: extra.metadata } : {}),
    };
  }

  downloadsOf(model: ModelRef): number {
    return this.requests.filter((r) => model.url.endsWith(r.path)).length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '';
    this.requests.push({
      path,
      range: req.headers.range,
      authorization: req.headers.authorization,
    });
    if (this.failWith) {
      res.writeHead(this.failWith).end();
      return;
    }
    const bytes = this.files.get(path);
    if (!bytes) {
      res.writeHead(404).end();
      return;
    }
    const etag = `"${createHash('sha256').update(bytes).digest('hex')}"`;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && (!req.headers['if-range'] || req.headers['if-range'] === etag)) {
      const start = Number(range[1]);
      res.writeHead(206, {
        'content-length': bytes.length - start,
        'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}`,
        etag,
      });
      res.end(bytes.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': bytes.length, etag, 'accept-ranges': 'bytes' });
    res.end(bytes);
  }
}

/**
 * The production broker factory and ACL on a free port, with devices known by a table
 * (id -> {password, group}). The test publishes as the hub through `publishDesired`.
 */
export class TestBroker {
  broker!: SentinelBroker;
  readonly devices = new Map<string, { password: string; group: string }>();
  readonly states = new Map<string, DeviceState[]>();
  readonly telemetry: Telemetry[] = [];
  private seq = 0;
  private waiters: (() => void)[] = [];

  get url(): string {
    return `mqtt://127.0.0.1:${this.broker.port}`;
  }

  async start(): Promise<void> {
    this.broker = await createBroker({
      host: '127.0.0.1',
      port: 0,
      authenticate: async (client, username, password) => {
        const device = this.devices.get(username ?? '');
        if (!device || username !== client.id || password?.toString() !== device.password)
          return null;
        return { kind: 'device', deviceId: client.id, group: device.group };
      },
    });
    await this.broker.subscribe(ALL_DEVICE_STATE, (_topic, payload) => {
      if (payload.length === 0) return;
      const parsed = parseMessage('device-state', payload);
      if (!parsed.ok) throw new Error(`agent sent an invalid state: ${parsed.error}`);
      const list = this.states.get(parsed.value.device_id) ?? [];
      list.push(parsed.value);
      this.states.set(parsed.value.device_id, list);
      this.notify();
    });
    await this.broker.subscribe(ALL_DEVICE_TELEMETRY, (_topic, payload) => {
      const parsed = parseMessage('telemetry', payload);
      if (!parsed.ok) throw new Error(`agent sent invalid telemetry: ${parsed.error}`);
      this.telemetry.push(parsed.value);
      this.notify();
    });
  }

  async stop(): Promise<void> {
    await this.broker.close();
  }

  addDevice(id: string, group: string): { id: string; password: string } {
    const password = randomUUID();
    this.devices.set(id, { password, group });
    return { id, password };
  }

  /** Publishes a retained desired state for a group (or a device with `{device}`); returns it. */
  async publishDesired(
    target: { group: string } | { device: string },
    fields: Partial<DesiredState> & Pick<DesiredState, 'model'>,
  ): Promise<DesiredState> {
    this.seq += 1;
    const desired: DesiredState = {
      deployment_id: 'dep-1',
      seq: this.seq,
      strategy: 'blue-green',
      previous: null,
      activate: 'new',
      cohort: null,
      issued_at: new Date().toISOString(),
      ...fields,
    };
    const topic =
      'group' in target ? groupDesiredTopic(target.group) : deviceDesiredTopic(target.device);
    await this.broker.publish(topic, encodeMessage('desired-state', desired), {
      qos: 1,
      retain: true,
    });
    return desired;
  }

  async publishRaw(topic: string, payload: string | Buffer, retain = true): Promise<void> {
    await this.broker.publish(topic, payload, { qos: 1, retain });
  }

  async command(
    device: string,
    command: 'rollback' | 'reload' | 'ping',
    reason?: string,
  ): Promise<void> {
    const message = {
      command,
      id: randomUUID(),
      issued_at: new Date().toISOString(),
      ...(reason ? { reason } : {}),
    };
    await this.broker.publish(deviceCommandsTopic(device), encodeMessage('command', message), {
      qos: 1,
      retain: false,
    });
  }

  latest(device: string): DeviceState | undefined {
    return this.states.get(device)?.at(-1);
  }

  /** Waits until `predicate` holds for the device's latest state; fails after `timeoutMs`. */
  async waitForState(
    device: string,
    predicate: (state: DeviceState) => boolean,
    timeoutMs = 20_000,
  ): Promise<DeviceState> {
    return this.waitFor(
      () => {
        const state = this.latest(device);
        return state && predicate(state) ? state : undefined;
      },
      timeoutMs,
      () => `device ${device}; last state: ${JSON.stringify(this.latest(device))}`,
    );
  }

  async waitFor<T>(
    probe: () => T | undefined,
    timeoutMs = 20_000,
    describe?: () => string,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out${describe ? `: ${describe()}` : ''}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Whether the device's state says `model` serves in the active slot. */
export function serving(state: DeviceState, model: ModelRef): boolean {
  const slot = state.active_slot;
  return !!slot && state.slots?.[slot]?.sha256 === model.sha256;
}

export const AGENT_BIN = new URL('../../../edge-agent/dist/bin/sentinel-agent.js', import.meta.url)
  .pathname;

export interface AgentProcess {
  child: ChildProcess;
  apiUrl: string;
  stderr: () => string;
}

/** Starts `sentinel-agent` as a real process and waits for its ready line. */
export async function spawnAgent(env: Record<string, string>): Promise<AgentProcess> {
  const child = spawn(process.execPath, [AGENT_BIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const apiUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${stderr}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /ready; local API (\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code}: ${stderr}`));
    });
  });
  return { child, apiUrl, stderr: () => stderr };
}

export async function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/**
 * The configuration of an in-process agent for device `id` of `group`, which it adds to `broker`:
 * `hub` as its hub (downloads carry the device credential there), its data folder under `dir`,
 * the local API on any free port; `overrides` on top.
 */
export function agentConfig(
  fixture: { broker: TestBroker; hub: ModelServer; dir: string },
  id: string,
  group: string,
  overrides: Record<string, string> = {},
): AgentConfig {
  const device = fixture.broker.addDevice(id, group);
  return loadAgentConfig({
    SENTINEL_DEVICE_ID: id,
    SENTINEL_MQTT_URL: fixture.broker.url,
    SENTINEL_MQTT_PASSWORD: device.password,
    SENTINEL_HUB_URL: fixture.hub.baseUrl,
    // Set, so the agent does not look its group up at the (fake) hub.
    SENTINEL_GROUP: group,
    SENTINEL_DATA_DIR: join(fixture.dir, id),
    SENTINEL_API: '127.0.0.1:0',
    ...overrides,
  });
}
