// How the CLI takes a model version on its command line: a UUID or name@version. The same shape
// rule as the hub's parseModelRef (src/registry/domain/model-ref.ts; model-ref.spec.ts checks they
// agree), so a malformed reference is a usage error (exit 2) whichever command it is given to.
import { UsageError } from './cli-errors.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z.+-]{0,127}$/;

/** Whether `value` has the shape of a model reference (whether it exists is the hub's answer). */
export function isModelRef(value: string): boolean {
  const at = value.indexOf('@');
  if (at < 0) return UUID_RE.test(value);
  const name = value.slice(0, at);
  return NAME_RE.test(name) && !name.includes('..') && VERSION_RE.test(value.slice(at + 1));
}

/** Returns the reference as sent to the hub (a UUID in lower case), or throws a UsageError. */
export function checkModelRef(label: string, value: string): string {
  if (!isModelRef(value)) {
    throw new UsageError(
      `${label} "${value}" must be a model version id (UUID) or name@version, e.g. detector@2.0.0`,
    );
  }
  return value.includes('@') ? value : value.toLowerCase();
}
