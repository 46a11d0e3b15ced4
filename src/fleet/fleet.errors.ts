import { QueryFailedError } from 'typeorm';
import { DomainError, notFound, validationFailed } from '../common/domain-error.js';
import { firstProblem, type Problem } from './domain/fleet-rules.js';

export const groupNotFound = (name: string) => notFound('group', name);
export const deviceNotFound = (id: string) => notFound('device', id);
export const groupExists = (name: string) =>
  new DomainError('CONFLICT', `group ${name} already exists`);
export const deviceExists = (id: string) =>
  new DomainError('CONFLICT', `device ${id} already exists`);
/** A device names its group in the request body: a missing one is a bad request, not a 404. */
export const unknownGroup = (name: string) =>
  validationFailed(`group "${name}" does not exist; create it first (POST /api/v1/groups)`);

export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';

/** Throws the first problem as a validation error (HTTP 400). */
export function assertValid(...problems: Problem[]): void {
  const problem = firstProblem(...problems);
  if (problem) throw validationFailed(problem);
}

/** Whether a query failed with PostgreSQL error `code` (e.g. UNIQUE_VIOLATION). */
export function violates(error: unknown, code: string): boolean {
  return (
    error instanceof QueryFailedError && (error.driverError as { code?: string }).code === code
  );
}
