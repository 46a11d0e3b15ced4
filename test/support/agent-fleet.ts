// Real agents (simulation mode: real inference on generated frames) registered with an in-process
// hub, and what they serve: the fleet of the rules' end-to-end tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inCohort } from '@sentinel/broker';
import { spawnAgent, stopProcess, type AgentProcess } from './agent-fixture.js';
import { createDevice, createGroup } from './fleet.js';
import type { InProcessHub } from './hub.js';

interface AgentStatus {
  active_slot: string | null;
  slots: Record<string, { version: string } | null>;
}

export class AgentFleet {
  private readonly agents = new Map<string, AgentProcess>();

  private constructor(
    private readonly hub: InProcessHub,
    private readonly dir: string,
    private readonly env: Record<string, string>,
  ) {}

  /** `env`: agent settings for every device (telemetry interval, simulated frame rate). */
  static async start(hub: InProcessHub, env: Record<string, string>): Promise<AgentFleet> {
    return new AgentFleet(hub, await mkdtemp(join(tmpdir(), 'agent-fleet-')), env);
  }

  /**
   * A group of the hub's production environment with one running agent per device; `perDevice`:
   * settings of single agents (labels, memory), over the fleet's.
   */
  async group(
    name: string,
    devices: string[],
    perDevice: Record<string, Record<string, string>> = {},
  ): Promise<void> {
    await createGroup(this.hub, name);
    for (const id of devices) {
      const device = await createDevice(this.hub, id, name);
      this.agents.set(
        id,
        await spawnAgent({
          SENTINEL_DEVICE_ID: id,
          SENTINEL_MQTT_URL: `mqtt://127.0.0.1:${this.hub.mqtt!.port}`,
          SENTINEL_MQTT_PASSWORD: device.credentials.password,
          SENTINEL_HUB_URL: this.hub.url,
          SENTINEL_DATA_DIR: join(this.dir, id),
          SENTINEL_API: '127.0.0.1:0',
          ...this.env,
          ...perDevice[id],
        }),
      );
    }
  }

  /** The device's local API, as its application reaches it. */
  apiUrl(id: string): string {
    const agent = this.agents.get(id);
    if (!agent) throw new Error(`no agent ${id}`);
    return agent.apiUrl;
  }

  async serving(id: string): Promise<string | null> {
    const s = (await (await fetch(`${this.apiUrl(id)}/v1/status`)).json()) as AgentStatus;
    return s.active_slot ? (s.slots[s.active_slot]?.version ?? null) : null;
  }

  /** Waits until every one of `devices` serves `version`. */
  async waitServing(devices: string[], version: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const versions = await Promise.all(devices.map((id) => this.serving(id)));
      if (versions.every((v) => v === version)) return;
      if (Date.now() > deadline)
        throw new Error(`expected ${version} everywhere, got ${versions.join(',')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => stopProcess(a.child)));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A cohort salt that puts exactly `count` of `devices` in a `percent` cohort. */
export function saltFor(devices: string[], percent: number, count: number, prefix = 'e2e'): string {
  for (let i = 0; i < 100_000; i++) {
    const salt = `${prefix}-${i}`;
    if (devices.filter((id) => inCohort(id, { percent, salt })).length === count) return salt;
  }
  throw new Error(`no salt puts ${count} of ${devices.length} devices in a ${percent} % cohort`);
}
