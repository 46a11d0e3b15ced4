/**
 * Compatibility before assignment, as pure functions: whether a device can run a model, judged on
 * what the device reported (`capabilities` in its state) against what the model needs (the opset of
 * its ONNX header, and `metadata.requirements`). A device that reported no capabilities (an agent
 * older than them, or one that has never connected) cannot be judged and counts as compatible: the
 * deployment reaches it as before, and its own load is the judge.
 */
import type { Capabilities } from '@sentinel/broker';
import type { ModelRequirements } from '../../registry/domain/requirements.js';

export interface Needs extends ModelRequirements {
  /** The default-domain (ai.onnx) opset of the model's header; absent: not an ONNX model we parsed. */
  opset?: number;
}

/** Why `capabilities` cannot run a model with `needs`: one line per problem; empty: it can. */
export function incompatibilities(capabilities: Capabilities, needs: Needs): string[] {
  const reasons: string[] = [];
  if (needs.opset !== undefined && capabilities.max_opset !== undefined) {
    if (needs.opset > capabilities.max_opset) {
      reasons.push(`opset ${needs.opset} > device max ${capabilities.max_opset}`);
    }
  }
  const labels = new Set(capabilities.labels ?? []);
  for (const label of needs.labels ?? []) {
    if (!labels.has(label)) reasons.push(`label ${label} missing`);
  }
  if (needs.min_memory_mb !== undefined && capabilities.memory_mb !== undefined) {
    if (capabilities.memory_mb < needs.min_memory_mb) {
      reasons.push(`memory ${capabilities.memory_mb} MiB < ${needs.min_memory_mb} MiB`);
    }
  }
  const wanted = needs.execution_providers ?? [];
  if (wanted.length > 0 && capabilities.execution_providers !== undefined) {
    const offered = new Set(capabilities.execution_providers.map((p) => p.toLowerCase()));
    if (!wanted.some((p) => offered.has(p.toLowerCase()))) {
      reasons.push(
        `execution provider ${wanted.join(' or ')} missing (device has ${capabilities.execution_providers.join(', ') || 'none'})`,
      );
    }
  }
  return reasons;
}

export interface TargetDevice {
  id: string;
  /** What it last reported; null: unknown (cannot be judged, treated as compatible). */
  capabilities: Capabilities | null;
}

export interface Assignment {
  /** Devices the deployment reaches: compatible, or of unknown capabilities. */
  assigned: string[];
  /** Of `assigned`, those whose capabilities are unknown. */
  unknown: string[];
  /** Devices it skips (they keep their model), with the reasons in one line. */
  skipped: { id: string; detail: string }[];
  /** Set when the deployment must be refused: every target device is incompatible. */
  refusal: string | null;
}

/** How many skipped devices a refusal names before it says "and N more". */
const NAMED = 3;

/**
 * Which target devices a deployment of a model with `needs` reaches. Refused when there are target
 * devices and none of them can run the model (a group without devices is not refused here).
 */
export function assign(devices: readonly TargetDevice[], needs: Needs): Assignment {
  const assigned: string[] = [];
  const unknown: string[] = [];
  const skipped: Assignment['skipped'] = [];
  for (const device of devices) {
    if (device.capabilities === null) {
      assigned.push(device.id);
      unknown.push(device.id);
      continue;
    }
    const reasons = incompatibilities(device.capabilities, needs);
    if (reasons.length === 0) assigned.push(device.id);
    else skipped.push({ id: device.id, detail: reasons.join('; ') });
  }
  let refusal: string | null = null;
  if (assigned.length === 0 && skipped.length > 0) {
    const named = skipped.slice(0, NAMED).map((s) => `${s.id}: ${s.detail}`);
    const more = skipped.length > NAMED ? `; and ${skipped.length - NAMED} more` : '';
    refusal = `no target device is compatible with the model (${named.join('; ')}${more})`;
  }
  return { assigned, unknown, skipped, refusal };
}
