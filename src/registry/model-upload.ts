import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import busboy from 'busboy';
import {
  ArtifactTooLargeError,
  type ArtifactStore,
  type StoredArtifact,
} from '../artifacts/artifact-store.js';
import { DomainError, validationFailed } from '../common/domain-error.js';
import { checkPushField, isBlankFilePart } from './domain/model-rules.js';
import { modelInspector, type Inspection } from './model-inspector.js';

/** A Sigstore bundle is a few KiB; it travels inside desired states, which are bounded MQTT messages. */
const MAX_SIGNATURE_BYTES = 64 * 1024;
const MAX_FIELD_BYTES = 1024 * 1024;
/** Room for the multipart framing and text fields on top of the model itself. */
const MULTIPART_OVERHEAD_BYTES = 4 * 1024 * 1024;

export interface ReceivedUpload {
  fields: Record<string, string>;
  signature: Buffer | null;
  artifact: StoredArtifact;
  /** The detected format, and the parsed ONNX header or the reason the bytes are not ONNX. */
  inspection: Inspection;
}

export interface UploadOptions {
  store: ArtifactStore;
  maxBytes: number;
  /** Runs on the fields sent before the file, before any of the file is read; throw to refuse early. */
  checkFieldsBeforeFile(fields: Record<string, string>): Promise<void>;
  /**
   * Called with the bytes this upload stored when it fails afterwards. The caller owns deletion:
   * content-addressed bytes may be shared with a registered version or a concurrent push.
   */
  discard(sha256: string): Promise<void>;
}

/**
 * Reads a multipart model push. The `file` part streams through the model inspector (format and ONNX header) into the artifact
 * store, which hashes as it writes, so no more than a few buffers of the model are ever in memory.
 * On a failure after the file was stored, its sha256 goes to `discard` before this rejects.
 */
export function receiveModelUpload(
  request: IncomingMessage,
  options: UploadOptions,
): Promise<ReceivedUpload> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (declared > options.maxBytes + MULTIPART_OVERHEAD_BYTES) {
    return Promise.reject(tooLarge(options.maxBytes));
  }
  if (!/^multipart\/form-data/i.test(request.headers['content-type'] ?? '')) {
    return Promise.reject(
      validationFailed('the request must be multipart/form-data with a "file" part'),
    );
  }

  return new Promise<ReceivedUpload>((resolve, reject) => {
    const fields: Record<string, string> = {};
    let signature: Buffer | null = null;
    let stored: Promise<{ artifact: StoredArtifact; inspection: Inspection }> | null = null;
    let failure: Error | null = null;
    let parsed = false;
    let fileSink: Transform | null = null;

    const parser = busboy({
      headers: request.headers,
      limits: { fieldSize: MAX_FIELD_BYTES, fields: 32, files: 2, parts: 40 },
    });

    const fail = (error: Error) => {
      if (failure) return;
      failure = error;
      fileSink?.destroy(error);
      request.unpipe(parser);
      parser.destroy();
      // Discard the rest of the body so that the client, still sending, reads our answer instead of a reset.
      request.resume();
      settle();
    };

    const settle = () => {
      if (!failure && !parsed) return;
      if (!stored) {
        if (failure) reject(failure);
        else reject(validationFailed('the "file" part is missing'));
        return;
      }
      stored.then(
        async ({ artifact, inspection }) => {
          if (failure) {
            await options.discard(artifact.sha256).catch(() => undefined);
            reject(failure);
          } else {
            resolve({ fields, signature, artifact, inspection });
          }
        },
        (error: Error) => reject(failure ?? error),
      );
    };

    // busboy finishes the chunk it is parsing after destroy(): parts that follow a failure are dropped.
    parser.on('field', (name, value, info) => {
      if (isBlankFilePart(name, value)) return;
      const refused = checkPushField(name);
      if (refused) return fail(validationFailed(refused));
      if (failure) return;
      if (info.valueTruncated)
        return fail(validationFailed(`field "${name}" is longer than ${MAX_FIELD_BYTES} bytes`));
      fields[name] = value;
    });

    parser.on('file', (name, stream) => {
      if (failure) return stream.resume();
      // A body cut off mid-part errors the part's stream; that failure is reported through `fail`.
      stream.on('error', (error: Error) => fail(interrupted(error)));
      if (name === 'signature') return readSignature(stream);
      if (name !== 'file') {
        stream.resume();
        return fail(
          validationFailed(
            `unexpected file part "${name}" (expected "file" and optionally "signature")`,
          ),
        );
      }
      if (stored) {
        stream.resume();
        return fail(validationFailed('only one "file" part is allowed'));
      }
      stored = storeFile(stream);
      // A rejected store is reported through settle(); keep it from being an unhandled rejection meanwhile.
      stored.catch((error: Error) => fail(error));
    });

    const readSignature = (stream: Readable) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_SIGNATURE_BYTES) chunks.push(chunk);
      });
      stream.on('end', () => {
        if (size > MAX_SIGNATURE_BYTES)
          fail(
            validationFailed(`the signature bundle is larger than ${MAX_SIGNATURE_BYTES} bytes`),
          );
        else signature = Buffer.concat(chunks);
      });
    };

    const storeFile = async (stream: Readable) => {
      try {
        await options.checkFieldsBeforeFile({ ...fields });
        // The push may have failed meanwhile (the body ended without its closing boundary): the
        // part's stream will then never end, and a store started on it would wait forever.
        if (failure) throw failure;
      } catch (error) {
        stream.resume();
        throw error;
      }
      const inspector = modelInspector();
      fileSink = inspector.transform;
      // put() reports the sink's errors while it runs; this keeps a late one (after put settled) from crashing.
      inspector.transform.on('error', () => undefined);
      stream.on('error', (error) => inspector.transform.destroy(error));
      // The client going away mid-upload must abort the store (which then removes its partial write).
      const onClose = () => {
        if (!request.complete)
          inspector.transform.destroy(new Error('the client closed the connection mid-upload'));
      };
      request.once('close', onClose);
      stream.pipe(inspector.transform);
      try {
        const artifact = await options.store.put(inspector.transform, {
          maxBytes: options.maxBytes,
        });
        return { artifact, inspection: inspector.result() };
      } catch (error) {
        throw error instanceof ArtifactTooLargeError ? tooLarge(options.maxBytes) : error;
      } finally {
        request.off('close', onClose);
      }
    };

    parser.on('close', () => {
      parsed = true;
      settle();
    });
    parser.on('error', (error: Error) =>
      fail(validationFailed(`malformed multipart body: ${error.message}`)),
    );
    request.on('error', (error) => fail(interrupted(error)));
    request.pipe(parser);
  });
}

function interrupted(error: Error): DomainError {
  return new DomainError('VALIDATION_FAILED', `the upload was interrupted: ${error.message}`);
}

function tooLarge(maxBytes: number): DomainError {
  return new DomainError(
    'PAYLOAD_TOO_LARGE',
    `the model is larger than MAX_MODEL_BYTES (${maxBytes} bytes)`,
  );
}
