import { ValidateBy, type ValidationArguments } from 'class-validator';
import { FLEET_ID_RE, FLEET_ID_RULE, checkLabels } from '../domain/fleet-rules.js';

/** A flat string -> string map; the message says which key or value is wrong. */
export function IsLabels(): PropertyDecorator {
  return ValidateBy({
    name: 'isLabels',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        checkLabels(args?.property ?? 'labels', value) === null,
      defaultMessage: (args?: ValidationArguments) =>
        checkLabels(args?.property ?? 'labels', args?.value) ?? '',
    },
  });
}

/** An id that is one MQTT topic level (device ids, group names, environments). */
export function IsFleetId(): PropertyDecorator {
  return ValidateBy({
    name: 'isFleetId',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && FLEET_ID_RE.test(value),
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property} must be ${FLEET_ID_RULE} (got ${JSON.stringify(args?.value)})`,
    },
  });
}
