import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { generateCliTypes } from '../scripts/generate-cli-types.js';

const root = new URL('../..', import.meta.url).pathname;

describe("the CLI's API types", () => {
  it('src/cli/hub-api.generated.ts matches docs/openapi.json (run `npm run openapi`)', async () => {
    const generated = await generateCliTypes(
      readFileSync(`${root}/docs/openapi.json`, 'utf8'),
      root,
    );
    assert.equal(readFileSync(`${root}/src/cli/hub-api.generated.ts`, 'utf8'), generated);
  });
});
