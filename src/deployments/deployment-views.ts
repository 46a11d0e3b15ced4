/** What the deployments feature hands out: read models shared by the service, its DTOs and the CLI's hub. */
import type { Deployment, DeploymentEvent, DeploymentGroup } from './deployment.entity.js';
import type { DeploymentStatus } from './domain/rollout.js';

export interface DeploymentSummary {
  deployment: Deployment;
  model: { id: string; name: string; version: string };
  groups: DeploymentGroup[];
  /** Said once, by POST /deployments: what the rules will not be able to judge as asked. */
  warnings?: string[];
}

export interface DeploymentDetail extends DeploymentSummary {
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
      attempts: number;
    }[];
    /** Devices deferring the swap (their application holds the update lock). */
    deferred_devices: {
      device_id: string;
      reason: string | null;
      detail: string | null;
      since: string;
    }[];
    /** Devices skipped as incompatible (they keep their model; not counted in the figures above). */
    skipped_devices: { device_id: string; reason: string; detail: string }[];
  };
  events: DeploymentEvent[];
}

export interface DeploymentListQuery {
  limit?: number;
  offset?: number;
  status?: DeploymentStatus;
  environment?: string;
  group?: string;
  model_id?: string;
  serve_as?: string;
}
