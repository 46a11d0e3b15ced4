import {
  encodeMessage,
  type DeploymentProgress,
  type DeviceState,
  type ModelRef,
  type NamedModelState,
} from '@sentinel/broker/protocol';
import type { SlotsView } from '../state/plan.js';
import type { ErrorLog } from './error-log.js';

export const AGENT_VERSION = '0.1.0';

/** What the device's models say in its state: `default` at the top level, the others by name. */
export interface ModelsReport {
  default: NamedModelState;
  named: Record<string, NamedModelState>;
}

export interface ReporterOptions {
  deviceId: string;
  errors: ErrorLog;
  /** The slots and deployment progress of every model the device serves. */
  models(): ModelsReport;
  /** What the device can run (onnxruntime, opset, memory, labels), sent with every state. */
  capabilities?: DeviceState['capabilities'];
}

/** One model's slots and deployment progress, as a state report carries them. */
export function modelState(view: SlotsView, progress: DeploymentProgress | null): NamedModelState {
  const report = (model: ModelRef | null) =>
    model
      ? { model_id: model.id, version: model.version, sha256: model.sha256, loaded: true }
      : null;
  return {
    active_slot: view.active,
    slots: { blue: report(view.blue), green: report(view.green) },
    deployment: progress,
  };
}

/**
 * The device-state payload: the default model's slots and deployment progress at the top level,
 * the named models' under `models` (left out while there is none, so that a one-model agent's
 * report is the same as before named models), recent errors and capabilities.
 */
export class Reporter {
  constructor(private readonly o: ReporterOptions) {}

  statePayload(online: boolean): Buffer {
    const id = this.o.deviceId;
    if (!online) {
      return encodeMessage('device-state', {
        device_id: id,
        online: false,
        ts: new Date().toISOString(),
      });
    }
    const models = this.o.models();
    const top = models.default;
    const state: DeviceState = {
      device_id: id,
      online: true,
      agent_version: AGENT_VERSION,
      ts: new Date().toISOString(),
      active_slot: top.active_slot,
      slots: top.slots,
      deployment: top.deployment,
      errors: this.o.errors.list().map((e) => (e.length > 2048 ? e.slice(0, 2048) : e)),
      ...(this.o.capabilities ? { capabilities: this.o.capabilities } : {}),
      ...(Object.keys(models.named).length > 0 ? { models: models.named } : {}),
    };
    return encodeMessage('device-state', state);
  }
}
