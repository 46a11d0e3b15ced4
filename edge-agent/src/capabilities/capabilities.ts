/**
 * What this device can run, as reported in its state (`capabilities`): the hub compares it with a
 * model's requirements before it deploys the model here. `capabilitiesOf` is pure;
 * `localCapabilities` reads the machine.
 */
import { totalmem } from 'node:os';
import ort from 'onnxruntime-node';
import type { Capabilities } from '@sentinel/broker/protocol';

/**
 * Highest default-domain (ai.onnx) opset an onnxruntime release loads, by minor version: the
 * "ONNX opset version" column of onnxruntime's version matrix
 * (https://onnxruntime.ai/docs/reference/compatibility.html, docs/Versioning.md in its repository).
 * The 1.30 row was measured on the bundled onnxruntime-node 1.30.0: a Relu model stamped opset 26
 * loads, 27 is refused by ValidateOpsetForDomain. A release newer than the table gets its last row
 * (it loads at least that much); one older than the table, the first.
 */
export const ORT_MAX_OPSET: readonly (readonly [minor: number, opset: number])[] = [
  [10, 15], // ORT 1.10, ONNX 1.10
  [11, 15],
  [12, 17], // ONNX 1.12
  [13, 17],
  [14, 18], // ONNX 1.13
  [15, 19], // ONNX 1.14
  [16, 19],
  [17, 20], // ONNX 1.15
  [18, 21], // ONNX 1.16
  [19, 21],
  [20, 21],
  [21, 22], // ONNX 1.17
  [22, 22],
  [30, 26], // measured (see above)
];

/** The highest opset of an onnxruntime `major.minor.patch` version, from ORT_MAX_OPSET. */
export function maxOpsetOf(ortVersion: string): number | undefined {
  const match = /^(\d+)\.(\d+)\./.exec(ortVersion);
  if (!match || match[1] !== '1') return undefined;
  const minor = Number(match[2]);
  let best = ORT_MAX_OPSET[0]![1];
  for (const [m, opset] of ORT_MAX_OPSET) if (m <= minor) best = opset;
  return best;
}

export interface CapabilityFacts {
  ortVersion: string | undefined;
  arch: string;
  totalMemoryBytes: number;
  /** SENTINEL_MEMORY_MB: what the device may use for models, when less than the machine has. */
  memoryMb?: number;
  labels: readonly string[];
}

/**
 * The capabilities message of these facts. Execution providers: the agent creates its sessions with
 * onnxruntime's defaults, which is the CPU provider, whatever else the binary could load.
 */
export function capabilitiesOf(facts: CapabilityFacts): Capabilities {
  const maxOpset = facts.ortVersion ? maxOpsetOf(facts.ortVersion) : undefined;
  return {
    ...(facts.ortVersion ? { ort_version: facts.ortVersion } : {}),
    ...(maxOpset !== undefined ? { max_opset: maxOpset } : {}),
    execution_providers: ['cpu'],
    arch: facts.arch,
    memory_mb: facts.memoryMb ?? Math.floor(facts.totalMemoryBytes / (1024 * 1024)),
    labels: [...facts.labels],
  };
}

/** This machine's capabilities, with the configured labels and memory limit. */
export function localCapabilities(config: { labels: string[]; memoryMb?: number }): Capabilities {
  return capabilitiesOf({
    ortVersion: ort.env.versions?.node ?? ort.env.versions?.common,
    arch: process.arch,
    totalMemoryBytes: totalmem(),
    memoryMb: config.memoryMb,
    labels: config.labels,
  });
}
