import { checkModelName, UUID_PATTERN } from './model-rules.js';

/**
 * How a request names one model version: by its id, by name and version (`detector@2.0.0`), or by
 * name and alias (`detector@champion`, the version the alias points at when the request is made).
 */
export type ModelRef =
  { id: string } | { name: string; version: string } | { name: string; alias: string };

/** Aliases start with a letter, versions never do (SemVer, dates and CalVer start with a digit). */
export const ALIAS_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;

/** Null for a well-formed alias name, else a one-line reason. */
export function checkAliasName(alias: string): string | null {
  return ALIAS_PATTERN.test(alias)
    ? null
    : `alias "${alias}" must be 1-63 characters of a-z, 0-9, "_" and "-", starting with a letter`;
}

/** The characters a version may have (SemVer, nightly dates, CalVer); no path characters. */
const VERSION_CHARS = /^[0-9A-Za-z][0-9A-Za-z.+-]{0,127}$/;

export const MODEL_REF_HELP =
  'a model version id (UUID), name@version, e.g. detector@2.0.0 (the version as pushed), or name@alias, e.g. detector@champion';

/**
 * Parses a model reference: a UUID, or `name@version` / `name@alias` split at the first "@" (names
 * never contain one; what follows is an alias when it starts with a letter). Only the shape is checked here; whether the version exists is the look-up's business.
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
  if (/^[A-Za-z]/.test(version)) {
    const badAlias = checkAliasName(version);
    return badAlias ? { problem: `model "${ref}": ${badAlias}` } : { name, alias: version };
  }
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
