/**
 * Writes the published JSON Schemas of the MQTT messages to docs/protocol/*.json.
 *
 *   node broker/dist/bin/write-json-schemas.js [out-dir]          write (default: <repo>/docs/protocol)
 *   node broker/dist/bin/write-json-schemas.js --check [out-dir]  exit 1 if the files are stale
 *
 * The comparison is on parsed JSON, so reformatting the files (prettier) does not make them stale.
 */
import { isDeepStrictEqual } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { messageJsonSchemaFiles } from '../message-json-schema.js';

const args = process.argv.slice(2);
const check = args.includes('--check');
const outDir =
  args.find((a) => !a.startsWith('--')) ??
  fileURLToPath(new URL('../../../docs/protocol/', import.meta.url));

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

const files = messageJsonSchemaFiles();
if (check) {
  const stale = Object.entries(files)
    .filter(([name, text]) => !isDeepStrictEqual(readJson(join(outDir, name)), JSON.parse(text)))
    .map(([name]) => name);
  if (stale.length > 0) {
    console.error(
      `stale or missing in ${outDir}: ${stale.join(', ')} (run npm run protocol:schemas)`,
    );
    process.exit(1);
  }
  console.log(`${Object.keys(files).length} schemas in ${outDir} are up to date`);
} else {
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(outDir, name), text);
  console.log(`wrote ${Object.keys(files).join(', ')} to ${outDir}`);
}
