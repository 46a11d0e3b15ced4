import { randomBytes } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import {
  readClusterMessage,
  type ClusterEventMap,
  type ClusterEventName,
} from './cluster-events.js';

export type { ClusterEventMap, ClusterEventName } from './cluster-events.js';

/** One Redis pub/sub channel for every hub of the cluster (shared by all Redis databases). */
export const CLUSTER_CHANNEL = 'sentinel:cluster:v1';
const CONNECT_TIMEOUT_MS = 10_000;

type Listener<E extends ClusterEventName> = (payload: ClusterEventMap[E]) => void;

/**
 * Events every hub of a cluster must act on at once (revoked device credentials and API tokens:
 * each hub drops its cached credentials and ends the sessions connected to it). publish() calls
 * this hub's listeners at once and, with REDIS_URL, sends the event over Redis pub/sub to the
 * other hubs, whose listeners run when it arrives. Without REDIS_URL it is in-process only.
 * Redis pub/sub delivers at most once: a hub cut off from Redis at that moment misses the event,
 * and its credential cache entries still expire (DeviceCredentials' cacheTtlMs).
 */
@Injectable()
export class ClusterBus implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Cluster');
  private readonly listeners = new Map<ClusterEventName, Set<(payload: never) => void>>();
  /** Tells this hub's own messages apart when Redis echoes them back. */
  private readonly origin = randomBytes(8).toString('hex');
  private pub: Redis | null = null;
  private sub: Redis | null = null;
  private lastError: string | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get clustered(): boolean {
    return this.sub !== null;
  }

  async onModuleInit(): Promise<void> {
    const url = this.config.REDIS_URL;
    if (!url) return;
    const options = { maxRetriesPerRequest: null, lazyConnect: true } as const;
    this.pub = new Redis(url, options);
    this.sub = new Redis(url, options);
    for (const conn of [this.pub, this.sub]) {
      conn.on('error', (error: Error) => this.connectionError(error));
      conn.on('ready', () => {
        if (this.lastError !== null) this.logger.warn('Redis connection restored');
        this.lastError = null;
      });
    }
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === CLUSTER_CHANNEL) this.receive(message);
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all([this.pub.connect(), this.sub.connect()]).then(() =>
          this.sub!.subscribe(CLUSTER_CHANNEL),
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `cluster events: Redis not reachable within ${CONNECT_TIMEOUT_MS} ms: ${this.lastError ?? 'no answer'}`,
                ),
              ),
            CONNECT_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (error) {
      this.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  onApplicationShutdown(): void {
    this.close();
  }

  /** Returns a function that removes the listener. */
  on<E extends ClusterEventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Runs this hub's listeners now, and sends the event to the other hubs (with REDIS_URL). */
  publish<E extends ClusterEventName>(event: E, payload: ClusterEventMap[E]): void {
    this.deliver(event, payload);
    if (!this.pub) return;
    const message = JSON.stringify({ origin: this.origin, event, payload });
    this.pub.publish(CLUSTER_CHANNEL, message).catch((error: Error) => {
      this.logger.error(`could not send ${event} to the other hubs: ${error.message}`);
    });
  }

  private receive(message: string): void {
    const read = readClusterMessage(message);
    if (!read) {
      this.logger.warn(`ignored a malformed cluster message: ${message.slice(0, 200)}`);
      return;
    }
    if (read.origin === this.origin) return;
    this.deliver(read.event, read.payload as never);
  }

  private deliver<E extends ClusterEventName>(event: E, payload: ClusterEventMap[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        this.logger.error(`a ${event} listener failed: ${(error as Error).message}`);
      }
    }
  }

  /** ioredis retries every second or two: one line per distinct error until it is ready again. */
  private connectionError(error: Error): void {
    if (error.message === this.lastError) return;
    this.lastError = error.message;
    this.logger.warn(`Redis error: ${error.message}; retrying`);
  }

  private close(): void {
    this.pub?.disconnect();
    this.sub?.disconnect();
    this.pub = this.sub = null;
  }
}
