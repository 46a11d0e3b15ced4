#!/usr/bin/env node
// The `sentinel-agent` command: the compiled agent (src/bin/sentinel-agent.ts -> dist/). A file
// that exists before the build, so that `npm ci` links the command into node_modules/.bin.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/bin/sentinel-agent.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    `sentinel-agent: the agent is not built (no ${fileURLToPath(main)}); run \`npm run build\` in the repository\n`,
  );
  process.exit(1);
}
await import(main.href);
