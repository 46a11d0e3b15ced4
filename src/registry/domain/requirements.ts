/**
 * What a model asks of a device, besides the opset of its ONNX header: `metadata.requirements`,
 * checked when a model is pushed or its metadata patched, read by the deployments' compatibility
 * check. Pure; no dependencies (the packed CLI may carry it).
 */

export interface ModelRequirements {
  /** Labels every device must carry (e.g. camera:ip67). */
  labels?: string[];
  /** Memory the device must report, in MiB. */
  min_memory_mb?: number;
  /** The device must offer at least one of these execution providers. */
  execution_providers?: string[];
}

export const REQUIREMENTS_KEY = 'requirements';
const KEYS = ['labels', 'min_memory_mb', 'execution_providers'] as const;
const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9._:/=-]{0,127}$/;
const PROVIDER_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function stringList(value: unknown, key: string, pattern: RegExp, max: number): string | null {
  if (!Array.isArray(value)) return `metadata.requirements.${key} must be an array of strings`;
  if (value.length > max) return `metadata.requirements.${key} has more than ${max} items`;
  const bad = value.find((v) => typeof v !== 'string' || !pattern.test(v));
  return bad === undefined
    ? null
    : `metadata.requirements.${key}: ${JSON.stringify(bad)} is not valid (letters, digits and ${pattern === LABEL_RE ? '. _ : / = -, at most 128' : '. _ -, at most 64'} characters)`;
}

/** Why `metadata.requirements` is malformed, or null (absent is fine). */
export function requirementsProblem(metadata: Record<string, unknown>): string | null {
  if (!(REQUIREMENTS_KEY in metadata)) return null;
  const value = metadata[REQUIREMENTS_KEY];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'metadata.requirements must be an object with labels, min_memory_mb, execution_providers';
  }
  const record = value as Record<string, unknown>;
  const unknown = Object.keys(record).find((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown !== undefined) {
    return `metadata.requirements.${unknown} is not a known requirement (${KEYS.join(', ')})`;
  }
  if (record.labels !== undefined) {
    const problem = stringList(record.labels, 'labels', LABEL_RE, 64);
    if (problem) return problem;
  }
  if (record.execution_providers !== undefined) {
    const problem = stringList(record.execution_providers, 'execution_providers', PROVIDER_RE, 16);
    if (problem) return problem;
    if ((record.execution_providers as unknown[]).length === 0) {
      return 'metadata.requirements.execution_providers must name at least one provider';
    }
  }
  const memory = record.min_memory_mb;
  if (
    memory !== undefined &&
    (typeof memory !== 'number' || !Number.isInteger(memory) || memory < 1 || memory > 1e9)
  ) {
    return 'metadata.requirements.min_memory_mb must be an integer number of MiB between 1 and 1000000000';
  }
  return null;
}

/** The requirements of valid metadata (requirementsProblem is null); none: an empty object. */
export function requirementsOf(
  metadata: Record<string, unknown> | null | undefined,
): ModelRequirements {
  const value = metadata?.[REQUIREMENTS_KEY];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return value as ModelRequirements;
}
