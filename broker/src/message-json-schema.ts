// The published JSON Schema documents of the messages (docs/protocol/*.json, `npm run
// protocol:schemas`), made from the same TypeBox definitions as the validators (messages.ts).
import { MESSAGE_KINDS, MESSAGE_SCHEMAS, type MessageKind } from './messages.js';

const MESSAGE_META: Record<MessageKind, { title: string; description: string }> = {
  'desired-state': {
    title: 'DesiredState',
    description:
      'Desired model state, hub -> devices on sentinel/v1/groups/{group}/desired and ' +
      'sentinel/v1/devices/{device}/desired (QoS 1, retained).',
  },
  'device-state': {
    title: 'DeviceState',
    description:
      'Reported device state, device -> hub on sentinel/v1/devices/{device}/state (QoS 1, ' +
      'retained); also the Last Will payload {device_id, online: false, ts}.',
  },
  telemetry: {
    title: 'Telemetry',
    description:
      'One window of inference metrics, device -> hub on sentinel/v1/devices/{device}/telemetry (QoS 0).',
  },
  command: {
    title: 'Command',
    description: 'A command, hub -> device on sentinel/v1/devices/{device}/commands (QoS 1).',
  },
};

export const SCHEMA_BASE_URL = 'https://sentinel.dev/schemas/v1/';

/** A standalone draft-07 JSON Schema document for one message, as published in docs/protocol/. */
export function messageJsonSchema(kind: MessageKind): Record<string, unknown> {
  // The JSON round trip drops TypeBox's symbol-keyed metadata.
  const body = JSON.parse(JSON.stringify(MESSAGE_SCHEMAS[kind])) as Record<string, unknown>;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `${SCHEMA_BASE_URL}${kind}.json`,
    ...MESSAGE_META[kind],
    ...body,
  };
}

/** File name (in docs/protocol/) -> pretty JSON text, for every message. */
export function messageJsonSchemaFiles(): Record<string, string> {
  return Object.fromEntries(
    MESSAGE_KINDS.map((kind) => [
      `${kind}.json`,
      `${JSON.stringify(messageJsonSchema(kind), null, 2)}\n`,
    ]),
  );
}
