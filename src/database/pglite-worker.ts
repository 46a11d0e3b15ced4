/**
 * The embedded database's thread: PGlite (Postgres compiled to WASM) and the socket server that
 * speaks the Postgres wire protocol for it. Each query's execution, WASM and all, runs here rather
 * than on the hub's event loop, which keeps serving MQTT and HTTP meanwhile; the hub reaches it over
 * loopback TCP with the ordinary `pg` driver, as it would a PostgreSQL server.
 *
 * Messages: in `workerData` {dir, maxConnections, initOnly}; out {type: 'ready', host, port} (or,
 * with initOnly, {type: 'initialised'}) or {type: 'error', message}; in 'stop', out {type: 'stopped'}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface PgliteWorkerData {
  dir: string;
  maxConnections: number;
  /** Create the database files (initdb) and exit: see embedded-postgres.ts. */
  initOnly: boolean;
}

/**
 * Postgres settings of the embedded server. PGlite's default 128 MB of shared buffers is resident
 * once touched; the hub's working set is a fraction of that, and the data files stay in the
 * operating system's page cache behind them.
 */
export const PGLITE_SETTINGS = ['shared_buffers=32MB'];

export type PgliteWorkerMessage =
  | { type: 'ready'; host: string; port: number }
  | { type: 'initialised' }
  | { type: 'error'; message: string }
  | { type: 'stopped' };

async function main(port: NonNullable<typeof parentPort>, data: PgliteWorkerData): Promise<void> {
  const post = (message: PgliteWorkerMessage) => port.postMessage(message);
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    db = await PGlite.create(data.dir, { postgresqlconf: PGLITE_SETTINGS });
    if (data.initOnly) {
      await db.close();
      post({ type: 'initialised' });
      return;
    }
    // PGlite executes one query at a time; the socket server queues the pool's connections onto it.
    server = new PGLiteSocketServer({
      db,
      host: '127.0.0.1',
      port: 0,
      maxConnections: data.maxConnections,
    });
    await server.start();
    const [host, listening] = server.getServerConn().split(':');
    post({ type: 'ready', host, port: Number(listening) });
  } catch (error) {
    await db?.close().catch(() => undefined);
    post({ type: 'error', message: (error as Error).message });
    return;
  }
  port.on('message', (message) => {
    if (message !== 'stop') return;
    void (async () => {
      await server?.stop();
      await db?.close();
      post({ type: 'stopped' });
      port.close();
    })();
  });
}

if (parentPort) void main(parentPort, workerData as PgliteWorkerData);
