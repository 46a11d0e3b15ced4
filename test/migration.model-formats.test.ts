import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../migrations/index.js';
import { ModelFormats1796620156429 } from '../migrations/1796620156429-model-formats.js';
import { versionSortKey } from '../src/registry/domain/versions.js';
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './support/postgres.js';

function dataSource(url: string, migrations: (typeof MIGRATIONS)[number][]): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    migrations,
    migrationsTableName: 'migrations',
    uuidExtension: 'pgcrypto',
  });
}

describe(
  'the model-formats migration on a registry with versions',
  { skip: skipWithoutPostgres },
  () => {
    let db: TestDatabase;
    before(async () => {
      db = await createTestDatabase();
    });
    after(async () => {
      await db?.drop();
    });

    it('records the existing versions as ONNX and fills their sort keys', async () => {
      const at = MIGRATIONS.indexOf(ModelFormats1796620156429);
      const before = dataSource(db.url, MIGRATIONS.slice(0, at));
      await before.initialize();
      await before.runMigrations();
      for (const version of ['1.0.0', '1.10.0', '1.2.0-rc.1']) {
        await before.query(
          `INSERT INTO model_versions (name, version, model_type, framework, stage, sha256, size, onnx, created_by)
           VALUES ('m', $1, 'det', 'onnx', 'staging', $2, 1, '{}', 'test')`,
          [version, 'a'.repeat(64)],
        );
      }
      await before.destroy();

      const after = dataSource(db.url, MIGRATIONS);
      await after.initialize();
      try {
        await after.runMigrations();
        const rows: { version: string; format: string; version_key: string }[] = await after.query(
          'SELECT version, format, version_key FROM model_versions ORDER BY version_key DESC',
        );
        assert.deepEqual(
          rows.map((r) => r.version),
          ['1.10.0', '1.2.0-rc.1', '1.0.0'],
        );
        for (const row of rows) {
          assert.equal(row.format, 'onnx');
          assert.equal(row.version_key, versionSortKey(row.version));
        }
      } finally {
        await after.destroy();
      }
    });
  },
);
