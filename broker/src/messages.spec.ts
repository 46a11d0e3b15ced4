import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import {
  MAX_PAYLOAD_BYTES,
  MESSAGE_KINDS,
  MESSAGE_SCHEMAS,
  checkMessage,
  encodeMessage,
  messageJsonSchema,
  messageJsonSchemaFiles,
  parseMessage,
  type Command,
  type DesiredState,
  type DeviceState,
  type MessageKind,
  type ModelRef,
  type Telemetry,
} from './protocol.js';

const model: ModelRef = {
  id: '0b6f8c1e-3f0e-4a59-9d2a-1c2b3d4e5f60',
  name: 'yolo-lite',
  version: '1.4.0',
  sha256: 'a'.repeat(64),
  size: 1234567,
  url: 'https://hub.example/api/v1/models/0b6f8c1e-3f0e-4a59-9d2a-1c2b3d4e5f60/artifact',
  signature: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' },
  metadata: { map: 0.52, input_shape: [1, 3, 640, 640] },
};

const { metadata: _metadata, ...bareModel } = model;

const desired: DesiredState = {
  deployment_id: 'd-42',
  seq: 7,
  strategy: 'canary',
  model,
  previous: { ...bareModel, version: '1.3.0', signature: null },
  activate: 'new',
  cohort: { percent: 25, salt: 'd-42' },
  issued_at: '2024-05-01T10:00:00.123Z',
};

const state: DeviceState = {
  device_id: 'cam-1',
  online: true,
  agent_version: '0.1.0',
  ts: '2024-05-01T10:00:01Z',
  active_slot: 'blue',
  slots: {
    blue: { model_id: model.id, version: '1.4.0', sha256: model.sha256, loaded: true },
    green: null,
  },
  deployment: {
    deployment_id: 'd-42',
    seq: 7,
    phase: 'failed',
    reason: 'hash_mismatch',
    detail: 'x',
  },
  errors: [],
};

const telemetry: Telemetry = {
  device_id: 'cam-1',
  ts: '2024-05-01T10:00:10+02:00',
  window_s: 10,
  frames: 300,
  fps: 30,
  latency_ms: { p50: 8.1, p95: 12.5, max: 30 },
  memory_mb: 210.5,
  errors: 0,
  model_id: model.id,
  model_version: '1.4.0',
  slot: 'blue',
  deployment_id: 'd-42',
  map: 0.51,
};

const command: Command = {
  command: 'rollback',
  id: 'c-1',
  issued_at: '2024-05-01T10:00:00Z',
  reason: 'fps drop',
};

const valid: Record<MessageKind, unknown[]> = {
  'desired-state': [
    desired,
    {
      ...desired,
      deployment_id: null,
      strategy: 'none',
      model: null,
      previous: null,
      cohort: null,
    },
    { ...desired, strategy: 'pinned', activate: 'previous' },
  ],
  'device-state': [
    state,
    { device_id: 'cam-1', online: false, ts: '2024-05-01T10:00:00Z' },
    {
      ...state,
      models: {
        classifier: { active_slot: 'green', slots: state.slots, deployment: state.deployment },
        ocr: { active_slot: null, slots: { blue: null, green: null }, deployment: null },
      },
    },
  ],
  telemetry: [
    telemetry,
    { ...telemetry, model_id: null, model_version: null, slot: null, deployment_id: null },
    {
      ...telemetry,
      latency_hist: [
        [62, 40],
        [63, 230],
        [64, 25],
        [79, 5],
      ],
    },
    { ...telemetry, frames: 0, latency_hist: [] },
    { ...telemetry, serve_as: 'classifier' },
  ],
  command: [
    command,
    { command: 'ping', id: 'p', issued_at: '2024-05-01T10:00:00Z', deployment_id: null },
    { ...command, serve_as: 'classifier' },
  ],
};

const invalid: Array<[MessageKind, unknown, RegExp]> = [
  ['desired-state', { ...desired, seq: -1 }, /\/seq/],
  ['desired-state', { ...desired, seq: 1.5 }, /\/seq/],
  [
    'desired-state',
    { ...desired, strategy: 'yolo' },
    /\/strategy: expected "blue-green" \| "canary"/,
  ],
  ['desired-state', { ...desired, activate: 'old' }, /\/activate/],
  ['desired-state', { ...desired, model: { ...model, sha256: 'A'.repeat(64) } }, /\/model\/sha256/],
  ['desired-state', { ...desired, model: { ...model, id: 'not-a-uuid' } }, /\/model\/id/],
  ['desired-state', { ...desired, model: { ...model, size: -1 } }, /\/model\/size/],
  ['desired-state', { ...desired, model: { ...model, extra: 1 } }, /\/model/],
  ['desired-state', { ...desired, cohort: { percent: 101, salt: 's' } }, /\/cohort\/percent/],
  ['desired-state', { ...desired, issued_at: 'yesterday' }, /\/issued_at/],
  ['desired-state', { ...desired, issued_at: '2024-13-45T99:00:00Z' }, /\/issued_at/],
  ['desired-state', { ...desired, extra: true }, /\(root\)|extra/],
  ['desired-state', [], /\(root\)/],
  ['device-state', { device_id: 'CAM', online: false, ts: '2024-05-01T10:00:00Z' }, /\/device_id/],
  ['device-state', { device_id: 'cam-1', ts: '2024-05-01T10:00:00Z' }, /\/online/],
  [
    'device-state',
    { ...state, active_slot: 'red' },
    /\/active_slot: expected "blue" \| "green" \| null/,
  ],
  [
    'device-state',
    { ...state, deployment: { ...state.deployment, phase: 'done' } },
    /\/deployment\/phase/,
  ],
  [
    'device-state',
    { ...state, deployment: { ...state.deployment, reason: 'Bad Reason' } },
    /reason/,
  ],
  ['telemetry', { ...telemetry, fps: -1 }, /\/fps/],
  ['telemetry', { ...telemetry, window_s: 0 }, /\/window_s/],
  ['telemetry', { ...telemetry, latency_ms: { p50: 1, p95: 2 } }, /\/latency_ms\/max/],
  ['telemetry', { ...telemetry, map: 52 }, /\/map/],
  ['telemetry', { ...telemetry, latency_hist: [[149, 1]] }, /\/latency_hist\/0\/0/],
  ['telemetry', { ...telemetry, latency_hist: [[3, -1]] }, /\/latency_hist\/0\/1/],
  ['telemetry', { ...telemetry, latency_hist: [[3, 0.5]] }, /\/latency_hist\/0\/1/],
  ['telemetry', { ...telemetry, latency_hist: [[3]] }, /\/latency_hist\/0/],
  ['telemetry', { ...telemetry, latency_hist: { b: [3], c: [1] } }, /\/latency_hist/],
  [
    'telemetry',
    { ...telemetry, latency_hist: Array.from({ length: 150 }, (_, i) => [i % 149, 1]) },
    /\/latency_hist/,
  ],
  ['command', { ...command, command: 'format-disk' }, /\/command/],
  ['command', { ...command, serve_as: 'Classifier' }, /\/serve_as/],
  ['telemetry', { ...telemetry, serve_as: 'a/b' }, /\/serve_as/],
  [
    'device-state',
    {
      ...state,
      models: { 'Bad Name': { active_slot: null, slots: state.slots, deployment: null } },
    },
    /\/models/,
  ],
  [
    'device-state',
    { ...state, models: { classifier: { active_slot: 'blue', slots: state.slots } } },
    /\/models\/classifier\/deployment/,
  ],
  [
    'device-state',
    {
      ...state,
      models: Object.fromEntries(
        Array.from({ length: 9 }, (_, i) => [
          `m${i}`,
          { active_slot: null, slots: { blue: null, green: null }, deployment: null },
        ]),
      ),
    },
    /\/models/,
  ],
  ['command', { ...command, id: '' }, /\/id/],
];

describe('messages', () => {
  for (const kind of MESSAGE_KINDS) {
    it(`accepts valid ${kind} messages from text and bytes`, () => {
      for (const message of valid[kind]) {
        const text = JSON.stringify(message);
        for (const payload of [text, Buffer.from(text)]) {
          const result = parseMessage(kind, payload);
          assert.deepEqual(result, { ok: true, value: JSON.parse(text) });
        }
      }
    });
  }

  it('accepts the Last Will payload {device_id, online: false, ts}', () => {
    const lwt = '{"device_id":"cam-1","online":false,"ts":"2024-05-01T10:00:00Z"}';
    assert.equal(parseMessage('device-state', lwt).ok, true);
  });

  for (const [kind, message, reason] of invalid) {
    it(`rejects ${kind} ${JSON.stringify(message).slice(0, 60)} with a short reason`, () => {
      const result = parseMessage(kind, JSON.stringify(message));
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.match(result.error, reason);
        assert.ok(result.error.length < 200, result.error);
      }
    });
  }

  it('rejects empty, oversize and non-JSON payloads without throwing', () => {
    assert.deepEqual(parseMessage('command', ''), { ok: false, error: 'empty payload' });
    assert.deepEqual(parseMessage('command', Buffer.alloc(0)), {
      ok: false,
      error: 'empty payload',
    });
    const big = parseMessage('command', Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20));
    assert.equal(big.ok, false);
    assert.match(big.ok ? '' : big.error, /payload too large/);
    for (const junk of [
      '{',
      'null',
      '42',
      '"x"',
      '\u0000\u0001',
      Buffer.from([0xff, 0xfe, 0x00]),
    ]) {
      const result = parseMessage('device-state', junk);
      assert.equal(result.ok, false);
    }
    assert.match((parseMessage('command', '{') as { error: string }).error, /^invalid JSON: /);
  });

  it('encodeMessage serializes valid messages and throws on invalid ones', () => {
    assert.deepEqual(JSON.parse(encodeMessage('command', command).toString()), command);
    assert.throws(
      () => encodeMessage('command', { ...command, command: 'nope' } as unknown as Command),
      /invalid command message: \/command/,
    );
    assert.equal(checkMessage('telemetry', telemetry).ok, true);
  });

  it('publishes each schema as a standalone draft-07 document', () => {
    const files = messageJsonSchemaFiles();
    assert.deepEqual(Object.keys(files).sort(), [
      'command.json',
      'desired-state.json',
      'device-state.json',
      'telemetry.json',
    ]);
    for (const kind of MESSAGE_KINDS) {
      const doc = messageJsonSchema(kind);
      assert.equal(doc.$schema, 'http://json-schema.org/draft-07/schema#');
      assert.equal(doc.$id, `https://sentinel.dev/schemas/v1/${kind}.json`);
      assert.equal(typeof doc.title, 'string');
      assert.equal(typeof doc.description, 'string');
      assert.equal(doc.additionalProperties, false);
      assert.deepEqual(JSON.parse(files[`${kind}.json`]), doc);
      assert.equal(MESSAGE_SCHEMAS[kind].type, 'object');
    }
  });

  it('the published JSON Schemas agree with the TypeBox validators (checked with Ajv)', () => {
    // CommonJS modules under nodenext: the default import is module.exports, whose .default is the export.
    const ajv = new Ajv.default({ strict: true, allErrors: false });
    addFormats.default(ajv);
    for (const kind of MESSAGE_KINDS) {
      const validate = ajv.compile(messageJsonSchema(kind));
      for (const message of valid[kind]) {
        assert.equal(
          validate(JSON.parse(JSON.stringify(message))),
          true,
          `${kind}: ${ajv.errorsText(validate.errors)}`,
        );
      }
      for (const [k, message] of invalid) {
        if (k === kind)
          assert.equal(validate(message), false, `${kind}: ${JSON.stringify(message)}`);
      }
    }
  });
});
