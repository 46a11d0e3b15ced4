/**
 * Which of the device's models a message is about, as pure functions: whether a named model may
 * join (at most MAX_MODEL_NAMES besides `default`), which model a command acts on, and how many
 * telemetry windows per second the device sends with its models.
 */
import {
  DEFAULT_MODEL_NAME,
  MAX_MODEL_NAMES,
  isValidModelName,
  type Command,
} from '@sentinel/broker/protocol';

/** `known`: `default` or a model the device serves; `new`: room for one more; else over the limit. */
export type Admission = 'known' | 'new' | 'over_limit';

export function admitName(
  named: ReadonlySet<string>,
  name: string,
  max: number = MAX_MODEL_NAMES,
): Admission {
  if (name === DEFAULT_MODEL_NAME || named.has(name)) return 'known';
  return named.size < max ? 'new' : 'over_limit';
}

/**
 * What the agent does with a command: a `rollback` acts on one model (`serve_as`, absent:
 * `default`), or on none when the device serves no model of that name; `reload` and `ping` are
 * about the whole device.
 */
export type CommandRoute =
  | { kind: 'rollback'; name: string }
  | { kind: 'unknown_model'; name: string }
  | { kind: 'reload' }
  | { kind: 'ping' };

export function routeCommand(command: Command, serves: (name: string) => boolean): CommandRoute {
  switch (command.command) {
    case 'rollback': {
      const name = command.serve_as ?? DEFAULT_MODEL_NAME;
      return serves(name) ? { kind: 'rollback', name } : { kind: 'unknown_model', name };
    }
    case 'reload':
      return { kind: 'reload' };
    case 'ping':
      return { kind: 'ping' };
  }
}

/** A model name the local API or the state folder may use for a named model (not `default`). */
export function isNamedModel(name: string): boolean {
  return name !== DEFAULT_MODEL_NAME && isValidModelName(name);
}

/** The broker's default telemetry limit (docs/protocol.md section 8): MQTT_TELEMETRY_RATE. */
export const DEFAULT_TELEMETRY_RATE_PER_S = 5;

/**
 * Telemetry messages per second the device sends: one window per model per interval. Above the
 * broker's sustained rate the burst allowance drains and the broker drops windows.
 */
export function telemetryPerSecond(models: number, intervalS: number): number {
  return models / intervalS;
}
