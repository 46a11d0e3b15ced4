import { createReadStream } from 'node:fs';

/**
 * A push-based reader of the protobuf wire format that pulls the header of an ONNX ModelProto out of
 * a byte stream of any size. Large byte fields (raw_data, packed float_data, doc strings, nodes) are
 * skipped by counting bytes, so memory stays bounded whatever the model's size; only small fields
 * (names, dims, metadata) are buffered.
 *
 * Sparse initializers count as initializers; they add the element count of their `values` tensor
 * (the number of stored non-zeros) to `parameter_count`. Initializers kept outside the file
 * (data_location EXTERNAL) still count their dims.
 */

export interface OnnxTensorInfo {
  name: string;
  /** ONNX element type name, e.g. 'FLOAT'; 'SEQUENCE', 'MAP', 'OPTIONAL' or 'OPAQUE' for non-tensors. */
  elem_type: string;
  /** A number for a fixed dim, the dim_param string for a symbolic one, null for an unknown one. */
  shape: (number | string | null)[];
}

export interface OnnxHeader {
  ir_version: number;
  producer_name: string;
  producer_version: string;
  domain: string;
  model_version: number;
  opsets: { domain: string; version: number }[];
  /** Version of the default ('' or 'ai.onnx') domain; 0 when the model imports none. */
  opset: number;
  graph_name: string;
  inputs: OnnxTensorInfo[];
  outputs: OnnxTensorInfo[];
  parameter_count: number;
  initializer_count: number;
  node_count: number;
  metadata_props: Record<string, string>;
}

export class NotOnnxError extends Error {
  override name = 'NotOnnxError';
}

/** Fields longer than this are skipped instead of buffered (a metadata value this large is dropped). */
export const MAX_BUFFERED_FIELD_BYTES = 1024 * 1024;
/**
 * Upper bound on what the parser keeps (names, shapes, metadata) for one model, counted with rough
 * per-object overheads so that it tracks heap use. Real models need a few hundred KiB at most.
 */
export const MAX_RETAINED_BYTES = 32 * 1024 * 1024;

const ELEM_TYPES = [
  'UNDEFINED',
  'FLOAT',
  'UINT8',
  'INT8',
  'UINT16',
  'INT16',
  'INT32',
  'INT64',
  'STRING',
  'BOOL',
  'FLOAT16',
  'DOUBLE',
  'UINT32',
  'UINT64',
  'COMPLEX64',
  'COMPLEX128',
  'BFLOAT16',
  'FLOAT8E4M3FN',
  'FLOAT8E4M3FNUZ',
  'FLOAT8E5M2',
  'FLOAT8E5M2FNUZ',
  'UINT4',
  'INT4',
  'FLOAT4E2M1',
  'FLOAT8E8M0',
  'UINT2',
  'INT2',
];

export function elemTypeName(code: number): string {
  return ELEM_TYPES[code] ?? `DATA_TYPE_${code}`;
}

// Message kinds the parser descends into.
const MODEL = 0;
const GRAPH = 1;
const OPSET = 2;
const ENTRY = 3;
const VALUE_INFO = 4;
const TYPE = 5;
const TENSOR_TYPE = 6;
const SHAPE = 7;
const DIM = 8;
const TENSOR = 9;
const SPARSE = 10;
const KIND_NAMES = [
  'ModelProto',
  'GraphProto',
  'OperatorSetIdProto',
  'StringStringEntryProto',
  'ValueInfoProto',
  'TypeProto',
  'TypeProto.Tensor',
  'TensorShapeProto',
  'TensorShapeProto.Dimension',
  'TensorProto',
  'SparseTensorProto',
];

// Wire type each known field must have: V varint, L length-delimited, P either (packed repeated).
const V = 1;
const L = 2;
const P = 3;
const SCHEMA: Record<number, number>[] = [
  { 1: V, 2: L, 3: L, 4: L, 5: V, 6: L, 7: L, 8: L, 14: L, 20: L, 25: L },
  { 1: L, 2: L, 5: L, 10: L, 11: L, 12: L, 13: L, 14: L, 15: L },
  { 1: L, 2: V },
  { 1: L, 2: L },
  { 1: L, 2: L, 3: L },
  { 1: L, 4: L, 5: L, 7: L, 8: L, 9: L },
  { 1: V, 2: L },
  { 1: L },
  { 1: V, 2: L, 3: L },
  { 1: P, 2: V, 4: P, 5: P, 6: L, 7: P, 8: L, 9: L, 10: P, 11: P, 12: L, 13: L, 14: V },
  { 1: L, 2: L, 3: P },
];

// Parser states.
const TAG = 0;
const VARINT = 1;
const LENGTH = 2;
const SKIP = 3;
const COLLECT = 4;
const FAILED = 5;

// What a collected (buffered) field becomes.
const PRODUCER_NAME = 0;
const PRODUCER_VERSION = 1;
const MODEL_DOMAIN = 2;
const GRAPH_NAME = 3;
const OPSET_DOMAIN = 4;
const ENTRY_KEY = 5;
const ENTRY_VALUE = 6;
const INFO_NAME = 7;
const DIM_PARAM = 8;
const TENSOR_NAME = 9;
const PACKED_DIMS = 10;

const POW7 = [1, 2 ** 7, 2 ** 14, 2 ** 21, 2 ** 28, 2 ** 35, 2 ** 42];
const TWO_POW_32 = 2 ** 32;
const EMPTY = Buffer.alloc(0);

interface Frame {
  kind: number;
  /** Absolute offset one past the message's last byte (Infinity for the top-level message). */
  end: number;
}

export class OnnxHeaderParser {
  private pos = 0;
  private state = TAG;
  private readonly stack: Frame[] = [{ kind: MODEL, end: Infinity }];
  private fieldStart = 0;
  private field = 0;
  private wire = 0;
  // varint accumulator: exact as a number up to 7 bytes (49 bits), a bigint beyond
  private vCount = 0;
  private vNum = 0;
  private vBig: bigint | null = null;
  private vDone = false;
  // SKIP / COLLECT
  private remaining = 0;
  private purpose = 0;
  private parts: Buffer[] = [];
  private failure: NotOnnxError | null = null;
  private outcome: OnnxHeader | null = null;
  private retained = 0;

  // what has been read so far
  private irVersion = 0;
  private producerName = '';
  private producerVersion = '';
  private modelDomain = '';
  private modelVersion = 0;
  private graphSeen = false;
  private graphName = '';
  private readonly opsets: { domain: string; version: number }[] = [];
  private readonly metadata = new Map<string, string>();
  private readonly inputs: OnnxTensorInfo[] = [];
  private readonly outputs: OnnxTensorInfo[] = [];
  private readonly initializerNames = new Set<string>();
  private parameterCount = 0;
  private initializerCount = 0;
  private nodeCount = 0;
  // the message being read at each level (nesting is fixed, so one of each suffices)
  private opset = { domain: '', version: 0 };
  private entryKey = '';
  private entryValue = '';
  private entryDropped = false;
  private info: OnnxTensorInfo = { name: '', elem_type: 'UNDEFINED', shape: [] };
  private infoTarget: OnnxTensorInfo[] = this.inputs;
  private dim: number | string | null = null;
  private tensorName = '';
  /** Product of the dims read so far (1 for a scalar). */
  private tensorElements = 1;

  /** The reason the bytes are not ONNX, as soon as it is known (end() throws it). */
  get error(): NotOnnxError | null {
    return this.failure;
  }

  /** Number of bytes pushed so far. */
  get bytesRead(): number {
    return this.pos;
  }

  push(chunk: Uint8Array): void {
    if (this.outcome) throw new Error('OnnxHeaderParser.push() after end()');
    // a Buffer, for toString(encoding, start, end) without a view per field
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = buf.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case TAG:
        case VARINT:
        case LENGTH: {
          i = this.readVarint(buf, i, n);
          if (!this.vDone) break; // failed, or the varint goes on in the next chunk
          this.vDone = false;
          if (this.state === TAG) this.onTag();
          else if (this.state === VARINT) this.onVarint();
          else this.onLength();
          break;
        }
        case SKIP: {
          const take = Math.min(this.remaining, n - i);
          i += take;
          this.pos += take;
          this.remaining -= take;
          if (this.remaining === 0) this.fieldDone();
          break;
        }
        case COLLECT: {
          const take = Math.min(this.remaining, n - i);
          this.pos += take;
          this.remaining -= take;
          if (this.remaining === 0 && this.parts.length === 0) {
            this.onCollected(buf, i, i + take);
          } else {
            // copy: the caller may reuse its buffer, and keeping a slice would pin the whole chunk
            this.parts.push(Buffer.from(buf.subarray(i, i + take)));
            if (this.remaining === 0) {
              const whole = Buffer.concat(this.parts);
              this.parts = [];
              this.onCollected(whole, 0, whole.length);
            }
          }
          i += take;
          if (!this.failure && this.remaining === 0) this.fieldDone();
          break;
        }
        default:
          return;
      }
    }
  }

  /** Completes the parse; throws NotOnnxError when the bytes were not a whole ONNX model. */
  end(): OnnxHeader {
    if (this.outcome) return this.outcome;
    if (!this.failure) this.finish();
    if (this.failure) throw this.failure;
    return this.outcome!;
  }

  private finish(): void {
    if (this.pos === 0) return this.fail('the file is empty');
    if (this.state !== TAG || this.vCount > 0 || this.stack.length > 1) {
      return this.fail(`truncated at byte ${this.pos}`);
    }
    if (this.irVersion < 1 || this.irVersion > 100) {
      return this.fail(
        this.irVersion === 0 ? 'no ir_version' : `ir_version ${this.irVersion} is out of range`,
      );
    }
    if (!this.graphSeen) return this.fail('no graph');
    // what onnxruntime and the ONNX checker demand from IR version 3 on
    if (this.irVersion >= 3 && this.opsets.length === 0) return this.fail('no opset_import');
    const defaults = this.opsets.filter((o) => o.domain === '' || o.domain === 'ai.onnx');
    this.outcome = {
      ir_version: this.irVersion,
      producer_name: this.producerName,
      producer_version: this.producerVersion,
      domain: this.modelDomain,
      model_version: this.modelVersion,
      opsets: this.opsets,
      opset: defaults.reduce((max, o) => Math.max(max, o.version), 0),
      graph_name: this.graphName,
      // Before IR version 4 every initializer also had to be listed as a graph input.
      inputs: this.inputs.filter((input) => !this.initializerNames.has(input.name)),
      outputs: this.outputs,
      parameter_count: this.parameterCount,
      initializer_count: this.initializerCount,
      node_count: this.nodeCount,
      metadata_props: Object.fromEntries(this.metadata),
    };
  }

  private fail(reason: string): void {
    if (this.failure) return;
    this.failure = new NotOnnxError(`not an ONNX model: ${reason}`);
    this.state = FAILED;
    this.parts = [];
  }

  private failAtField(reason: string): void {
    this.fail(
      `${reason} (field ${this.field} of ${KIND_NAMES[this.top().kind]} at byte ${this.fieldStart})`,
    );
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  /** Reads varint bytes into the accumulator, never past the enclosing message's end. */
  private readVarint(buf: Uint8Array, i: number, n: number): number {
    if (this.vCount === 0 && this.state === TAG) this.fieldStart = this.pos;
    const room = this.top().end - this.pos;
    if (room <= 0) {
      this.failAtField('a varint runs past the end of its message');
      return i;
    }
    const limit = room < n - i ? i + room : n;
    const start = i;
    while (i < limit) {
      const b = buf[i++]!;
      const k = this.vCount++;
      if (k < 7) {
        this.vNum += (b & 0x7f) * POW7[k]!;
      } else {
        this.vBig ??= BigInt(this.vNum);
        this.vBig |= BigInt(b & 0x7f) << BigInt(7 * k);
      }
      if (b < 0x80) {
        this.vDone = true;
        break;
      }
      if (k === 9) {
        this.pos += i - start;
        this.fail(`a varint longer than 10 bytes at byte ${this.pos - 10}`);
        return i;
      }
    }
    this.pos += i - start;
    if (!this.vDone && limit < n) this.failAtField('a varint runs past the end of its message');
    return i;
  }

  private unsigned(): number {
    return this.vBig === null ? this.vNum : Number(BigInt.asUintN(64, this.vBig));
  }

  /** int64 / int32 / enum fields: negative values arrive as 10-byte two's complement. */
  private signed(): number {
    return this.vBig === null ? this.vNum : Number(BigInt.asIntN(64, this.vBig));
  }

  private resetVarint(): void {
    this.vCount = 0;
    this.vNum = 0;
    this.vBig = null;
  }

  private onTag(): void {
    const tag = this.unsigned();
    this.resetVarint();
    if (tag >= TWO_POW_32) return this.fail(`an invalid field tag at byte ${this.fieldStart}`);
    this.field = Math.floor(tag / 8);
    this.wire = tag % 8;
    if (this.field === 0) return this.fail(`field number 0 at byte ${this.fieldStart}`);
    if (this.wire === 3 || this.wire === 4 || this.wire > 5) {
      return this.fail(`invalid wire type ${this.wire} at byte ${this.fieldStart}`);
    }
    const expected = SCHEMA[this.top().kind]![this.field];
    if (expected !== undefined) {
      const ok = this.wire === 0 ? expected !== L : this.wire === 2 ? expected !== V : false;
      if (!ok) return this.failAtField(`unexpected wire type ${this.wire}`);
    }
    if (this.wire === 0) this.state = VARINT;
    else if (this.wire === 2) this.state = LENGTH;
    else this.skip(this.wire === 1 ? 8 : 4);
  }

  private onVarint(): void {
    const kind = this.top().kind;
    const field = this.field;
    if (kind === MODEL) {
      if (field === 1) this.irVersion = this.signed();
      else if (field === 5) this.modelVersion = this.signed();
    } else if (kind === OPSET) {
      if (field === 2) this.opset.version = this.signed();
    } else if (kind === TENSOR_TYPE) {
      if (field === 1) this.info.elem_type = elemTypeName(this.signed());
    } else if (kind === DIM) {
      if (field === 1) this.dim = this.signed();
    } else if (kind === TENSOR) {
      if (field === 1) this.multiplyDim(this.signed());
    }
    this.resetVarint();
    this.fieldDone();
  }

  private onLength(): void {
    const length = this.unsigned();
    this.resetVarint();
    if (length > this.top().end - this.pos) {
      return this.failAtField(`a length of ${length} runs past the end of its message`);
    }
    const kind = this.top().kind;
    const field = this.field;
    switch (kind) {
      case MODEL:
        if (field === 2) return this.collect(PRODUCER_NAME, length);
        if (field === 3) return this.collect(PRODUCER_VERSION, length);
        if (field === 4) return this.collect(MODEL_DOMAIN, length);
        if (field === 7) return this.descend(GRAPH, length);
        if (field === 8) {
          this.opset = { domain: '', version: 0 };
          return this.descend(OPSET, length);
        }
        if (field === 14) {
          this.entryKey = '';
          this.entryValue = '';
          this.entryDropped = false;
          return this.descend(ENTRY, length);
        }
        break;
      case GRAPH:
        if (field === 1) this.nodeCount++;
        if (field === 2) return this.collect(GRAPH_NAME, length);
        if (field === 5) return this.startTensor(length);
        if (field === 11 || field === 12) {
          this.info = { name: '', elem_type: 'UNDEFINED', shape: [] };
          this.infoTarget = field === 11 ? this.inputs : this.outputs;
          return this.descend(VALUE_INFO, length);
        }
        if (field === 15) return this.descend(SPARSE, length);
        break;
      case OPSET:
        if (field === 1) return this.collect(OPSET_DOMAIN, length);
        break;
      case ENTRY:
        if (field === 1) return this.collect(ENTRY_KEY, length);
        if (field === 2) return this.collect(ENTRY_VALUE, length);
        break;
      case VALUE_INFO:
        if (field === 1) return this.collect(INFO_NAME, length);
        if (field === 2) return this.descend(TYPE, length);
        break;
      case TYPE:
        // a sparse tensor type has the same layout as a dense one
        if (field === 1 || field === 8) return this.descend(TENSOR_TYPE, length);
        if (field === 4) this.info.elem_type = 'SEQUENCE';
        else if (field === 5) this.info.elem_type = 'MAP';
        else if (field === 7) this.info.elem_type = 'OPAQUE';
        else if (field === 9) this.info.elem_type = 'OPTIONAL';
        break;
      case TENSOR_TYPE:
        if (field === 2) {
          this.info.shape = [];
          return this.descend(SHAPE, length);
        }
        break;
      case SHAPE:
        if (field === 1) {
          this.dim = null;
          return this.descend(DIM, length);
        }
        break;
      case DIM:
        if (field === 2) return this.collect(DIM_PARAM, length);
        break;
      case TENSOR:
        if (field === 1) return this.collect(PACKED_DIMS, length);
        if (field === 8) return this.collect(TENSOR_NAME, length);
        break;
      case SPARSE:
        if (field === 1) return this.startTensor(length);
        break;
    }
    this.skip(length);
  }

  private startTensor(length: number): void {
    this.tensorName = '';
    this.tensorElements = 1;
    this.descend(TENSOR, length);
  }

  private descend(kind: number, length: number): void {
    this.stack.push({ kind, end: this.pos + length });
    this.fieldDone();
  }

  private skip(length: number): void {
    if (length > this.top().end - this.pos) {
      return this.failAtField(`${length} bytes run past the end of its message`);
    }
    this.remaining = length;
    if (length === 0) this.fieldDone();
    else this.state = SKIP;
  }

  private collect(purpose: number, length: number): void {
    if (length > MAX_BUFFERED_FIELD_BYTES) {
      if (purpose === PACKED_DIMS) return this.failAtField(`tensor dims of ${length} bytes`);
      if (purpose === ENTRY_KEY || purpose === ENTRY_VALUE) this.entryDropped = true;
      return this.skip(length);
    }
    this.purpose = purpose;
    this.remaining = length;
    if (length === 0) {
      this.onCollected(EMPTY, 0, 0);
      this.fieldDone();
    } else {
      this.state = COLLECT;
    }
  }

  private onCollected(bytes: Buffer, start: number, end: number): void {
    if (this.purpose === PACKED_DIMS) return this.readPackedDims(bytes, start, end);
    const text = bytes.toString('utf8', start, end);
    switch (this.purpose) {
      case PRODUCER_NAME:
        this.producerName = this.retain(text);
        break;
      case PRODUCER_VERSION:
        this.producerVersion = this.retain(text);
        break;
      case MODEL_DOMAIN:
        this.modelDomain = this.retain(text);
        break;
      case GRAPH_NAME:
        this.graphName = this.retain(text);
        break;
      case OPSET_DOMAIN:
        this.opset.domain = text;
        break;
      case ENTRY_KEY:
        this.entryKey = text;
        break;
      case ENTRY_VALUE:
        this.entryValue = text;
        break;
      case INFO_NAME:
        this.info.name = text;
        break;
      case DIM_PARAM:
        this.dim = text;
        break;
      case TENSOR_NAME:
        this.tensorName = text;
        break;
    }
  }

  private readPackedDims(bytes: Buffer, start: number, end: number): void {
    let value = 0;
    let k = 0;
    let big: bigint | null = null;
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      if (k < 7) value += (b & 0x7f) * POW7[k]!;
      else {
        big ??= BigInt(value);
        big |= BigInt(b & 0x7f) << BigInt(7 * k);
      }
      k++;
      if (b < 0x80) {
        this.multiplyDim(big === null ? value : Number(BigInt.asIntN(64, big)));
        if (this.failure) return;
        value = 0;
        k = 0;
        big = null;
      } else if (k === 10) {
        return this.failAtField('a packed dim longer than 10 bytes');
      }
    }
    if (k !== 0) this.failAtField('packed dims end inside a varint');
  }

  private multiplyDim(dim: number): void {
    if (dim < 0) this.failAtField(`a negative tensor dim ${dim}`);
    this.tensorElements *= dim;
  }

  /** Counts what the parser keeps against MAX_RETAINED_BYTES; returns the text for chaining. */
  private retain(text: string, overhead = 0): string {
    this.retained += text.length + overhead;
    if (this.retained > MAX_RETAINED_BYTES) {
      this.fail(`its names and metadata take more than ${MAX_RETAINED_BYTES / 1024 / 1024} MiB`);
    }
    return text;
  }

  /** A field is complete: read the next tag, closing every message that ends here. */
  private fieldDone(): void {
    if (this.state === FAILED) return;
    this.state = TAG;
    while (this.stack.length > 1 && this.top().end === this.pos) {
      const frame = this.stack.pop()!;
      this.onMessageEnd(frame.kind);
      if (this.failure) return;
    }
  }

  private onMessageEnd(kind: number): void {
    switch (kind) {
      case GRAPH:
        this.graphSeen = true;
        break;
      case OPSET:
        this.retain(this.opset.domain, 64);
        this.opsets.push(this.opset);
        break;
      case ENTRY:
        if (!this.entryDropped) {
          this.retain(this.entryKey, 96 + this.entryValue.length);
          this.metadata.set(this.entryKey, this.entryValue);
        }
        break;
      case VALUE_INFO:
        this.retain(this.info.name, 192);
        this.infoTarget.push(this.info);
        break;
      case DIM:
        this.retain(typeof this.dim === 'string' ? this.dim : '', 32);
        this.info.shape.push(this.dim);
        break;
      case TENSOR: {
        this.parameterCount += this.tensorElements;
        this.initializerNames.add(this.retain(this.tensorName, 96));
        // a sparse tensor's values are counted when the sparse initializer closes
        if (this.top().kind !== SPARSE) this.initializerCount++;
        break;
      }
      case SPARSE:
        this.initializerCount++;
        break;
    }
  }
}

/** Parses the header of an ONNX file on disk, reading it once in 1 MiB chunks. */
export async function parseOnnxFile(path: string): Promise<OnnxHeader> {
  const parser = new OnnxHeaderParser();
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of stream) {
      parser.push(chunk as Buffer);
      if (parser.error) break;
    }
  } finally {
    stream.destroy();
  }
  return parser.end();
}
