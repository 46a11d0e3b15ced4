import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import type { ModelRef } from '@sentinel/broker/protocol';
import { AgentError } from '../errors.js';
import { syntheticFeeds, type Feeds } from './tensors.js';
import type { Session } from './session-pool.js';

export interface HealthPolicy {
  /** Slowest warm-up inference allowed (the model's `health.latency_budget_ms` overrides). */
  latencyBudgetMs: number;
  runs: number;
  /** Largest synthetic input to allocate (SENTINEL_MAX_INPUT_BYTES); more is refused as too_large. */
  maxInputBytes?: number;
}

/**
 * A reference input with its expected output, in the model's metadata as `golden` (one object or
 * a list): what `scripts/make-test-models.ts` writes as fast.golden.json.
 */
export interface Golden {
  input_name: string;
  input_shape: number[];
  input: number[];
  output_name: string;
  output_shape: number[];
  output: number[];
  atol?: number;
}

export interface HealthReport {
  latency_ms: { max: number; mean: number };
  golden_checked: number;
}

const DEFAULT_ATOL = 1e-4;

/** The golden cases of a model's metadata; malformed entries make the model fail its check. */
export function goldensOf(metadata: Record<string, unknown> | undefined): Golden[] {
  const value = metadata?.golden;
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((g, i) => {
    const golden = g as Partial<Golden>;
    const numbers = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'number');
    if (
      typeof golden?.input_name !== 'string' ||
      typeof golden.output_name !== 'string' ||
      !numbers(golden.input) ||
      !numbers(golden.output) ||
      !numbers(golden.input_shape) ||
      !numbers(golden.output_shape)
    ) {
      throw new AgentError('health_check', `metadata.golden[${i}] is malformed`);
    }
    return golden as Golden;
  });
}

/** The golden cases of a model's metadata, none when they are malformed (simulated frames). */
export function goldensOrNone(model: ModelRef): Golden[] {
  try {
    return goldensOf(model.metadata);
  } catch {
    return [];
  }
}

/** Expected output shapes declared in the metadata as `outputs: {name: [dims]}` (or a list of names). */
export function declaredOutputs(
  metadata: Record<string, unknown> | undefined,
): Map<string, (number | string)[] | null> {
  const value = metadata?.outputs;
  const declared = new Map<string, (number | string)[] | null>();
  if (Array.isArray(value)) for (const name of value) declared.set(String(name), null);
  else if (value && typeof value === 'object') {
    for (const [name, shape] of Object.entries(value)) {
      declared.set(name, Array.isArray(shape) ? (shape as (number | string)[]) : null);
    }
  }
  return declared;
}

/** Whether actual dims fit a declared shape (symbolic or negative dims match anything). */
export function shapeMatches(
  expected: readonly (number | string)[],
  actual: readonly number[],
): boolean {
  return (
    expected.length === actual.length &&
    expected.every((d, i) => typeof d !== 'number' || d < 0 || d === actual[i])
  );
}

/** Index and values of the first element outside tolerance, or null if all agree. */
export function firstMismatch(
  expected: ArrayLike<number>,
  actual: ArrayLike<number>,
  atol: number,
): { index: number; expected: number; actual: number } | null {
  if (expected.length !== actual.length)
    return { index: -1, expected: expected.length, actual: actual.length };
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (!(Math.abs(e - a) <= atol)) return { index: i, expected: e, actual: a };
  }
  return null;
}

/**
 * Runs the checks a model must pass before it may serve: declared outputs exist, warm-up
 * inferences succeed with the declared output shapes and within the latency budget, and golden
 * inputs give their expected outputs. Throws AgentError('health_check') with the first failure,
 * or AgentError('too_large') for inputs over `policy.maxInputBytes` (before allocating them).
 */
export async function healthCheck(
  session: Session,
  model: ModelRef,
  policy: HealthPolicy,
): Promise<HealthReport> {
  const metadata = model.metadata;
  const names = new Set(session.outputNames);
  const declared = declaredOutputs(metadata);
  for (const name of declared.keys()) {
    if (!names.has(name)) {
      throw new AgentError(
        'health_check',
        `model has no output "${name}" (metadata.outputs); it has ${[...names].join(', ')}`,
      );
    }
  }
  const budgetOverride = (metadata?.health as { latency_budget_ms?: unknown } | undefined)
    ?.latency_budget_ms;
  const budget =
    typeof budgetOverride === 'number' && budgetOverride > 0
      ? budgetOverride
      : policy.latencyBudgetMs;

  let feeds: Feeds;
  try {
    feeds = syntheticFeeds(session.inputMetadata, undefined, policy.maxInputBytes);
  } catch (error) {
    if (error instanceof AgentError) throw error; // too_large
    throw new AgentError('health_check', (error as Error).message);
  }
  const latencies: number[] = [];
  for (let run = 0; run < policy.runs; run++) {
    const started = performance.now();
    let outputs: ort.InferenceSession.OnnxValueMapType;
    try {
      outputs = await session.run(feeds);
    } catch (error) {
      throw new AgentError('health_check', `warm-up inference failed: ${(error as Error).message}`);
    }
    latencies.push(performance.now() - started);
    checkShapes(session, outputs, declared);
  }
  // The first run pays for lazy initialisation; judge the steady ones when there are any.
  const judged = latencies.length > 1 ? latencies.slice(1) : latencies;
  const max = Math.max(...judged);
  if (max > budget) {
    throw new AgentError(
      'health_check',
      `warm-up inference took ${max.toFixed(1)} ms, over the ${budget} ms budget`,
    );
  }

  const goldens = goldensOf(metadata);
  for (const [i, golden] of goldens.entries()) {
    const outputs = await runGolden(session, golden).catch((error: unknown) => {
      throw new AgentError('health_check', `golden input ${i} failed: ${(error as Error).message}`);
    });
    const output = outputs[golden.output_name];
    if (!output)
      throw new AgentError('health_check', `golden ${i}: no output "${golden.output_name}"`);
    const mismatch = firstMismatch(
      golden.output,
      output.data as Float32Array,
      golden.atol ?? DEFAULT_ATOL,
    );
    if (mismatch) {
      throw new AgentError(
        'health_check',
        mismatch.index < 0
          ? `golden ${i}: ${mismatch.actual} output values, expected ${mismatch.expected}`
          : `golden ${i}: output[${mismatch.index}] = ${mismatch.actual}, expected ${mismatch.expected} (atol ${golden.atol ?? DEFAULT_ATOL})`,
      );
    }
  }
  return {
    latency_ms: { max, mean: judged.reduce((a, b) => a + b, 0) / judged.length },
    golden_checked: goldens.length,
  };
}

export function goldenFeeds(golden: Golden): Feeds {
  return {
    [golden.input_name]: new ort.Tensor(
      'float32',
      Float32Array.from(golden.input),
      golden.input_shape,
    ),
  };
}

function runGolden(session: Session, golden: Golden) {
  return session.run(goldenFeeds(golden));
}

function checkShapes(
  session: Session,
  outputs: ort.InferenceSession.OnnxValueMapType,
  declared: Map<string, (number | string)[] | null>,
): void {
  for (const meta of session.outputMetadata) {
    const tensor = outputs[meta.name];
    if (!tensor) throw new AgentError('health_check', `inference gave no output "${meta.name}"`);
    const expected = declared.get(meta.name) ?? (meta.isTensor ? meta.shape : null);
    if (expected && !shapeMatches(expected, tensor.dims)) {
      throw new AgentError(
        'health_check',
        `output "${meta.name}" has shape [${tensor.dims.join(', ')}], expected [${expected.join(', ')}]`,
      );
    }
  }
}
