// The Sentinel edge agent, as a library: the `sentinel-agent` bin, tests and the fleet simulator use it.
export * from './agent.js';
export * from './config.js';
export * from './errors.js';
export * from './hub-client.js';
export * from './tls.js';
export * from './log.js';
export * from './download/downloader.js';
export * from './inference/session-pool.js';
export * from './inference/slots.js';
export * from './inference/tensors.js';
export * from './inference/health-check.js';
export * from './state/plan.js';
export * from './state/state-file.js';
export * from './telemetry/window.js';
export * from './fleet/fleet-simulator.js';
export * from './state/deferral.js';
export * from './api/update-lock.js';
