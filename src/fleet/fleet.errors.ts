import { DomainError, notFound, validationFailed } from '../common/domain-error.js';

export const groupNotFound = (name: string) => notFound('group', name);
export const deviceNotFound = (id: string) => notFound('device', id);
export const groupExists = (name: string) =>
  new DomainError('CONFLICT', `group ${name} already exists`);
export const deviceExists = (id: string) =>
  new DomainError('CONFLICT', `device ${id} already exists`);
/** A device names its group in the request body: a missing one is a bad request, not a 404. */
export const unknownGroup = (name: string) =>
  validationFailed(`group "${name}" does not exist; create it first (POST /api/v1/groups)`);
