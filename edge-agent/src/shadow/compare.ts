/**
 * How far a candidate model's output agrees with the serving model's on the same input, as pure
 * functions on flat tensors. 1 is full agreement, 0 none. Which comparison applies is the model's
 * metadata `shadow.compare`: `top1` (classifiers: the share of rows whose best class is the same),
 * `boxes` (detectors: the mean IoU of boxes matched one to one, unmatched boxes counting 0), or
 * `cosine` (any other output: the cosine similarity of the two tensors, negative counted as 0).
 */
export const COMPARISONS = ['top1', 'boxes', 'cosine'] as const;
export type Comparison = (typeof COMPARISONS)[number];

export interface FlatTensor {
  dims: readonly number[];
  data: ArrayLike<number>;
}

/** Cosine similarity of two equally long vectors, clamped to 0..1; 1 for two zero vectors. */
export function cosineAgreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 && nb === 0) return 1;
  if (na === 0 || nb === 0) return 0;
  const cos = dot / Math.sqrt(na * nb);
  return Math.min(1, Math.max(0, cos));
}

/** Rows of the last dimension: [batch, classes] or [classes] scores. */
function rows(t: FlatTensor): number {
  const width = t.dims.at(-1) ?? t.data.length;
  return width === 0 ? 0 : Math.floor(t.data.length / width);
}

function argmax(data: ArrayLike<number>, from: number, width: number): number {
  let best = from;
  for (let i = from + 1; i < from + width; i += 1) if (data[i]! > data[best]!) best = i;
  return best - from;
}

/** The share of rows (last dimension = classes) whose highest score is the same class. */
export function top1Agreement(a: FlatTensor, b: FlatTensor): number {
  const width = a.dims.at(-1) ?? a.data.length;
  if (width !== (b.dims.at(-1) ?? b.data.length) || rows(a) !== rows(b) || width === 0) return 0;
  const n = rows(a);
  if (n === 0) return 1;
  let same = 0;
  for (let r = 0; r < n; r += 1) {
    if (argmax(a.data, r * width, width) === argmax(b.data, r * width, width)) same += 1;
  }
  return same / n;
}

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const area = (box: Box) => Math.max(0, box.x2 - box.x1) * Math.max(0, box.y2 - box.y1);
  const union = area(a) + area(b) - inter;
  return union <= 0 ? 0 : inter / union;
}

/**
 * Boxes of a detector output whose last dimension holds x1, y1, x2, y2 (and optionally a score as
 * the fifth value: boxes scoring below `minScore` are left out). Other leading dimensions are
 * flattened ([1, N, 4+] or [N, 4+]).
 */
export function boxesOf(t: FlatTensor, minScore = 0): Box[] {
  const width = t.dims.at(-1) ?? 0;
  if (width < 4) return [];
  const boxes: Box[] = [];
  for (let i = 0; i + width <= t.data.length; i += width) {
    if (width >= 5 && t.data[i + 4]! < minScore) continue;
    boxes.push({ x1: t.data[i]!, y1: t.data[i + 1]!, x2: t.data[i + 2]!, y2: t.data[i + 3]! });
  }
  return boxes;
}

/**
 * The mean IoU of boxes matched one to one (greedily, best pairs first), over the larger of the two
 * counts: a box the other model missed counts 0. 1 when neither found anything.
 */
export function boxAgreement(a: readonly Box[], b: readonly Box[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  const pairs: { i: number; j: number; v: number }[] = [];
  for (let i = 0; i < a.length; i += 1) {
    for (let j = 0; j < b.length; j += 1) {
      const v = iou(a[i]!, b[j]!);
      if (v > 0) pairs.push({ i, j, v });
    }
  }
  pairs.sort((x, y) => y.v - x.v);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  let sum = 0;
  for (const { i, j, v } of pairs) {
    if (usedA.has(i) || usedB.has(j)) continue;
    usedA.add(i);
    usedB.add(j);
    sum += v;
  }
  return sum / Math.max(a.length, b.length);
}

/** The agreement of two outputs by the comparison the model's metadata asks for. */
export function agreement(
  comparison: Comparison,
  active: FlatTensor,
  candidate: FlatTensor,
  options: { minScore?: number } = {},
): number {
  switch (comparison) {
    case 'top1':
      return top1Agreement(active, candidate);
    case 'boxes':
      return boxAgreement(boxesOf(active, options.minScore), boxesOf(candidate, options.minScore));
    case 'cosine':
      return cosineAgreement(active.data, candidate.data);
  }
}

export interface ShadowSettings {
  comparison: Comparison;
  /** The output compared; null: the first output of the model. */
  output: string | null;
  minScore: number;
}

/**
 * The comparison settings from a model's metadata: `shadow: {compare, output, min_score}`, all
 * optional (cosine of the first output). An unknown `compare` is refused with the reason.
 */
export function shadowSettingsOf(metadata: Record<string, unknown> | undefined): ShadowSettings {
  const shadow = (metadata?.shadow ?? {}) as Record<string, unknown>;
  const compare = shadow.compare ?? 'cosine';
  if (!(COMPARISONS as readonly unknown[]).includes(compare)) {
    throw new TypeError(
      `metadata.shadow.compare ${JSON.stringify(compare)} must be one of ${COMPARISONS.join(', ')}`,
    );
  }
  const output = typeof shadow.output === 'string' ? shadow.output : null;
  const minScore = typeof shadow.min_score === 'number' ? shadow.min_score : 0;
  return { comparison: compare as Comparison, output, minScore };
}
