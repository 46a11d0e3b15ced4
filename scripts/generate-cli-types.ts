// Writes src/cli/hub-api.generated.ts from docs/openapi.json (npm run openapi runs it after the
// document). test/cli-types.test.ts fails when the committed file is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { format } from 'prettier';
import { openApiToTypeScript, type OpenApiDocument } from './openapi-types.js';

export const OPENAPI_PATH = 'docs/openapi.json';
export const CLI_TYPES_PATH = 'src/cli/hub-api.generated.ts';

/** The generated module for `openApiText`, formatted as the repository's prettier config says. */
export async function generateCliTypes(openApiText: string, root = '.'): Promise<string> {
  const document = JSON.parse(openApiText) as OpenApiDocument;
  const text = openApiToTypeScript(document, OPENAPI_PATH);
  const options = JSON.parse(readFileSync(`${root}/.prettierrc.json`, 'utf8')) as object;
  return format(text, { ...options, parser: 'typescript' });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(CLI_TYPES_PATH, await generateCliTypes(readFileSync(OPENAPI_PATH, 'utf8')));
  console.log(`wrote ${CLI_TYPES_PATH}`);
}
