import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

/** Bytes of known length that can be streamed; `open` is called once per body stream. */
export interface ByteSource {
  readonly size: number;
  open(): Readable;
}

export interface MultipartField {
  readonly name: string;
  readonly value: string;
}

export interface MultipartFile {
  readonly name: string;
  readonly filename: string;
  readonly contentType: string;
  readonly source: ByteSource;
}

export type MultipartPart = MultipartField | MultipartFile;

export interface MultipartBody {
  readonly boundary: string;
  /** Value for the Content-Type request header. */
  readonly contentType: string;
  /** Exact number of bytes `open()` produces. */
  readonly contentLength: number;
  /** A new stream of the whole body, parts in the given order; fails if a source's byte count differs from its size. */
  open(): Readable;
}

const CRLF = '\r\n';
// RFC 2046 bchars, without the space (allowed but only when not last; simpler to exclude).
const BOUNDARY_PATTERN = /^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/;

export function createBoundary(): string {
  return `----sentinel-${randomBytes(16).toString('hex')}`;
}

export function fileSource(path: string, size: number): ByteSource {
  return { size, open: () => createReadStream(path) };
}

export function bufferSource(content: Buffer | string): ByteSource {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return { size: bytes.length, open: () => Readable.from([bytes], { objectMode: false }) };
}

/** Quotes a Content-Disposition parameter the way browsers do (WHATWG form encoding). */
function quoteParam(value: string): string {
  return `"${value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}"`;
}

function isFile(part: MultipartPart): part is MultipartFile {
  return 'source' in part;
}

function partHeader(boundary: string, part: MultipartPart): Buffer {
  const lines = [`--${boundary}`];
  if (isFile(part)) {
    lines.push(
      `Content-Disposition: form-data; name=${quoteParam(part.name)}; filename=${quoteParam(part.filename)}`,
      `Content-Type: ${part.contentType}`,
    );
  } else {
    lines.push(`Content-Disposition: form-data; name=${quoteParam(part.name)}`);
  }
  return Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'utf8');
}

type Segment = Buffer | MultipartFile;

async function* streamSource(part: MultipartFile): AsyncGenerator<Buffer> {
  const expected = part.source.size;
  const changed = (detail: string) =>
    new Error(`"${part.filename}" changed while uploading: ${detail}`);
  let read = 0;
  for await (const chunk of part.source.open() as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    read += bytes.length;
    // The Content-Length is already on the wire: sending more or fewer bytes would corrupt the request.
    if (read > expected) throw changed(`it now has more than ${expected} bytes`);
    yield bytes;
  }
  if (read < expected) throw changed(`only ${read} of ${expected} bytes could be read`);
}

async function* generate(segments: readonly Segment[]): AsyncGenerator<Buffer> {
  for (const segment of segments) {
    if (Buffer.isBuffer(segment)) yield segment;
    else yield* streamSource(segment);
  }
}

/**
 * Lays out a multipart/form-data body (RFC 7578) whose length is known before any byte is read,
 * so file contents can be streamed with an exact Content-Length.
 */
export function buildMultipartBody(
  parts: readonly MultipartPart[],
  boundary: string = createBoundary(),
): MultipartBody {
  if (!BOUNDARY_PATTERN.test(boundary)) throw new Error(`invalid multipart boundary: ${boundary}`);
  const segments: Segment[] = [];
  for (const part of parts) {
    segments.push(partHeader(boundary, part));
    segments.push(isFile(part) ? part : Buffer.from(part.value, 'utf8'));
    segments.push(Buffer.from(CRLF));
  }
  segments.push(Buffer.from(`--${boundary}--${CRLF}`));
  const contentLength = segments.reduce(
    (total, segment) => total + (Buffer.isBuffer(segment) ? segment.length : segment.source.size),
    0,
  );
  return {
    boundary,
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength,
    open: () => Readable.from(generate(segments), { objectMode: false }),
  };
}
