/**
 * The file format of a pushed model, told from its first bytes (the registry stores any framework's
 * models; only ONNX runs on the edge agents). Pure functions: the upload feeds the head of the file.
 */

export const MODEL_FORMATS = [
  'onnx',
  'pytorch',
  'tflite',
  'tf-savedmodel',
  'safetensors',
  'unknown',
] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

/** How many leading bytes sniffFormat looks at (enough for a zip's first entry names). */
export const SNIFF_BYTES = 64 * 1024;

const ZIP_LOCAL_HEADER = 0x04034b50;
const TAR_MAGIC_OFFSET = 257;
/** torch.save before 1.6: a pickle (protocol 2) of the magic number 0x1950a86a20f9469cfc6c. */
const LEGACY_TORCH = Buffer.from('80028a0a6cfc9c46f9206aa85019', 'hex');

/** Entry names that make an archive a PyTorch (torch.save) or TorchScript (torch.jit.save) file. */
const TORCH_ENTRY = /^[^/]+\/(data\.pkl|version|\.data\/version|constants\.pkl|byteorder|code\/)/;
const SAVEDMODEL_ENTRY =
  /(^|\/)(saved_model\.pbt?x?t?|variables\/variables\.(index|data-\d+-of-\d+))$/;

/**
 * The format of a model file told by its head (the first SNIFF_BYTES, or fewer when the file is
 * shorter): magic numbers and archive entry names. ONNX has no magic number (it is a bare protobuf):
 * this says `unknown` for it, and detectFormat asks the ONNX header parser.
 */
export function sniffFormat(head: Buffer): ModelFormat {
  if (head.length >= 4 && head.readUInt32LE(0) === ZIP_LOCAL_HEADER)
    return archiveFormat(zipEntryNames(head));
  if (
    head.length >= TAR_MAGIC_OFFSET + 5 &&
    head.toString('latin1', TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + 5) === 'ustar'
  )
    return archiveFormat(tarEntryNames(head));
  if (head.subarray(0, LEGACY_TORCH.length).equals(LEGACY_TORCH)) return 'pytorch';
  if (head.length >= 8 && head.toString('latin1', 4, 8) === 'TFL3') return 'tflite';
  if (isSafetensors(head)) return 'safetensors';
  return 'unknown';
}

/** The recorded format: what the head says, else ONNX when the whole file parsed as an ONNX model. */
export function detectFormat(sniffed: ModelFormat, parsedAsOnnx: boolean): ModelFormat {
  if (sniffed !== 'unknown') return sniffed;
  return parsedAsOnnx ? 'onnx' : 'unknown';
}

function archiveFormat(names: string[]): ModelFormat {
  if (names.some((name) => TORCH_ENTRY.test(name))) return 'pytorch';
  if (names.some((name) => SAVEDMODEL_ENTRY.test(name))) return 'tf-savedmodel';
  return 'unknown';
}

/** The names of the zip's local entries that start within `head` (walking stored sizes). */
export function zipEntryNames(head: Buffer): string[] {
  const names: string[] = [];
  let at = 0;
  while (at + 30 <= head.length && head.readUInt32LE(at) === ZIP_LOCAL_HEADER) {
    const flags = head.readUInt16LE(at + 6);
    const compressed = head.readUInt32LE(at + 18);
    const nameLength = head.readUInt16LE(at + 26);
    const extraLength = head.readUInt16LE(at + 28);
    if (at + 30 + nameLength > head.length) break;
    names.push(head.toString('utf8', at + 30, at + 30 + nameLength));
    // With a data descriptor (flag bit 3) the size is not known here: stop at this entry.
    if (flags & 0x08 || compressed === 0xffffffff) break;
    at += 30 + nameLength + extraLength + compressed;
  }
  return names;
}

/** The names of the tar's entries whose headers lie within `head`. */
export function tarEntryNames(head: Buffer): string[] {
  const names: string[] = [];
  let at = 0;
  while (
    at + 512 <= head.length &&
    head.toString('latin1', at + TAR_MAGIC_OFFSET, at + TAR_MAGIC_OFFSET + 5) === 'ustar'
  ) {
    const name = cString(head, at, 100);
    const prefix = cString(head, at + 345, 155);
    names.push((prefix ? `${prefix}/` : '') + name.replace(/^\.\//, ''));
    const size = parseInt(cString(head, at + 124, 12).trim() || '0', 8);
    if (!Number.isSafeInteger(size)) break;
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

function cString(buffer: Buffer, start: number, length: number): string {
  const raw = buffer.subarray(start, start + length);
  const nul = raw.indexOf(0);
  return raw.toString('utf8', 0, nul === -1 ? raw.length : nul);
}

/** safetensors: an 8-byte little-endian header length, then that many bytes of JSON starting "{". */
function isSafetensors(head: Buffer): boolean {
  if (head.length < 10) return false;
  const length = head.readBigUInt64LE(0);
  if (length < 2n || length > 100_000_000n || head[8] !== 0x7b) return false;
  const end = 8 + Number(length);
  if (end > head.length) return /^\{\s*"/.test(head.toString('utf8', 8, Math.min(head.length, 16)));
  try {
    const parsed: unknown = JSON.parse(head.toString('utf8', 8, end));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

/**
 * Formats a declared framework may carry. A label that names a file format must match it; a training
 * framework takes its own native formats and the portable exports (ONNX, TFLite); other labels
 * (jax, sklearn, ...) take any format. Keys are lower-case.
 */
const FORMATS_OF_FRAMEWORK: Record<string, readonly ModelFormat[]> = {
  onnx: ['onnx'],
  tflite: ['tflite'],
  'tensorflow-lite': ['tflite'],
  litert: ['tflite'],
  safetensors: ['safetensors'],
  torchscript: ['pytorch'],
  savedmodel: ['tf-savedmodel'],
  pytorch: ['pytorch', 'safetensors', 'onnx', 'tflite', 'unknown'],
  torch: ['pytorch', 'safetensors', 'onnx', 'tflite', 'unknown'],
  tensorflow: ['tf-savedmodel', 'tflite', 'onnx', 'safetensors', 'unknown'],
  tf: ['tf-savedmodel', 'tflite', 'onnx', 'safetensors', 'unknown'],
  keras: ['tf-savedmodel', 'tflite', 'onnx', 'safetensors', 'unknown'],
};

/** Null when the bytes' format fits the declared framework, else a one-line reason (HTTP 400). */
export function checkFrameworkFormat(framework: string, format: ModelFormat): string | null {
  const allowed = FORMATS_OF_FRAMEWORK[framework.toLowerCase()];
  if (!allowed || allowed.includes(format)) return null;
  const seen =
    format === 'unknown' ? 'not a format this registry recognises' : `a ${formatName(format)} file`;
  return `framework "${framework}" does not match the file, which is ${seen}; expected ${allowed.map(formatName).join(' or ')}`;
}

export function formatName(format: ModelFormat): string {
  switch (format) {
    case 'onnx':
      return 'ONNX';
    case 'pytorch':
      return 'PyTorch/TorchScript';
    case 'tflite':
      return 'TFLite';
    case 'tf-savedmodel':
      return 'TensorFlow SavedModel';
    case 'safetensors':
      return 'safetensors';
    case 'unknown':
      return 'unrecognised-format';
  }
}

/** The file name extension the artifact is served with. */
export function formatExtension(format: ModelFormat): string {
  const extensions: Record<ModelFormat, string> = {
    onnx: 'onnx',
    pytorch: 'pt',
    tflite: 'tflite',
    'tf-savedmodel': 'savedmodel',
    safetensors: 'safetensors',
    unknown: 'bin',
  };
  return extensions[format];
}

/** The formats the edge agents can run (onnxruntime). */
export const RUNNABLE_FORMATS: readonly ModelFormat[] = ['onnx'];

/**
 * Null when agents can run the model, else why it cannot be deployed or pinned and what to do: push
 * the ONNX export with parent_id set to this version, and deploy the export.
 */
export function checkDeployable(model: {
  id: string;
  name: string;
  version: string;
  format: ModelFormat;
}): string | null {
  if (RUNNABLE_FORMATS.includes(model.format)) return null;
  return (
    `model ${model.name}@${model.version} is a ${formatName(model.format)} file and the edge agents run ONNX models only; ` +
    `export it to ONNX, push the export with parent_id=${model.id} (sentinel model push --parent ${model.id}), and deploy that version`
  );
}
