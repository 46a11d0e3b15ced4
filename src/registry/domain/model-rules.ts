import { jsonProblem } from '../../common/domain/json-input.js';
import { requirementsProblem } from './requirements.js';

export const STAGES = ['staging', 'production', 'archived'] as const;
export type Stage = (typeof STAGES)[number];

/** Outcome of a pure validation: null when valid, else a one-line reason. */
export type Problem = string | null;

// Names end up in object keys, MQTT payloads and file names on devices: keep them to a safe alphabet.
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const TAG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

export function checkModelName(name: string): Problem {
  if (!name) return 'name is required';
  if (name.includes('..') || !NAME_PATTERN.test(name)) {
    return `name "${name}" must be 1-128 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit, without ".."`;
  }
  return null;
}

/** Versions (semver, nightly dates, CalVer) are versions.ts'; the version is also part of device-side paths. */
export { checkVersion } from './versions.js';

/** The text fields of a multipart push; anything else is refused rather than silently ignored. */
export const PUSH_FIELDS = [
  'name',
  'version',
  'model_type',
  'framework',
  'stage',
  'metadata',
  'tags',
  'parent_id',
] as const;

/** Why a text field of a push is refused, or null. The file and signature are file parts. */
export function checkPushField(name: string): Problem {
  if (name === 'file' || name === 'signature')
    return `"${name}" must be sent as a file part (with a filename), not as a text field`;
  return (PUSH_FIELDS as readonly string[]).includes(name)
    ? null
    : `unknown field "${name}" (accepted: ${PUSH_FIELDS.join(', ')}, and the file parts "file" and "signature")`;
}

/**
 * Whether a text field stands where a file part belongs but carries nothing. An HTML form, Swagger UI's
 * "Try it out" among them, sends an untouched optional file input as an empty text field: that is
 * no signature (or no file), not a signature sent the wrong way.
 */
export function isBlankFilePart(name: string, value: string): boolean {
  return (name === 'file' || name === 'signature') && value === '';
}

export function isStage(value: string): value is Stage {
  return (STAGES as readonly string[]).includes(value);
}

export function checkStage(stage: string): Problem {
  if (!stage) return 'stage is required';
  return isStage(stage) ? null : `stage "${stage}" must be one of ${STAGES.join(', ')}`;
}

/** model_type and framework are free labels (e.g. "object-detection", "onnx"), but bounded and printable. */
export function checkLabel(field: string, value: string): Problem {
  if (!value) return `${field} is required`;
  return LABEL_PATTERN.test(value)
    ? null
    : `${field} "${value}" must be 1-64 characters of letters, digits, ".", "_", "+" and "-"`;
}

export function checkTags(tags: string[]): Problem {
  if (tags.length > 32) return 'at most 32 tags are allowed';
  const bad = tags.find((tag) => !TAG_PATTERN.test(tag));
  return bad === undefined
    ? null
    : `tag "${bad}" must be 1-64 characters of letters, digits and . _ : / -`;
}

/** Tags arrive as "a,b" in multipart forms or as a JSON array in PATCH bodies. */
export function parseTags(raw: string | undefined): string[] {
  if (!raw) return [];
  return [
    ...new Set(
      raw
        .split(',')
        .map((tag) => tag.trim())
        .filter(Boolean),
    ),
  ];
}

/**
 * Metadata travels inside every desired state that names the model (twice: as model and as previous),
 * and a desired state is one MQTT message of at most 256 KiB; it also sits in every list response.
 */
export const MAX_METADATA_BYTES = 32 * 1024;

export function checkMetadataSize(metadata: Record<string, unknown>): Problem {
  const size = Buffer.byteLength(JSON.stringify(metadata));
  return size > MAX_METADATA_BYTES
    ? `metadata is ${size} bytes as JSON; at most ${MAX_METADATA_BYTES} are allowed (keep large files as artifacts of their own)`
    : null;
}

export function parseMetadata(
  raw: string | undefined,
): { metadata: Record<string, unknown> } | { problem: string } {
  if (raw === undefined || raw.trim() === '') return { metadata: {} };
  try {
    const value: unknown = JSON.parse(raw);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const problem =
        jsonProblem(value, 'metadata') ??
        checkMetadataSize(value as Record<string, unknown>) ??
        requirementsProblem(value as Record<string, unknown>);
      return problem ? { problem } : { metadata: value as Record<string, unknown> };
    }
  } catch {
    // reported below
  }
  return { problem: 'metadata must be a JSON object' };
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A metadata PATCH: a JSON merge patch one level deep (a key set to null is removed). Pure. */
export function mergeMetadata(
  current: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const merged = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}
