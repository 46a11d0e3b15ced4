import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL server for integration tests, from TEST_POSTGRES_URL (CI sets it; e.g.
 * postgres://postgres@127.0.0.1:5432/postgres). Unset: the PostgreSQL variants are skipped and say so.
 */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL;
export const skipWithoutPostgres = TEST_POSTGRES_URL
  ? false
  : 'TEST_POSTGRES_URL is not set (no PostgreSQL server)';

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database per test file, so files can run in any order or in parallel. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!TEST_POSTGRES_URL) throw new Error('TEST_POSTGRES_URL is not set');
  const name = `sentinel_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
