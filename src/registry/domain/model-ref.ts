import { checkModelName, UUID_PATTERN } from './model-rules.js';

/** How a request names one model version: by its id, or by name and version (`detector@2.0.0`). */
export type ModelRef = { id: string } | { name: string; version: string };

/** The characters a version may have (SemVer, nightly dates, CalVer); no path characters. */
const VERSION_CHARS = /^[0-9A-Za-z][0-9A-Za-z.+-]{0,127}$/;

export const MODEL_REF_HELP =
  'a model version id (UUID) or name@version, e.g. detector@2.0.0 (the version as pushed)';

/**
 * Parses a model reference: a UUID, or `name@version` split at the first "@" (names never contain
 * one). Only the shape is checked here; whether the version exists is the look-up's business.
 */
export function parseModelRef(ref: unknown): ModelRef | { problem: string } {
  if (typeof ref !== 'string' || ref === '') return { problem: `model must be ${MODEL_REF_HELP}` };
  const at = ref.indexOf('@');
  if (at < 0) {
    return UUID_PATTERN.test(ref)
      ? { id: ref.toLowerCase() }
      : { problem: `model "${ref}" is neither a UUID nor name@version (e.g. detector@2.0.0)` };
  }
  const name = ref.slice(0, at);
  const version = ref.slice(at + 1);
  const badName = checkModelName(name);
  if (badName) return { problem: `model "${ref}": ${badName}` };
  if (!VERSION_CHARS.test(version)) {
    return {
      problem: `model "${ref}": the version after "@" must be 1-128 characters of letters, digits, ".", "+" and "-"`,
    };
  }
  return { name, version };
}

export function isModelRefProblem(
  parsed: ModelRef | { problem: string },
): parsed is { problem: string } {
  return 'problem' in parsed;
}
