import { ValidateBy, type ValidationArguments } from 'class-validator';
import { FLEET_ID_RE, FLEET_ID_RULE, checkDeviceId, checkLabels } from '../domain/fleet-rules.js';

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

/** A new device's id: a fleet id that is not reserved ("me"). */
export function IsDeviceId(): PropertyDecorator {
  return ValidateBy({
    name: 'isDeviceId',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        checkDeviceId(args?.property ?? 'id', value) === null,
      defaultMessage: (args?: ValidationArguments) => {
        const property = args?.property ?? 'id';
        if (typeof args?.value === 'string' && FLEET_ID_RE.test(args.value)) {
          return checkDeviceId(property, args.value) ?? '';
        }
        return `${property} must be ${FLEET_ID_RULE} (got ${JSON.stringify(args?.value)})`;
      },
    },
  });
}
