import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../src/config/app-config.js';
import { lockDataDir } from '../src/database/data-dir-lock.js';
import { DatabaseLifecycle } from '../src/database/database.providers.js';
import { schemaDrift } from '../src/database/schema-drift.js';
import { api, spawnHub, startHub } from './support/hub.js';
import { createTestDatabase, skipWithoutPostgres } from './support/postgres.js';

const ENGINES = [
  { name: 'PGlite', skip: false as const, url: async () => ({ env: {}, drop: async () => {} }) },
  {
    name: 'PostgreSQL',
    skip: skipWithoutPostgres,
    url: async () => {
      const db = await createTestDatabase();
      return { env: { DATABASE_URL: db.url }, drop: () => db.drop() };
    },
  },
];

for (const engine of ENGINES) {
  describe(`migrations on ${engine.name}`, { skip: engine.skip }, () => {
    it('leave nothing for a generated migration to do, and revert cleanly', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-db-'));
      const target = await engine.url();
      const lifecycle = new DatabaseLifecycle(loadConfig({ DATA_DIR: dataDir, ...target.env }));
      try {
        const dataSource = await lifecycle.connect();
        assert.deepEqual(await schemaDrift(dataSource), { up: [], down: [] });
        // down then up again: both directions of every migration run
        for (let i = 0; i < dataSource.migrations.length; i++) await dataSource.undoLastMigration();
        const tables: { n: string }[] = await dataSource.query(
          "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'",
        );
        assert.equal(Number(tables[0].n), 0);
        await dataSource.runMigrations();
        assert.deepEqual((await schemaDrift(dataSource)).up, []);
      } finally {
        await lifecycle.onApplicationShutdown();
        await target.drop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}

describe('DATA_DIR lock', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-lock-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps a second hub off a DATA_DIR in use, with a one-line reason', async () => {
    const first = await spawnHub({ DATA_DIR: dataDir });
    try {
      await assert.rejects(
        spawnHub({ DATA_DIR: dataDir }),
        /DATA_DIR .* is in use by another hub \(pid \d+\)/,
      );
    } finally {
      await first.stop();
    }
  });

  it('takes over the lock of a hub that was killed, and keeps its data', async () => {
    const first = await spawnHub({ DATA_DIR: dataDir });
    const created = await fetch(`${first.url}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'survivor', role: 'viewer' }),
    });
    assert.equal(created.status, 201);
    await first.kill();
    const second = await spawnHub({ DATA_DIR: dataDir, ADMIN_TOKEN: first.adminToken });
    try {
      const tokens = (await (
        await fetch(`${second.url}/api/v1/tokens`, {
          headers: { authorization: `Bearer ${first.adminToken}` },
        })
      ).json()) as { name: string }[];
      assert.ok(tokens.some((token) => token.name === 'survivor'));
    } finally {
      await second.stop();
    }
  });

  it('is released when its holder lets go', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-lock-'));
    const release = lockDataDir(dir);
    assert.throws(() => lockDataDir(dir), /in use/);
    release();
    lockDataDir(dir)();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('embedded database under concurrent requests', () => {
  it('keeps concurrent transactions apart (pglite-socket shares one session between connections)', async () => {
    const hub = await startHub();
    try {
      const created = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          api(hub)('/api/v1/groups', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name: `parallel-${i}`, environment: 'production' }),
          }).then((response) => response.status),
        ),
      );
      assert.deepEqual(created, Array(12).fill(201));
      const devices = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          api(hub)('/api/v1/devices', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ id: `parallel-dev-${i}`, group: `parallel-${i % 3}` }),
          }).then((response) => response.status),
        ),
      );
      assert.deepEqual(devices, Array(12).fill(201));
    } finally {
      await hub.stop();
    }
  });
});
