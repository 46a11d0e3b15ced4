import type ort from 'onnxruntime-node';
import type { ModelRef } from '@sentinel/broker/protocol';
import { goldenFeeds, goldensOrNone } from '../inference/health-check.js';
import { syntheticFeeds, type Feeds } from '../inference/tensors.js';

/** The input of a model's simulated frames, with the output expected for it when known. */
export interface SimFeeds {
  feeds: Feeds;
  golden?: { output: number[]; name: string; atol: number };
}

/**
 * The model's first golden input when its metadata has one, else a synthetic input over its
 * declared inputs; throws AgentError('too_large') rather than allocate more than `maxBytes`.
 */
export function simFeedsFor(
  model: ModelRef,
  inputs: readonly ort.InferenceSession.ValueMetadata[],
  maxBytes: number,
): SimFeeds {
  const golden = goldensOrNone(model)[0];
  if (!golden) return { feeds: syntheticFeeds(inputs, (i) => Math.sin(i), maxBytes) };
  return {
    feeds: goldenFeeds(golden),
    golden: { output: golden.output, name: golden.output_name, atol: golden.atol ?? 1e-4 },
  };
}
