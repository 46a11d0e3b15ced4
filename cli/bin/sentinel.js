#!/usr/bin/env node
// The `sentinel` command. The CLI's code is compiled with the hub (src/cli -> dist/src/cli); this
// workspace package exists so that `npm ci` links the command into node_modules/.bin (npm links a
// workspace's bins, not the root package's) and so that it can be packed on its own
// (scripts/pack-tools.ts copies the compiled CLI to dist/ beside this file).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const candidates = [
  new URL('../dist/src/cli/main.js', import.meta.url), // installed from the packed tarball
  new URL('../../dist/src/cli/main.js', import.meta.url), // in the repository, after `npm run build`
];
const main = candidates.find((url) => existsSync(fileURLToPath(url)));
if (!main) {
  process.stderr.write(
    `sentinel: the CLI is not built (no ${fileURLToPath(candidates[1])}); run \`npm run build\` in the repository\n`,
  );
  process.exit(1);
}
await import(main.href);
