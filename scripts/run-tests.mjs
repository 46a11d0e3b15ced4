#!/usr/bin/env node
// Runs the compiled test files with node's own test runner.
// Unit specs sit beside the code (*.spec.ts), integration and end-to-end tests under test/ (*.test.ts);
// `npm run build` compiles both to dist/. Pass file filters as arguments to run a subset:
//   node scripts/run-tests.mjs registry artifacts
// The tests run in UTC; TEST_TZ=<zone> runs them in another time zone (CI's shifted-clock pass).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// The hub's build, and each workspace package's own build.
const dists = ['dist', 'broker/dist', 'edge-agent/dist']
  .map((dir) => join(root, dir))
  .filter((dir) => existsSync(dir));

function collect(dir, out = []) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry === 'node_modules') continue;
    if (statSync(path).isDirectory()) collect(path, out);
    else if (/\.(spec|test)\.js$/.test(entry)) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = dists
  .flatMap((dir) => collect(dir))
  .filter((f) => filters.length === 0 || filters.some((p) => relative(root, f).includes(p)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=1', '--test-timeout=600000', ...files],
  { stdio: 'inherit', env: { ...process.env, TZ: process.env.TEST_TZ ?? 'UTC', NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
