import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { generateOpenApi } from '../scripts/generate-openapi.js';

const COMMITTED = new URL('../../docs/openapi.json', import.meta.url);

describe('OpenAPI document', () => {
  it('docs/openapi.json matches the code (run `npm run openapi` after changing the API)', async () => {
    const generated = await generateOpenApi();
    assert.equal(readFileSync(COMMITTED, 'utf8'), generated);
  });

  it('documents a response for every operation, errors included, and a schema for every JSON body', () => {
    const document = JSON.parse(readFileSync(COMMITTED, 'utf8')) as {
      paths: Record<
        string,
        Record<
          string,
          { summary?: string; responses: Record<string, { content?: object }>; security?: object[] }
        >
      >;
    };
    const problems: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method.toUpperCase()} ${path}`;
        if (!operation.summary) problems.push(`${where}: no summary`);
        const codes = Object.keys(operation.responses);
        if (!codes.some((code) => code.startsWith('2')))
          problems.push(`${where}: no success response`);
        if (path.startsWith('/api/')) {
          for (const code of ['401', '403'])
            if (!codes.includes(code)) problems.push(`${where}: ${code} undocumented`);
          if (!operation.security) problems.push(`${where}: no bearer security`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('pre-fills Swagger UI well: error examples of their own status, path parameters with examples', () => {
    type Parameter = { name: string; in: string; example?: unknown };
    type Response = { content?: Record<string, { example?: { statusCode?: number } }> };
    const document = JSON.parse(readFileSync(COMMITTED, 'utf8')) as {
      paths: Record<
        string,
        Record<string, { parameters?: Parameter[]; responses: Record<string, Response> }>
      >;
    };
    const problems: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/api/')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method.toUpperCase()} ${path}`;
        for (const parameter of operation.parameters ?? [])
          if (parameter.in === 'path' && parameter.example === undefined)
            problems.push(`${where}: path parameter ${parameter.name} has no example`);
        for (const [code, response] of Object.entries(operation.responses)) {
          if (!/^[45]/.test(code)) continue;
          const example = response.content?.['application/json']?.example;
          if (example?.statusCode !== Number(code))
            problems.push(`${where}: the ${code} example is ${JSON.stringify(example)}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});
