// Writes the test models to a folder, for the edge agent's tests and for trying the hub by hand:
//   node dist/scripts/make-test-models.js OUTDIR [--large BYTES [FILE]]
// fast.onnx, slow.onnx, golden-mismatch.onnx, corrupt.onnx and fast.golden.json (a fixed input and
// fast.onnx's expected output); with --large also a valid model of exactly BYTES bytes (default
// file name large.onnx).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GOLDEN_ATOL,
  corruptModel,
  fastGolden,
  fastModel,
  goldenMismatchModel,
  slowModel,
  writeLargeOnnxModel,
} from '../test/support/onnx-models.js';

const USAGE = 'usage: make-test-models OUTDIR [--large BYTES [FILE]]';

export interface MakeOptions {
  outDir: string;
  large: { bytes: number; file: string } | null;
}

export function parseArgs(args: string[]): MakeOptions {
  const [outDir, flag, bytes, file, ...rest] = args;
  if (!outDir || outDir.startsWith('-') || rest.length > 0) throw new Error(USAGE);
  if (flag === undefined) return { outDir, large: null };
  const size = Number(bytes);
  if (flag !== '--large' || !Number.isSafeInteger(size) || size <= 0) throw new Error(USAGE);
  return { outDir, large: { bytes: size, file: file ?? 'large.onnx' } };
}

/** Writes the models; returns the paths written. */
export async function makeTestModels(options: MakeOptions): Promise<string[]> {
  mkdirSync(options.outDir, { recursive: true });
  const golden = fastGolden();
  const files: [string, Uint8Array | string][] = [
    ['fast.onnx', fastModel()],
    ['slow.onnx', slowModel()],
    ['golden-mismatch.onnx', goldenMismatchModel()],
    ['corrupt.onnx', corruptModel()],
    [
      'fast.golden.json',
      JSON.stringify(
        {
          input_name: golden.inputName,
          input_shape: golden.inputShape,
          input: [...golden.input],
          output_name: golden.outputName,
          output_shape: golden.outputShape,
          output: [...golden.output],
          atol: GOLDEN_ATOL,
        },
        null,
        2,
      ) + '\n',
    ],
  ];
  const written: string[] = [];
  for (const [name, content] of files) {
    const path = join(options.outDir, name);
    writeFileSync(path, content);
    written.push(path);
  }
  if (options.large) {
    const path = join(options.outDir, options.large.file);
    await writeLargeOnnxModel(path, options.large.bytes);
    written.push(path);
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    for (const path of await makeTestModels(parseArgs(process.argv.slice(2))))
      console.log(`wrote ${path}`);
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
  }
}
