import { once, type EventEmitter } from 'node:events';
import createRedisPersistence from 'aedes-persistence-redis';
import MQEmitterRedis from 'mqemitter-redis';

/** The part of an ioredis connection used here. */
interface RedisConnection extends EventEmitter {
  readonly status: string;
  duplicate(): RedisConnection;
  disconnect(): void;
}

interface RedisMq {
  state: EventEmitter;
  pubConn: RedisConnection;
  subConn: RedisConnection;
}

export interface RedisBackend {
  /** For `AedesOptions.mq` (aedes closes it in `broker.close`). */
  mq: unknown;
  /** For `AedesOptions.persistence`. */
  persistence: unknown;
  /** After `broker.close()`: closes the persistence and waits for its connection to end. */
  close(): Promise<void>;
  /** When the broker could not start: drops every connection. */
  abort(): void;
}

export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/**
 * Logs a connection's errors once per distinct message until it is ready again: ioredis retries
 * every second or two and would otherwise repeat the same line forever.
 */
function watchConnection(conn: EventEmitter, name: string, warn: (msg: string) => void) {
  let last: string | null = null;
  conn.on('error', (err: Error) => {
    if (err.message === last) return;
    last = err.message;
    warn(`mqtt: Redis (${name}) error: ${err.message}; retrying`);
  });
  conn.on('ready', () => {
    if (last !== null) warn(`mqtt: Redis (${name}) connection restored`);
    last = null;
  });
}

function ready(conn: RedisConnection): Promise<void> {
  // Not events.once: it rejects on the first 'error', and a connection that is retrying is fine.
  return new Promise((resolve) =>
    conn.status === 'ready' ? resolve() : conn.once('ready', () => resolve()),
  );
}

/**
 * Connects the cluster back end (mqemitter-redis + aedes-persistence-redis) and waits until every
 * connection is ready, so a wrong or unreachable Redis fails start-up with a clear error instead of
 * a broker that waits forever. Later outages are logged and retried, never thrown.
 */
export async function connectRedisBackend(
  redisUrl: string,
  warn: (msg: string) => void,
  timeoutMs: number,
): Promise<RedisBackend> {
  if (!/^rediss?:\/\//.test(redisUrl)) {
    throw new TypeError('redisUrl must start with redis:// or rediss://');
  }
  const mq = MQEmitterRedis({ connectionString: redisUrl }) as unknown as RedisMq;
  // mqemitter-redis re-emits its connections' errors here; with no listener they crash the process.
  mq.state.on('error', () => {});
  // The persistence gets its own connection, made here so close() can wait for its end:
  // persistence.destroy() only starts the disconnect.
  const conn = mq.pubConn.duplicate();
  watchConnection(mq.pubConn, 'publish', warn);
  watchConnection(mq.subConn, 'subscribe', warn);
  watchConnection(conn, 'persistence', warn);
  const persistence = createRedisPersistence({ conn });

  const abort = () => {
    for (const c of [mq.pubConn, mq.subConn, conn]) c.disconnect();
  };

  let timer: NodeJS.Timeout | undefined;
  let lastError = 'no answer';
  const noteError = (err: Error) => (lastError = err.message);
  conn.on('error', noteError);
  try {
    await Promise.race([
      Promise.all([ready(mq.pubConn), ready(mq.subConn), ready(conn)]),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `Redis at ${redactRedisUrl(redisUrl)} not reachable within ${timeoutMs} ms: ${lastError}`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    abort();
    throw err;
  } finally {
    clearTimeout(timer);
    conn.removeListener('error', noteError);
  }

  return {
    mq,
    persistence,
    abort,
    async close() {
      await persistence
        .destroy()
        .catch((err: Error) => warn(`mqtt: closing Redis persistence: ${err.message}`));
      if (conn.status !== 'end') await once(conn, 'end').catch(() => undefined);
    },
  };
}
