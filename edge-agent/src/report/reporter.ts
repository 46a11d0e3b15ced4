import {
  encodeMessage,
  type DeploymentProgress,
  type DeviceState,
  type ModelRef,
  type Telemetry,
} from '@sentinel/broker/protocol';
import type { Slots } from '../inference/slots.js';
import { TelemetryWindow } from '../telemetry/window.js';
import type { ErrorLog } from './error-log.js';

export const AGENT_VERSION = '0.1.0';

export interface ReporterOptions {
  deviceId: string;
  slots: Slots;
  errors: ErrorLog;
  /** The deployment progress to report, and the deployment the telemetry belongs to. */
  progress(): DeploymentProgress | null;
  deploymentId(): string | null;
  /** What the device can run (onnxruntime, opset, memory, labels), sent with every state. */
  capabilities?: DeviceState['capabilities'];
}

/**
 * What the device says about itself: the device-state payload (slots, deployment progress, recent
 * errors) and the telemetry message of each window (inference latency, FPS, quality).
 */
export class Reporter {
  readonly window = new TelemetryWindow();

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
    const view = this.o.slots.view();
    const report = (model: ModelRef | null) =>
      model
        ? { model_id: model.id, version: model.version, sha256: model.sha256, loaded: true }
        : null;
    const state: DeviceState = {
      device_id: id,
      online: true,
      agent_version: AGENT_VERSION,
      ts: new Date().toISOString(),
      active_slot: view.active,
      slots: { blue: report(view.blue), green: report(view.green) },
      deployment: this.o.progress(),
      errors: this.o.errors.list().map((e) => (e.length > 2048 ? e.slice(0, 2048) : e)),
      ...(this.o.capabilities ? { capabilities: this.o.capabilities } : {}),
    };
    return encodeMessage('device-state', state);
  }

  /** The telemetry of the window that ends now (a new one starts). */
  telemetry(): Telemetry {
    const slots = this.o.slots;
    return this.window.take({
      deviceId: this.o.deviceId,
      model: slots.activeModel(),
      slot: slots.active,
      deploymentId: this.o.deploymentId(),
      memoryMb: process.memoryUsage().rss / (1024 * 1024),
    });
  }
}
