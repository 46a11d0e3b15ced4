import { ApiToken } from '../auth/api-token.entity.js';
import { AuditEvent } from '../audit/audit-event.entity.js';
import { NamedDesiredState } from '../broker/named-desired-state.entity.js';
import { DeviceGroup } from '../fleet/device-group.entity.js';
import { Device } from '../fleet/device.entity.js';
import { ModelVersion } from '../registry/model-version.entity.js';
import { ModelAlias, ModelAliasMove } from '../registry/aliases/model-alias.entity.js';
import { EnvironmentGate } from '../deployments/gates/environment-gate.entity.js';
import { HealthEvaluation, StepBaseline } from '../rules/health.entity.js';
import { TelemetryPointRow } from '../telemetry/telemetry-point.entity.js';
import {
  Deployment,
  DeploymentDevice,
  DeploymentEvent,
  DeploymentGroup,
} from '../deployments/deployment.entity.js';

/** Every entity of the hub; the migrations in migrations/ must produce exactly this schema. */
export const ENTITIES = [
  ApiToken,
  AuditEvent,
  ModelVersion,
  ModelAlias,
  ModelAliasMove,
  DeviceGroup,
  Device,
  NamedDesiredState,
  Deployment,
  DeploymentGroup,
  DeploymentDevice,
  DeploymentEvent,
  TelemetryPointRow,
  HealthEvaluation,
  StepBaseline,
  EnvironmentGate,
];
