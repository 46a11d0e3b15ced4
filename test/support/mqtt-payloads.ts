// Payload generators (fast-check) for what a device may publish: random bytes, random and broken
// JSON, messages of the protocol with one thing wrong, deep nesting, large fields. The oracle
// (`expectedValid`) is the published contract: the message's JSON Schema and the device id of the
// topic.
import fc from 'fast-check';
import { MAX_PAYLOAD_BYTES, parseMessage, type MessageKind } from '@sentinel/broker';

export type DeviceMessageKind = Extract<MessageKind, 'device-state' | 'telemetry'>;

const TS = '2024-05-01T10:00:10.000Z';
const SHA = 'a'.repeat(64);

/** A valid message of each kind a device publishes, using every field. */
export function validMessage(kind: DeviceMessageKind, deviceId: string): Record<string, unknown> {
  if (kind === 'telemetry') {
    return {
      device_id: deviceId,
      ts: TS,
      window_s: 10,
      frames: 298,
      fps: 29.8,
      latency_ms: { p50: 8.4, p95: 12.9, max: 31.2 },
      latency_hist: [
        [52, 27],
        [53, 50],
      ],
      memory_mb: 212.5,
      errors: 0,
      model_id: '0b6f8c1e-3f0e-4a59-9d2a-1c2b3d4e5f60',
      model_version: '1.4.0',
      slot: 'green',
      deployment_id: '5d1f6f0e-8a39-4c59-bb0a-6d2bd0c4f1a7',
      map: 0.51,
    };
  }
  return {
    device_id: deviceId,
    online: true,
    agent_version: '0.1.0',
    ts: TS,
    active_slot: 'green',
    slots: {
      blue: { model_id: 'm-1', version: '1.3.2', sha256: SHA, loaded: true },
      green: null,
    },
    deployment: {
      deployment_id: '5d1f6f0e-8a39-4c59-bb0a-6d2bd0c4f1a7',
      seq: 42,
      phase: 'failed',
      reason: 'hash_mismatch',
      detail: 'expected ...',
    },
    errors: ['hash_mismatch: people-detector 1.4.0'],
  };
}

/** Whether the hub must take the message (else drop and count it). */
export function expectedValid(kind: DeviceMessageKind, deviceId: string, payload: Buffer): boolean {
  const parsed = parseMessage(kind, payload);
  return parsed.ok && parsed.value.device_id === deviceId;
}

const text = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

/** One path into a message: a top-level key, or a key of a nested object. */
function paths(message: Record<string, unknown>): string[][] {
  const out: string[][] = [];
  for (const [key, value] of Object.entries(message)) {
    out.push([key]);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const inner of Object.keys(value)) out.push([key, inner]);
    }
  }
  return out;
}

function withChange(
  message: Record<string, unknown>,
  path: string[],
  change: (parent: Record<string, unknown>, key: string) => void,
): Record<string, unknown> {
  const copy = structuredClone(message);
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  change(parent, path.at(-1)!);
  return copy;
}

/** Messages of the protocol with one thing changed: a field removed, retyped or added. */
function almostValid(kind: DeviceMessageKind, deviceId: string): fc.Arbitrary<Buffer> {
  const base = validMessage(kind, deviceId);
  const path = fc.constantFrom(...paths(base));
  return fc.oneof(
    path.map((p) => text(withChange(base, p, (parent, key) => delete parent[key]))),
    fc
      .tuple(path, fc.jsonValue({ maxDepth: 3 }))
      .map(([p, value]) => text(withChange(base, p, (parent, key) => (parent[key] = value)))),
    fc
      .tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }))
      .map(([key, value]) => text({ ...base, [key]: value })),
    fc
      .constantFrom('cam-other', 'CAM', '', '../x', 'a'.repeat(65))
      .map((id) => text({ ...base, device_id: id })),
    fc.constantFrom(text(base)),
  );
}

/** Valid JSON text cut short or with a byte changed. */
function brokenJson(kind: DeviceMessageKind, deviceId: string): fc.Arbitrary<Buffer> {
  const whole = text(validMessage(kind, deviceId));
  return fc.oneof(
    fc.integer({ min: 0, max: whole.length - 1 }).map((n) => whole.subarray(0, n)),
    fc
      .tuple(fc.integer({ min: 0, max: whole.length - 1 }), fc.integer({ min: 0, max: 255 }))
      .map(([at, byte]) => {
        const copy = Buffer.from(whole);
        copy[at] = byte;
        return copy;
      }),
  );
}

/** Arrays or objects nested `depth` deep, inside a message or alone. */
function deeplyNested(kind: DeviceMessageKind, deviceId: string): fc.Arbitrary<Buffer> {
  const head = JSON.stringify(validMessage(kind, deviceId)).slice(0, -1);
  return fc
    .tuple(fc.integer({ min: 50, max: 40_000 }), fc.boolean(), fc.boolean())
    .map(([depth, arrays, inside]) => {
      const nest = arrays
        ? '['.repeat(depth) + ']'.repeat(depth)
        : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      return Buffer.from(inside ? `${head},"errors":${nest}}` : nest, 'utf8');
    })
    .filter((payload) => payload.length <= MAX_PAYLOAD_BYTES);
}

/** Long strings and arrays, up to the broker's payload limit (never over: that closes the connection). */
function large(kind: DeviceMessageKind, deviceId: string): fc.Arbitrary<Buffer> {
  const base = validMessage(kind, deviceId);
  return fc
    .tuple(fc.integer({ min: 2049, max: MAX_PAYLOAD_BYTES - 2000 }), fc.boolean())
    .map(([size, asArray]) =>
      text(
        asArray
          ? { ...base, errors: Array.from({ length: Math.floor(size / 4) }, () => 'e') }
          : { ...base, agent_version: 'v'.repeat(size), model_id: 'm'.repeat(size) },
      ),
    )
    .filter((payload) => payload.length <= MAX_PAYLOAD_BYTES);
}

/** Any payload a device might send on its `kind` topic. */
export function devicePayload(kind: DeviceMessageKind, deviceId: string): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)), weight: 2 },
    { arbitrary: fc.json({ maxDepth: 4 }).map((s) => Buffer.from(s, 'utf8')), weight: 2 },
    { arbitrary: fc.string({ maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')), weight: 1 },
    { arbitrary: almostValid(kind, deviceId), weight: 4 },
    { arbitrary: brokenJson(kind, deviceId), weight: 2 },
    { arbitrary: deeplyNested(kind, deviceId), weight: 1 },
    { arbitrary: large(kind, deviceId), weight: 1 },
  );
}
