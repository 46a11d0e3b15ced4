// Issue 12, item 3: what the embedded database (PGlite) costs the hub in memory, and what the hub's
// way of running it saves. Each case runs in a fresh child process, on a fresh or an existing data
// folder, and prints the process's RSS after the database opened and after a workload (50,000
// jsonb rows written, then updated 20 times over a seventh of them, then read):
//   reference   PGlite.create(dir) on the caller's thread with PGlite's defaults (the hub before)
//   hub         startEmbeddedPostgres (src/database/embedded-postgres.ts): initdb in a thread of
//               its own that ends, then the server in a worker thread, shared_buffers 32MB; the
//               workload goes over the wire with `pg`, as the hub's does
// Prints figures; asserts nothing.   npm run bench:pglite
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';

type Mode = 'reference' | 'hub';
interface Figures {
  open: number;
  work: number;
}

const WORKLOAD = [
  'CREATE TABLE IF NOT EXISTS bench_t (id int PRIMARY KEY, v jsonb)',
  `INSERT INTO bench_t SELECT g, jsonb_build_object('a', g, 'b', repeat('x', 200))
     FROM generate_series(1, 50000) g ON CONFLICT (id) DO NOTHING`,
  ...Array.from(
    { length: 20 },
    (_, i) => `UPDATE bench_t SET v = v || '{"c":1}' WHERE id % 7 = ${i % 7}`,
  ),
  "SELECT count(*), sum((v->>'a')::int) FROM bench_t",
];

const rssMiB = () => Math.round(process.memoryUsage().rss / 1048576);

async function child(mode: Mode, dataDir: string): Promise<Figures> {
  if (mode === 'reference') {
    const db = await PGlite.create(join(dataDir, 'db'));
    const open = rssMiB();
    for (const sql of WORKLOAD) await db.query(sql);
    const work = rssMiB();
    await db.close();
    return { open, work };
  }
  const embedded = await startEmbeddedPostgres(dataDir, 2);
  const open = rssMiB();
  const client = new pg.Client({ connectionString: embedded.url });
  await client.connect();
  for (const sql of WORKLOAD) await client.query(sql);
  const work = rssMiB();
  await client.end();
  await embedded.stop();
  return { open, work };
}

function run(mode: Mode, dataDir: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), ['--child', mode, dataDir], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    proc.once('message', (m) => resolve(m as Figures));
    proc.once('exit', (code) => code !== 0 && reject(new Error(`${mode} exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const figures = await child(process.argv[3] as Mode, process.argv[4]);
    process.send!(figures, () => process.exit(0));
    return;
  }
  console.log(`node ${process.version}; RSS of the whole process, MiB`);
  const rows: string[] = [];
  for (const mode of ['reference', 'hub'] as const) {
    const dir = mkdtempSync(join(tmpdir(), `pglite-bench-${mode}-`));
    try {
      const fresh = await run(mode, dir);
      const reopened = await run(mode, dir);
      rows.push(
        `${mode.padEnd(10)} new folder: open ${fresh.open}, after workload ${fresh.work}; ` +
          `existing folder: open ${reopened.open}, after workload ${reopened.work}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const row of rows) console.log(row);
}

await main();
