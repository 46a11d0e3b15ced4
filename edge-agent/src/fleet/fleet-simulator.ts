import { join } from 'node:path';
import { Agent } from '../agent.js';
import type { AgentConfig } from '../config.js';
import { credentialOrigins } from '../download/credentials.js';
import { ModelCache } from '../download/downloader.js';
import { SessionPool } from '../inference/session-pool.js';
import type { Logger } from '../log.js';

export interface SimulatedDevice {
  id: string;
  password: string;
}

export interface FleetOptions {
  devices: SimulatedDevice[];
  /** Settings shared by every agent (device id, credentials and data folder are per device). */
  base: Omit<AgentConfig, 'deviceId' | 'mqttUsername' | 'mqttPassword'>;
  /** Agents started at once (MQTT connects are the cost). */
  concurrency?: number;
  logger?: Logger;
}

/**
 * Many agents in one process for scale tests: one session pool and one model cache for all (a
 * model is downloaded and loaded once per sha256), slot state kept in memory, no local API.
 * Downloads use the first device's credential.
 */
export class FleetSimulator {
  readonly agents: Agent[] = [];
  readonly pool: SessionPool;
  readonly cache: ModelCache;

  constructor(private readonly options: FleetOptions) {
    const { base, devices } = options;
    if (devices.length === 0) throw new Error('the fleet needs at least one device');
    this.pool = new SessionPool(base);
    this.cache = new ModelCache({
      dir: join(base.dataDir, 'models'),
      authorization: `Basic ${Buffer.from(`${devices[0]!.id}:${devices[0]!.password}`).toString('base64')}`,
      credentialOrigins: credentialOrigins(base.hubUrl, base.credentialOrigins),
      trustedKeys: base.trustedKeys,
      requireSigned: base.requireSigned,
      retries: base.downloadRetries,
      minBackoffMs: 200,
      maxBackoffMs: 5_000,
      stallTimeoutMs: 30_000,
    });
    for (const device of devices) {
      const config: AgentConfig = {
        ...base,
        deviceId: device.id,
        mqttUsername: device.id,
        mqttPassword: device.password,
        api: { kind: 'off' },
      };
      this.agents.push(
        new Agent(config, {
          pool: this.pool,
          cache: this.cache,
          persist: false,
          logger: options.logger,
        }),
      );
    }
  }

  async start(): Promise<void> {
    const concurrency = this.options.concurrency ?? 200;
    for (let i = 0; i < this.agents.length; i += concurrency) {
      await Promise.all(this.agents.slice(i, i + concurrency).map((agent) => agent.start()));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((agent) => agent.stop()));
  }
}
