import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openApiToTypeScript, typeOf } from './openapi-types.js';

describe('OpenAPI schemas as TypeScript', () => {
  it('maps scalars, enums, arrays, refs and nullable', () => {
    assert.equal(typeOf({ type: 'string', format: 'uuid' }), 'string');
    assert.equal(typeOf({ type: 'integer' }), 'number');
    assert.equal(typeOf({ type: 'string', enum: ['a', 'b'], nullable: true }), '"a" | "b" | null');
    assert.equal(typeOf({ type: 'array', items: { $ref: '#/components/schemas/Tag' } }), 'Tag[]');
    assert.equal(
      typeOf({ type: 'array', items: { oneOf: [{ type: 'integer' }, { type: 'string' }] } }),
      '(number | string)[]',
    );
    assert.equal(
      typeOf({ type: 'object', nullable: true, allOf: [{ $ref: '#/components/schemas/X' }] }),
      'X | null',
    );
    assert.equal(typeOf({ type: 'object', additionalProperties: true }), 'Record<string, unknown>');
    assert.equal(
      typeOf({ type: 'object', additionalProperties: { type: 'string' } }),
      'Record<string, string>',
    );
  });

  it('writes an interface per object schema with optional and documented properties', () => {
    const text = openApiToTypeScript(
      {
        components: {
          schemas: {
            Device: {
              type: 'object',
              properties: {
                id: { type: 'string', description: 'The id */ here' },
                group: { type: 'string', nullable: true },
                'x-odd': { type: 'boolean' },
              },
              required: ['id', 'group'],
            },
          },
        },
      },
      'doc.json',
    );
    assert.match(text, /export interface Device \{/);
    assert.match(text, /\/\*\* The id \* \/ here \*\/\n {2}id: string;/);
    assert.match(text, / {2}group: string \| null;/);
    assert.match(text, / {2}"x-odd"\?: boolean;/);
  });

  it('refuses what it cannot express rather than guessing', () => {
    assert.throws(() => typeOf({ $ref: 'other.json#/X' }), /unsupported \$ref/);
    assert.throws(() => typeOf({ type: 'file' }), /unsupported schema type/);
  });
});
