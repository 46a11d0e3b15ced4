// The MQTT contract shared by the hub and the edge agent, and the broker factory.
export * from './topics.js';
export * from './messages.js';
export * from './latency-histogram.js';
export * from './cohort.js';
export * from './acl.js';
export * from './create-broker.js';
export * from './packet-size-guard.js';
export * from './redis-backend.js';
export * from './connect-policy.js';
export * from './token-bucket.js';
export * from './bounded-log.js';
export * from './listeners.js';
export * from './tls.js';
