// The MQTT contract shared by the hub and the edge agent (./protocol), and the broker factory.
export * from './protocol.js';
export * from './create-broker.js';
export * from './packet-size-guard.js';
export * from './redis-backend.js';
export * from './connect-policy.js';
export * from './token-bucket.js';
export * from './bounded-log.js';
export * from './listeners.js';
