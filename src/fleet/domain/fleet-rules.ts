import { ID_PATTERN } from '@sentinel/broker';

/** Outcome of a pure validation: null when valid, else a one-line reason naming the field. */
export type Problem = string | null;

export type Labels = Record<string, string>;

/**
 * Device ids, group names and environments become MQTT topic levels, user names and client ids, so
 * they share the protocol's id alphabet (defined once in @sentinel/broker): no '/', '+', '#', '$',
 * no upper case, no spaces.
 */
export const FLEET_ID_RE = new RegExp(ID_PATTERN);
export const FLEET_ID_RULE =
  '1-64 characters of lowercase letters, digits, ".", "_" and "-", starting with a letter or digit';

const LABEL_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
const MAX_LABELS = 64;
const MAX_LABEL_VALUE = 256;
const MAX_DEVICE_NAME = 200;

export function checkFleetId(field: string, value: unknown): Problem {
  if (typeof value !== 'string' || value === '') return `${field} is required`;
  return FLEET_ID_RE.test(value) ? null : `${field} "${value}" must be ${FLEET_ID_RULE}`;
}

/** Ids no device may have: `GET /api/v1/devices/me` is the calling device, never a device named "me". */
export const RESERVED_DEVICE_IDS: readonly string[] = ['me'];

export function checkDeviceId(field: string, value: unknown): Problem {
  const problem = checkFleetId(field, value);
  if (problem) return problem;
  return RESERVED_DEVICE_IDS.includes(value as string)
    ? `${field} "${value as string}" is reserved (GET /api/v1/devices/me is the calling device)`
    : null;
}

/** Labels are a flat string -> string map, small enough to sit in every list response. */
export function checkLabels(field: string, value: unknown): Problem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `${field} must be a JSON object of string values`;
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_LABELS) return `${field} may hold at most ${MAX_LABELS} entries`;
  for (const [key, label] of entries) {
    if (!LABEL_KEY_RE.test(key)) {
      return `${field} key "${key}" must be 1-63 characters of letters, digits, ".", "_", "/" and "-"`;
    }
    if (typeof label !== 'string') return `${field}.${key} must be a string`;
    if (label.length > MAX_LABEL_VALUE) {
      return `${field}.${key} must be at most ${MAX_LABEL_VALUE} characters`;
    }
  }
  return null;
}

export function checkDeviceName(value: unknown): Problem {
  if (typeof value !== 'string' || value.trim() === '') return 'name must be a non-empty string';
  return value.length <= MAX_DEVICE_NAME
    ? null
    : `name must be at most ${MAX_DEVICE_NAME} characters`;
}

export function firstProblem(...problems: Problem[]): Problem {
  return problems.find((problem) => problem !== null) ?? null;
}
