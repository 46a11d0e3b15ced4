import type { MQEmitter } from 'mqemitter';

/** Deliveries nested on one call stack before the next one waits for setImmediate. */
export const MAX_NESTED_DELIVERIES = 200;

/** mqemitter's internals this guard touches (mqemitter 7.1, also under mqemitter-redis). */
interface Internals {
  current: number;
  _do(message: unknown, callback: unknown): unknown;
}

/**
 * mqemitter delivers the next queued message from inside the callback that released the previous
 * one, so when subscribers finish synchronously a queue of N messages becomes a call stack N
 * deliveries deep. A burst (the telemetry and states of 10,000 devices) overflowed the stack and
 * crashed the hub ("Maximum call stack size exceeded" in qlobber; mcollina/mqemitter#204, open).
 * Past `maxNested` nested deliveries the next one waits for setImmediate. Its concurrency slot
 * stays taken meanwhile, so messages emitted in between queue behind it: the order is kept.
 */
export function stackSafe<T extends MQEmitter>(mq: T, maxNested = MAX_NESTED_DELIVERIES): T {
  const emitter = mq as unknown as Internals;
  const deliver = emitter._do.bind(emitter);
  let depth = 0;
  const run = (message: unknown, callback: unknown) => {
    depth++;
    try {
      return deliver(message, callback);
    } finally {
      depth--;
    }
  };
  emitter._do = (message, callback) => {
    if (depth < maxNested) return run(message, callback);
    emitter.current++;
    setImmediate(() => {
      emitter.current--;
      run(message, callback);
    });
    return emitter;
  };
  return mq;
}
