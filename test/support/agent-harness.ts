// One in-process edge agent setup for the agent's defence tests: the production broker factory
// and ACL (TestBroker), the model server the agents are configured with as their hub, and a
// second one on another port that they were not configured with.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, type AgentConfig, type SessionPool } from '@sentinel/edge-agent';
import { agentConfig, ModelServer, TestBroker } from './agent-fixture.js';

export class AgentHarness {
  readonly broker = new TestBroker();
  /** The server every agent has as SENTINEL_HUB_URL. */
  readonly hub = new ModelServer();
  /** Another origin, which a desired state may name all the same. */
  readonly rogue = new ModelServer();
  dir = '';
  private readonly agents: Agent[] = [];

  async start(): Promise<this> {
    await this.broker.start();
    await Promise.all([this.hub.start(), this.rogue.start()]);
    this.dir = await mkdtemp(join(tmpdir(), 'agent-harness-'));
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.stop()));
    await this.broker.stop();
    await Promise.all([this.hub.stop(), this.rogue.stop()]);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** A device of `group` known to the broker, and its agent's configuration. */
  config(id: string, group: string, overrides: Record<string, string> = {}): AgentConfig {
    return agentConfig(this, id, group, { SENTINEL_DOWNLOAD_RETRIES: '0', ...overrides });
  }

  /** Starts an agent that stop() stops. */
  async startAgent(
    id: string,
    group: string,
    overrides: Record<string, string> = {},
    pool?: SessionPool,
  ): Promise<Agent> {
    const agent = new Agent(this.config(id, group, overrides), { pool });
    this.agents.push(agent);
    await agent.start();
    return agent;
  }
}

/** A device state predicate: the deployment failed with `reason`. */
export const failedWith =
  (reason: string) =>
  (state: { deployment?: { phase?: string; reason?: string } | null }): boolean =>
    state.deployment?.phase === 'failed' && state.deployment.reason === reason;
