// Model signature verification shared by the hub (on push) and the edge agent (on download).
// A subpath of its own, `@sentinel/broker/signing`, so MQTT-only users do not load Sigstore.
export * from './model-signature.js';
export * from './trusted-keys.js';
