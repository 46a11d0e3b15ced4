// Validation, decoding and encoding of every message with the TypeBox definitions of messages.ts:
// one compiled check per message kind, short reasons for what is refused.
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { ValueError } from '@sinclair/typebox/errors';
import { MESSAGE_KINDS, MESSAGE_SCHEMAS, type MessageKind, type MessageOf } from './messages.js';
import { MAX_PAYLOAD_BYTES } from './protocol-values.js';

const CHECKS = Object.fromEntries(
  MESSAGE_KINDS.map((kind) => [kind, TypeCompiler.Compile(MESSAGE_SCHEMAS[kind])]),
) as { [K in MessageKind]: TypeCheck<(typeof MESSAGE_SCHEMAS)[K]> };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

function describeSchema(schema: TSchema): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf))
    return (schema.anyOf as TSchema[]).map(describeSchema).join(' | ');
  return typeof schema.type === 'string' ? schema.type : 'value';
}

/** One short reason; for a union, the reason of the variant that got furthest. */
function describeError(error: ValueError): string {
  const inner = error.errors
    .map((it) => it.First())
    .filter((e): e is ValueError => e !== undefined && e.path.length > error.path.length)
    .sort((a, b) => b.path.length - a.path.length);
  if (inner.length > 0) return describeError(inner[0]);
  const where = error.path === '' ? '(root)' : error.path;
  const variants = (error.schema as { anyOf?: TSchema[] }).anyOf;
  if (variants) return `${where}: expected ${variants.map(describeSchema).join(' | ')}`;
  return `${where}: ${error.message}`;
}

/** Validates an already-decoded value against a message schema. */
export function checkMessage<K extends MessageKind>(
  kind: K,
  value: unknown,
): ParseResult<MessageOf<K>> {
  const check = CHECKS[kind] as TypeCheck<TSchema>;
  if (check.Check(value)) return { ok: true, value: value as MessageOf<K> };
  const first = check.Errors(value).First();
  return { ok: false, error: first ? describeError(first) : 'invalid message' };
}

/**
 * Decodes and validates a payload. Never throws: an empty, oversize, non-UTF-8-JSON or
 * schema-violating payload gives `{ok: false, error}` with a short reason.
 */
export function parseMessage<K extends MessageKind>(
  kind: K,
  payload: Buffer | string,
): ParseResult<MessageOf<K>> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size === 0) return { ok: false, error: 'empty payload' };
  if (size > MAX_PAYLOAD_BYTES) {
    return { ok: false, error: `payload too large (${size} > ${MAX_PAYLOAD_BYTES} bytes)` };
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${(err as Error).message}` };
  }
  return checkMessage(kind, value);
}

/** Validates and serializes a message; throws a TypeError naming the first problem. */
export function encodeMessage<K extends MessageKind>(kind: K, value: MessageOf<K>): Buffer {
  const result = checkMessage(kind, value);
  if (!result.ok) throw new TypeError(`invalid ${kind} message: ${result.error}`);
  const payload = Buffer.from(JSON.stringify(value), 'utf8');
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new RangeError(`${kind} message too large (${payload.length} bytes)`);
  }
  return payload;
}
