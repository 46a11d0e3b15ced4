// The MQTT contract alone: topics, message schemas, latency histograms, canary cohorts, ACL
// decisions and certificate parsing. It needs no broker engine (Aedes, Redis, ws), so the edge
// agent imports `@sentinel/broker/protocol` and its packed tarball carries only this part
// (scripts/pack-tools.ts). The package root re-exports it with the broker factory.
export * from './topics.js';
export * from './messages.js';
export * from './message-codec.js';
export * from './message-json-schema.js';
export * from './latency-histogram.js';
export * from './cohort.js';
export * from './acl.js';
export * from './tls.js';
