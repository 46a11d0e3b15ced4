import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { lockDataDir } from './data-dir-lock.js';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * PGlite (Postgres compiled to WASM) in DATA_DIR/db, served on a loopback port over the Postgres wire
 * protocol so that the same `pg` driver, TypeORM and migrations serve both embedded and production.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  maxConnections: number,
): Promise<EmbeddedPostgres> {
  const unlock = lockDataDir(dataDir);
  try {
    const dir = join(dataDir, 'db');
    mkdirSync(dir, { recursive: true });
    const db = await PGlite.create(dir);
    // PGlite executes one query at a time; the socket server queues the pool's connections onto it.
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
    await server.start();
    const [host, port] = server.getServerConn().split(':');
    return {
      url: `postgres://postgres@${host}:${port}/postgres`,
      async stop() {
        await server.stop();
        await db.close();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}
