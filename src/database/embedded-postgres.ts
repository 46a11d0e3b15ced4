import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { lockDataDir } from './data-dir-lock.js';
import type { PgliteWorkerData, PgliteWorkerMessage } from './pglite-worker.js';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * PGlite (Postgres compiled to WASM) in DATA_DIR/db, served on a loopback port over the Postgres wire
 * protocol so that the same `pg` driver, TypeORM and migrations serve both embedded and production.
 * It runs in a worker thread of its own (pglite-worker.ts): its query execution never holds the
 * hub's event loop. A new database is created (initdb) in a thread of its own first: initdb's
 * memory (~450 MiB, measured) is only returned when its thread ends.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  maxConnections: number,
): Promise<EmbeddedPostgres> {
  const unlock = lockDataDir(dataDir);
  const dir = join(dataDir, 'db');
  let worker: Worker | undefined;
  const start = (initOnly: boolean) => {
    const data: PgliteWorkerData = { dir, maxConnections, initOnly };
    worker = new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData: data });
    return nextMessage(worker);
  };
  try {
    mkdirSync(dir, { recursive: true });
    if (!existsSync(join(dir, 'PG_VERSION'))) {
      const created = await start(true);
      await worker?.terminate();
      if (created.type !== 'initialised') {
        throw new Error(
          `could not create the embedded database in ${dir}: ${created.type === 'error' ? created.message : created.type}`,
        );
      }
    }
    const ready = await start(false);
    if (ready.type !== 'ready') {
      throw new Error(
        `the embedded database in ${dir} did not start: ${ready.type === 'error' ? ready.message : ready.type}`,
      );
    }
    const running = worker!;
    let stopped: Promise<void> | undefined;
    return {
      url: `postgres://postgres@${ready.host}:${ready.port}/postgres`,
      stop() {
        stopped ??= (async () => {
          try {
            const done = nextMessage(running);
            running.postMessage('stop');
            await done;
          } finally {
            await running.terminate();
            unlock();
          }
        })();
        return stopped;
      },
    };
  } catch (error) {
    await worker?.terminate();
    unlock();
    throw error;
  }
}

/** The worker's next message; its error or exit before one rejects. */
function nextMessage(worker: Worker): Promise<PgliteWorkerMessage> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: PgliteWorkerMessage) => {
      cleanup();
      resolve(message);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`the embedded database's thread exited with code ${code}`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
