import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ORT_LOG_LEVELS, ortSeverity } from './ort-log.js';

describe("onnxruntime's log level", () => {
  it("maps to onnxruntime's severities, verbose 0 to fatal 4", () => {
    assert.deepEqual(
      ORT_LOG_LEVELS.map((level) => ortSeverity(level)),
      [0, 1, 2, 3, 4],
    );
    assert.equal(ortSeverity('warning'), 2, "onnxruntime's default, which prints its warnings");
  });
});
