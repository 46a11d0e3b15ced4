#!/usr/bin/env node
// Runs the compiled test files with node's own test runner, several files at a time.
// Unit specs sit beside the code (*.spec.ts), integration and end-to-end tests under test/ (*.test.ts);
// `npm run build` compiles both to dist/. Pass file filters as arguments to run a subset:
//   node scripts/run-tests.mjs registry artifacts
// The tests run in UTC; TEST_TZ=<zone> runs them in another time zone (CI's shifted-clock pass).
//
// Each file runs in its own `node --test` process, TEST_CONCURRENCY of them at once (default 3;
// most files spend their time waiting on timers, sockets and child processes, not on the CPU).
// Files share no state: each gets its own PostgreSQL database, Redis server, DATA_DIR and free
// ports (test/support). A file's output is printed as one block when it ends, then a summary.
// With one file, or TEST_CONCURRENCY=1, the output streams as it comes.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// The hub's build, and each workspace package's own build.
const dists = ['dist', 'broker/dist', 'edge-agent/dist']
  .map((dir) => join(root, dir))
  .filter((dir) => existsSync(dir));

/**
 * Files that must run alone, with nothing else in parallel, and why. They run first, one at a
 * time; the rest then run TEST_CONCURRENCY at a time. Paths relative to the repository.
 */
const ALONE = new Map([]);

/**
 * The slowest files, slowest first (seconds each took in a run 3 at a time on a loaded 2-core
 * machine), started first so that the run does not end waiting on one long file; every other
 * integration test comes next, the unit specs last. Only an order: a file missing here still runs.
 * The summary at the end of a full run lists the slowest files to keep this up to date.
 */
const SLOW_FIRST = [
  'dist/test/rules.e2e.test.js', // 178 s
  'dist/test/faults.process.test.js', // 170 s
  'dist/test/database.test.js', // 152 s
  'dist/test/rules-observe.e2e.test.js', // 149 s
  'dist/test/console.browser.test.js', // 118 s
  'dist/test/console.a11y.browser.test.js', // 105 s
  'dist/test/cli.fleet.test.js', // 101 s
  'dist/test/cli.deployments.test.js', // 87 s
  'dist/test/deployments.shadow.e2e.test.js', // 85 s
  'dist/test/install.tarball.test.js', // 79 s
  'dist/test/broker.restart.test.js', // 78 s
  'dist/test/logging.process.test.js', // 65 s
  'broker/dist/stack-safe-mq.spec.js', // 63 s
  'dist/test/deployments.rate.e2e.test.js', // 63 s
];

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
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const concurrency = Number(process.env.TEST_CONCURRENCY ?? 3);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  console.error(`TEST_CONCURRENCY must be a whole number of at least 1, not ${concurrency}`);
  process.exit(1);
}

const rank = (file) => {
  const slow = SLOW_FIRST.indexOf(file);
  if (slow >= 0) return slow;
  return file.endsWith('.test.js') ? SLOW_FIRST.length : SLOW_FIRST.length + 1;
};
const alone = files.filter((f) => ALONE.has(f));
const together = files.filter((f) => !ALONE.has(f)).sort((a, b) => rank(a) - rank(b));
const live = concurrency === 1 || files.length === 1;
const env = { ...process.env, TZ: process.env.TEST_TZ ?? 'UTC', NODE_ENV: 'test' };

/** Runs one file in `node --test`; resolves with its exit code, output and test counts. */
function runFile(file) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--test', '--test-reporter=spec', '--test-timeout=600000', join(root, file)],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const take = (stream) => (chunk) => {
      output += chunk.toString();
      if (live) stream.write(chunk);
    };
    child.stdout.on('data', take(process.stdout));
    child.stderr.on('data', take(process.stderr));
    child.on('close', (code, signal) => {
      const count = (name) => Number(new RegExp(`^ℹ ${name} (\\d+)$`, 'm').exec(output)?.[1] ?? 0);
      resolve({
        file,
        ok: code === 0,
        status: signal ?? code,
        output,
        seconds: (Date.now() - started) / 1000,
        tests: count('tests'),
        pass: count('pass'),
        fail: count('fail'),
        cancelled: count('cancelled'),
        skipped: count('skipped'),
        todo: count('todo'),
      });
    });
  });
}

const results = [];
function report(result) {
  results.push(result);
  const mark = result.ok ? 'ok' : 'FAILED';
  const header = `── ${result.file}: ${mark} in ${result.seconds.toFixed(1)} s (${result.pass}/${result.tests} passed)`;
  if (live) process.stdout.write(`${header}\n`);
  else process.stdout.write(`\n${header}\n${result.output.trimEnd()}\n`);
}

/** Runs `queue` with at most `limit` files at once. */
async function runAll(queue, limit) {
  const pending = [...queue];
  const worker = async () => {
    for (let file = pending.shift(); file !== undefined; file = pending.shift()) {
      report(await runFile(file));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, pending.length) }, worker));
}

const started = Date.now();
if (alone.length > 0) {
  process.stdout.write(`== ${alone.length} file(s) that must run alone, one at a time\n`);
  await runAll(alone, 1);
}
process.stdout.write(
  `== ${together.length} file(s), ${Math.min(concurrency, together.length)} at a time\n`,
);
await runAll(together, concurrency);

const sum = (key) => results.reduce((total, r) => total + r[key], 0);
const failed = results.filter((r) => !r.ok);
const slowest = [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 10);
process.stdout.write(
  [
    '',
    `== ${results.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
      `(TEST_CONCURRENCY=${concurrency}): ${sum('tests')} tests, ${sum('pass')} passed, ` +
      `${sum('fail')} failed, ${sum('cancelled')} cancelled, ${sum('skipped')} skipped, ${sum('todo')} todo`,
    `slowest: ${slowest.map((r) => `${r.file} ${r.seconds.toFixed(0)} s`).join(', ')}`,
    ...failed.map((r) => `FAILED: ${r.file} (exit ${r.status})`),
    '',
  ].join('\n'),
);
process.exit(failed.length === 0 ? 0 : 1);
