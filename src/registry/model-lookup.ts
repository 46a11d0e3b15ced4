import { Raw, type FindOptionsWhere } from 'typeorm';
import { validationFailed } from '../common/domain-error.js';
import { isModelRefProblem, parseModelRef } from './domain/model-ref.js';
import type { ModelVersion } from './model-version.entity.js';

/**
 * The look-up of a model reference, one statement whatever its form (an alias resolves through
 * model_aliases in a sub-select); a malformed one is a 400 that says what is expected.
 */
export function modelWhere(ref: string): FindOptionsWhere<ModelVersion> {
  const parsed = parseModelRef(ref);
  if (isModelRefProblem(parsed)) throw validationFailed(parsed.problem);
  if (!('alias' in parsed)) return parsed;
  return {
    id: Raw(
      (column) =>
        `${column} = (SELECT model_id FROM model_aliases WHERE name = :name AND alias = :alias)`,
      {
        name: parsed.name,
        alias: parsed.alias,
      },
    ),
  };
}
