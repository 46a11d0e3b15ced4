import { ValidateBy, type ValidationArguments } from 'class-validator';
import { isModelRefProblem, parseModelRef } from '../domain/model-ref.js';

/** A body field naming a model version: its id or name@version (RegistryService.get resolves it). */
export function IsModelRef(): PropertyDecorator {
  return ValidateBy({
    name: 'isModelRef',
    validator: {
      validate: (value: unknown) => !isModelRefProblem(parseModelRef(value)),
      defaultMessage: (args?: ValidationArguments) => {
        const parsed = parseModelRef(args?.value);
        const problem = isModelRefProblem(parsed) ? parsed.problem : '';
        return `${args?.property ?? 'model_id'}: ${problem}`;
      },
    },
  });
}
