import { Transform } from 'node:stream';
import {
  detectFormat,
  formatName,
  SNIFF_BYTES,
  sniffFormat,
  type ModelFormat,
} from './domain/model-format.js';
import { NotOnnxError, OnnxHeaderParser, type OnnxHeader } from './domain/onnx-header.js';

export interface Inspection {
  format: ModelFormat;
  /** The parsed ONNX header, or the reason the bytes are not an ONNX model. */
  onnx: OnnxHeader | Error;
}

/**
 * A pass-through stream that tells the format of the model flowing through it: it keeps the first
 * SNIFF_BYTES for sniffFormat and feeds every byte to the ONNX header parser until either says the
 * bytes are something else. Memory stays bounded whatever the model's size.
 */
export function modelInspector(): { transform: Transform; result(): Inspection } {
  const parser = new OnnxHeaderParser();
  const head: Buffer[] = [];
  let headBytes = 0;
  let sniffed: ModelFormat | null = null;
  let ended = false;
  const sniff = () => (sniffed ??= sniffFormat(Buffer.concat(head)));
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (headBytes < SNIFF_BYTES) {
        const part = chunk.subarray(0, SNIFF_BYTES - headBytes);
        head.push(part);
        headBytes += part.length;
        if (headBytes === SNIFF_BYTES) sniff();
      }
      // once the bytes are known to be another format, or not ONNX, stop parsing but pass them on
      const elsewhere = sniffed !== null && sniffed !== 'unknown';
      if (!parser.error && !elsewhere) parser.push(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      ended = true;
      callback();
    },
  });
  return {
    transform,
    result() {
      if (!ended) throw new Error('modelInspector().result() called before the stream ended');
      const format = sniff();
      let onnx: OnnxHeader | Error;
      try {
        onnx =
          format === 'unknown'
            ? parser.end()
            : new NotOnnxError(`the file is a ${formatName(format)} file, not an ONNX model`);
      } catch (error) {
        onnx = error as Error;
      }
      return { format: detectFormat(format, !(onnx instanceof Error)), onnx };
    },
  };
}
