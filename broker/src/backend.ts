import mqemitter, { type MQEmitter } from 'mqemitter';
import type { AedesOptions } from 'aedes';
import type { BrokerLogger, BrokerOptions } from './broker-types.js';
import { createIndexedPersistence } from './indexed-persistence.js';
import { connectRedisBackend } from './redis-backend.js';
import { stackSafe } from './stack-safe-mq.js';

/** Aedes' default `concurrency`: deliveries in flight before its emitter queues. */
const AEDES_CONCURRENCY = 100;

/** Where a broker passes messages and keeps sessions and retained messages. */
export interface Backend {
  mq: MQEmitter;
  persistence: NonNullable<AedesOptions['persistence']>;
  /** After the broker closed: closes what the back end opened (Redis connections). */
  close(): Promise<void>;
  /** When the broker could not start: drops every connection. */
  abort(): void;
}

/**
 * Alone: Aedes' default emitter (concurrency 100, empty levels match [MQTT-4.7.1-3]) made
 * stack-safe, and its in-memory persistence with retained messages indexed by topic (its own scans
 * every retained message per SUBSCRIBE, quadratic in a reconnect storm). Clustered (`redisUrl`):
 * mqemitter-redis and aedes-persistence-redis, connected before the broker starts.
 */
export async function createBackend(
  options: Pick<BrokerOptions, 'redisUrl' | 'redisConnectTimeoutMs'>,
  logger: BrokerLogger,
): Promise<Backend> {
  const redis =
    options.redisUrl === undefined
      ? null
      : await connectRedisBackend(
          options.redisUrl,
          logger.warn.bind(logger),
          options.redisConnectTimeoutMs ?? 10_000,
        );
  return {
    mq: stackSafe(
      (redis?.mq as MQEmitter | undefined) ??
        mqemitter({ concurrency: AEDES_CONCURRENCY, matchEmptyLevels: true }),
    ),
    persistence: (redis ? redis.persistence : createIndexedPersistence()) as NonNullable<
      AedesOptions['persistence']
    >,
    close: async () => {
      await redis?.close();
    },
    abort: () => redis?.abort(),
  };
}
