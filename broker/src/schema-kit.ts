// The building blocks of the message schemas (messages.ts): formats TypeBox must know, and the
// small schema helpers every message uses.
import { FormatRegistry, Type, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';
import { ID_PATTERN } from './topics.js';

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

// TypeBox's compiler fails every value of a format it does not know, and its registry is global:
// register ours only if nobody else has.
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => RFC3339_RE.test(v) && !Number.isNaN(Date.parse(v)));
}
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => UUID_RE.test(v));

type TLiterals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

export function oneOf<const T extends readonly string[]>(values: T, description?: string) {
  const literals = values.map((v) => Type.Literal(v)) as unknown as TLiterals<T>;
  return Type.Union(literals, description ? { description } : {}) as TUnion<TLiterals<T>>;
}

export function nullable<T extends TSchema>(schema: T, description?: string) {
  return Type.Union([schema, Type.Null()], description ? { description } : {});
}

export function nullableOneOf<const T extends readonly string[]>(values: T) {
  const literals = values.map((v) => Type.Literal(v)) as unknown as TLiterals<T>;
  return Type.Union([...literals, Type.Null()]);
}

export const DateTime = (description: string) => Type.String({ format: 'date-time', description });
export const DeviceId = Type.String({
  pattern: ID_PATTERN,
  description: 'Device id (= MQTT client id)',
});
export const ModelName = (description: string) => Type.String({ pattern: ID_PATTERN, description });
export const Sha256 = Type.String({
  pattern: '^[0-9a-f]{64}$',
  description: 'Lowercase hex SHA-256',
});
export const ShortText = (maxLength: number, description?: string) =>
  Type.String({ minLength: 1, maxLength, ...(description ? { description } : {}) });
export const AnyObject = (description: string) =>
  Type.Record(Type.String(), Type.Unknown(), { description });
