// How the CLI takes a model version on its command line: a UUID, name@version or name@alias. The
// hub's own rule (src/registry/domain/model-ref.ts, pure) decides the shape, so a malformed reference
// is a usage error (exit 2) whichever command it is given to, and never disagrees with the hub.
import { isModelRefProblem, parseModelRef } from '../registry/domain/model-ref.js';
import { UsageError } from './cli-errors.js';

/** Whether `value` has the shape of a model reference (whether it exists is the hub's answer). */
export function isModelRef(value: string): boolean {
  return !isModelRefProblem(parseModelRef(value));
}

/** Returns the reference as sent to the hub (a UUID in lower case), or throws a UsageError. */
export function checkModelRef(label: string, value: string): string {
  const parsed = parseModelRef(value);
  if (isModelRefProblem(parsed)) {
    throw new UsageError(
      `${label} "${value}" must be a model version id (UUID), name@version (e.g. detector@2.0.0) or name@alias (e.g. detector@champion)`,
    );
  }
  return 'id' in parsed ? parsed.id : value;
}
