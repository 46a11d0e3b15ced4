import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import {
  NotOnnxError,
  OnnxHeaderParser,
  parseOnnxFile,
} from '../../src/registry/domain/onnx-header.js';
import {
  MIN_LARGE_MODEL_BYTES,
  corruptModel,
  fastGolden,
  fastModel,
  goldenMismatchModel,
  referenceOutput,
  slowModel,
  writeLargeOnnxModel,
} from './onnx-models.js';

const { onnx } = onnxProto;
type Graph = onnxProto.onnx.GraphProto;
type TensorProto = onnxProto.onnx.TensorProto;
type NodeProto = onnxProto.onnx.NodeProto;
type ValueInfo = onnxProto.onnx.ValueInfoProto;
// decode() builds class instances, whose fields are filled in, but GraphProto types them as interfaces
const initializers = (graph: Graph) => graph.initializer as TensorProto[];
const nodes = (graph: Graph) => graph.node as NodeProto[];

interface Tensor {
  dims: number[];
  data: Float64Array;
}

/**
 * Runs a decoded graph with the few operators the test models use, so that their wiring, shapes
 * and topological order are checked without an inference engine. Counts multiply-adds on the way.
 */
function run(graph: Graph, input: Float32Array): { output: Tensor; macs: number } {
  const values = new Map<string, Tensor>();
  for (const t of initializers(graph)) {
    const dims = t.dims.map(Number);
    if (t.dataType === onnx.TensorProto.DataType.FLOAT) {
      const raw = Buffer.from(t.rawData);
      values.set(t.name, {
        dims,
        data: Float64Array.from({ length: raw.length / 4 }, (_, i) => raw.readFloatLE(i * 4)),
      });
    } else {
      values.set(t.name, { dims, data: Float64Array.from(t.int64Data.map(Number)) });
    }
  }
  values.set((graph.input[0] as ValueInfo).name, {
    dims: [1, input.length],
    data: Float64Array.from(input),
  });
  const get = (name: string) => {
    const value = values.get(name);
    assert.ok(value, `"${name}" is used before it is computed`);
    return value;
  };
  let macs = 0;
  for (const node of nodes(graph)) {
    const [a, b] = node.input.map(get);
    let out: Tensor;
    switch (node.opType) {
      case 'MatMul': {
        const [m, k] = a!.dims as [number, number];
        const [k2, n] = b!.dims as [number, number];
        assert.equal(k, k2, `${node.name}: inner dims`);
        const data = new Float64Array(m * n);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let x = 0; x < k; x++) sum += a!.data[i * k + x]! * b!.data[x * n + j]!;
            data[i * n + j] = sum;
          }
        macs += m * n * k;
        out = { dims: [m, n], data };
        break;
      }
      case 'Relu':
        out = { dims: a!.dims, data: a!.data.map((v) => Math.max(0, v)) };
        break;
      case 'Reshape': {
        const dims = [...b!.data];
        assert.equal(
          dims.reduce((p, d) => p * d, 1),
          a!.data.length,
          `${node.name}: element count`,
        );
        out = { dims, data: a!.data };
        break;
      }
      case 'ReduceMean': {
        assert.deepEqual(node.attribute.find((x) => x.name === 'axes')?.ints?.map(Number), [0]);
        const [rows, cols] = a!.dims as [number, number];
        const data = new Float64Array(cols);
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < cols; c++) data[c]! += a!.data[r * cols + c]! / rows;
        out = { dims: [1, cols], data };
        break;
      }
      default:
        assert.fail(`unexpected operator ${node.opType}`);
    }
    values.set(node.output[0]!, out);
  }
  return { output: get((graph.output[0] as ValueInfo).name), macs };
}

const decode = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes);
const graphOf = (bytes: Uint8Array) => decode(bytes).graph as Graph;
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!)), 0);

describe('test models', () => {
  const models = { fast: fastModel(), slow: slowModel(), 'golden-mismatch': goldenMismatchModel() };

  it('are the same bytes on every call', () => {
    assert.ok(fastModel().equals(models.fast));
    assert.ok(slowModel().equals(models.slow));
    assert.ok(goldenMismatchModel().equals(models['golden-mismatch']));
    assert.ok(corruptModel().equals(corruptModel()));
  });

  for (const [name, bytes] of Object.entries(models)) {
    it(`${name}: onnx-proto decodes and re-encodes it byte for byte; the header parser agrees`, () => {
      const model = decode(bytes);
      assert.ok(Buffer.from(onnx.ModelProto.encode(model).finish()).equals(bytes));
      assert.equal(model.producerName, 'sentinel-test-models');
      assert.deepEqual(
        model.opsetImport.map((o) => [o.domain, Number(o.version)]),
        [['', 13]],
      );
      const parser = new OnnxHeaderParser();
      parser.push(bytes);
      const header = parser.end();
      assert.deepEqual(header.inputs, [{ name: 'input', elem_type: 'FLOAT', shape: [1, 64] }]);
      assert.deepEqual(header.outputs, [{ name: 'output', elem_type: 'FLOAT', shape: [1, 16] }]);
      assert.equal(header.node_count, model.graph!.node!.length);
    });
  }

  it('fast: computes the golden output', () => {
    const golden = fastGolden();
    const { output, macs } = run(graphOf(models.fast), golden.input);
    assert.deepEqual(output.dims, golden.outputShape);
    assert.ok(maxDiff(output.data, golden.output) < 1e-6);
    assert.ok(
      golden.output.some((v) => v > 0.1),
      'the golden output is not all zeros',
    );
    assert.equal(macs, 64 * 16);
  });

  it('golden-mismatch: same shapes, clearly different output', () => {
    const golden = fastGolden();
    const { output } = run(graphOf(models['golden-mismatch']), golden.input);
    assert.deepEqual(output.dims, golden.outputShape);
    assert.ok(maxDiff(output.data, referenceOutput('golden-mismatch', golden.input)) < 1e-6);
    assert.ok(maxDiff(output.data, golden.output) > 0.1);
  });

  it('slow: runs to a [1,16] output with thousands of times the work of fast', () => {
    const { output, macs } = run(graphOf(models.slow), fastGolden().input);
    assert.deepEqual(output.dims, [1, 16]);
    assert.ok(output.data.every(Number.isFinite));
    assert.ok(macs > 5000 * 64 * 16, `${macs} multiply-adds`);
    assert.ok(models.slow.length < 4 * 1024 * 1024, 'small enough for an 8 MiB upload limit');
  });

  it('corrupt: neither onnx-proto nor the header parser accept it', () => {
    assert.throws(() => decode(corruptModel()));
    const parser = new OnnxHeaderParser();
    parser.push(corruptModel());
    assert.throws(() => parser.end(), NotOnnxError);
  });
});

describe('writeLargeOnnxModel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnx-models-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a valid model of exactly the size asked for; onnx-proto decodes it', async () => {
    const path = join(dir, 'large.onnx');
    await writeLargeOnnxModel(path, 3_000_000);
    assert.equal(statSync(path).size, 3_000_000);
    const model = decode(readFileSync(path));
    const graph = model.graph as Graph;
    const padding = initializers(graph).find((t) => t.name === 'padding')!;
    assert.equal(padding.rawData.length, Number(padding.dims[0]));
    assert.ok(nodes(graph).every((node) => !node.input.includes('padding')));
    assert.deepEqual(
      run(graph, fastGolden().input).output.data,
      run(graphOf(fastModel()), fastGolden().input).output.data,
    );
    const header = await parseOnnxFile(path);
    assert.equal(header.parameter_count, 64 * 16 + padding.rawData.length);
  });

  it('refuses a size too small to hold a model, without creating the file', async () => {
    const path = join(dir, 'tiny.onnx');
    await assert.rejects(writeLargeOnnxModel(path, MIN_LARGE_MODEL_BYTES - 1), RangeError);
    assert.equal(existsSync(path), false);
  });
});

describe('make-test-models script', () => {
  const script = new URL('../../scripts/make-test-models.js', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'make-test-models-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the models, the golden file and a large model', async () => {
    const out = join(dir, 'models');
    execFileSync(process.execPath, [script, out, '--large', '2500000', 'big.onnx']);
    assert.ok(readFileSync(join(out, 'fast.onnx')).equals(fastModel()));
    assert.ok(readFileSync(join(out, 'slow.onnx')).equals(slowModel()));
    assert.ok(readFileSync(join(out, 'golden-mismatch.onnx')).equals(goldenMismatchModel()));
    assert.ok(readFileSync(join(out, 'corrupt.onnx')).equals(corruptModel()));
    const golden = JSON.parse(readFileSync(join(out, 'fast.golden.json'), 'utf8'));
    assert.deepEqual(golden.output, [...fastGolden().output]);
    assert.deepEqual(golden.input_shape, [1, 64]);
    assert.equal(statSync(join(out, 'big.onnx')).size, 2_500_000);
    assert.equal((await parseOnnxFile(join(out, 'big.onnx'))).opset, 13);
  });

  it('prints its usage and exits 2 without an output folder', () => {
    const result = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /^usage: make-test-models OUTDIR/);
  });
});
