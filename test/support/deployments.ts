import { connectAsync, type MqttClient } from 'mqtt';
import { ALL_DEVICE_STATE, parseMessage, type DeviceState } from '@sentinel/broker';
import { api, type TestHub } from './hub.js';

export interface DeploymentBody {
  model_id: string;
  environment: string;
  deployment_type: 'blue-green' | 'canary';
  target: string;
  canary?: { steps?: number[]; step_interval_s?: number; salt?: string };
  [key: string]: unknown;
}

export interface DeploymentDetail {
  id: string;
  status: string;
  status_reason: string | null;
  canary: { steps: number[]; step_index: number; percent: number; salt: string } | null;
  progress: {
    targets: number;
    online: number;
    participating: number;
    phases: Record<string, number>;
    failed_devices: {
      device_id: string;
      phase: string;
      reason: string | null;
      detail: string | null;
    }[];
  };
  events: {
    type: string;
    from_status: string | null;
    to_status: string | null;
    actor: string;
    figures: Record<string, unknown>;
  }[];
  [key: string]: unknown;
}

export async function deploy(hub: TestHub, body: DeploymentBody): Promise<DeploymentDetail> {
  const response = await api(hub)('/api/v1/deployments', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 201)
    throw new Error(`deploy: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as DeploymentDetail;
}

export async function getDeployment(hub: TestHub, id: string): Promise<DeploymentDetail> {
  const response = await api(hub)(`/api/v1/deployments/${id}`);
  if (response.status !== 200)
    throw new Error(`deployment ${id}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as DeploymentDetail;
}

export async function deploymentAction(
  hub: TestHub,
  id: string,
  action: 'rollback' | 'pause' | 'resume' | 'promote',
): Promise<Response> {
  return api(hub)(`/api/v1/deployments/${id}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
}

/** Polls the deployment until `predicate` holds; fails with the last detail after `timeoutMs`. */
export async function waitForDeployment(
  hub: TestHub,
  id: string,
  predicate: (d: DeploymentDetail) => boolean,
  timeoutMs = 60_000,
): Promise<DeploymentDetail> {
  const deadline = Date.now() + timeoutMs;
  let last: DeploymentDetail | undefined;
  while (Date.now() < deadline) {
    try {
      last = await getDeployment(hub, id);
      if (predicate(last)) return last;
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // fetch failed: the hub is restarting
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for deployment ${id}: ${JSON.stringify(last)}`);
}

/** Every device state the hub's broker carries, as an observer sees them, with arrival times. */
export class StateRecorder {
  readonly states = new Map<string, { at: number; state: DeviceState }[]>();
  private constructor(private readonly client: MqttClient) {}

  static async connect(hub: TestHub, token = hub.adminToken): Promise<StateRecorder> {
    const client = await connectAsync(`mqtt://127.0.0.1:${hub.mqtt!.port}`, {
      username: 'observer',
      password: token,
      protocolVersion: 4,
      reconnectPeriod: 500,
    });
    const recorder = new StateRecorder(client);
    client.on('message', (_topic, payload) => {
      if (payload.length === 0) return;
      const parsed = parseMessage('device-state', payload);
      if (!parsed.ok) return;
      const list = recorder.states.get(parsed.value.device_id) ?? [];
      list.push({ at: Date.now(), state: parsed.value });
      recorder.states.set(parsed.value.device_id, list);
    });
    await client.subscribeAsync(ALL_DEVICE_STATE, { qos: 1 });
    return recorder;
  }

  of(device: string): { at: number; state: DeviceState }[] {
    return this.states.get(device) ?? [];
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}

export function servingVersion(state: DeviceState): string | null {
  const slot = state.active_slot;
  return slot ? (state.slots?.[slot]?.version ?? null) : null;
}
