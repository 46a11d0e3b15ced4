import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import busboy from 'busboy';
import {
  buildMultipartBody,
  bufferSource,
  createBoundary,
  fileSource,
  type MultipartPart,
} from './multipart-upload.js';

async function collect(
  stream: Readable,
): Promise<{ bytes: Buffer; chunks: number; maxChunk: number }> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return {
    bytes: Buffer.concat(chunks),
    chunks: chunks.length,
    maxChunk: Math.max(...chunks.map((chunk) => chunk.length)),
  };
}

interface ParsedPart {
  name: string;
  value?: string;
  filename?: string;
  mimeType?: string;
  sha256?: string;
  size?: number;
}

function parseWithBusboy(body: Readable, contentType: string): Promise<ParsedPart[]> {
  return new Promise((resolve, reject) => {
    const parts: ParsedPart[] = [];
    const parser = busboy({ headers: { 'content-type': contentType }, defParamCharset: 'utf8' });
    parser.on('field', (name, value) => parts.push({ name, value }));
    parser.on('file', (name, stream, info) => {
      const part: ParsedPart = { name, filename: info.filename, mimeType: info.mimeType, size: 0 };
      parts.push(part);
      const hash = createHash('sha256');
      stream.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        part.size! += chunk.length;
      });
      stream.on('end', () => (part.sha256 = hash.digest('hex')));
    });
    parser.on('close', () => resolve(parts));
    parser.on('error', reject);
    body.on('error', reject);
    body.pipe(parser);
  });
}

describe('buildMultipartBody', { timeout: 30_000 }, () => {
  let dir: string;
  let smallFile: string;
  let bigFile: string;
  let bigContent: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentinel-multipart-'));
    smallFile = join(dir, 'tiny.onnx');
    await writeFile(smallFile, Buffer.from([0x08, 0x07, 0x00, 0xff]));
    bigFile = join(dir, 'big.onnx');
    bigContent = randomBytes(3 * 1024 * 1024 + 7);
    await writeFile(bigFile, bigContent);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lays out fields, then files, byte for byte, with the closing boundary', async () => {
    const body = buildMultipartBody(
      [
        { name: 'name', value: 'resnet' },
        { name: 'metadata', value: '{"note":"é\\n"}' },
        {
          name: 'signature',
          filename: 'bundle.json',
          contentType: 'application/json',
          source: bufferSource('{}'),
        },
        {
          name: 'file',
          filename: 'tiny.onnx',
          contentType: 'application/octet-stream',
          source: fileSource(smallFile, 4),
        },
      ],
      'XyZ-boundary',
    );
    const expected = Buffer.concat([
      Buffer.from(
        '--XyZ-boundary\r\n' +
          'Content-Disposition: form-data; name="name"\r\n\r\n' +
          'resnet\r\n' +
          '--XyZ-boundary\r\n' +
          'Content-Disposition: form-data; name="metadata"\r\n\r\n' +
          '{"note":"é\\n"}\r\n' +
          '--XyZ-boundary\r\n' +
          'Content-Disposition: form-data; name="signature"; filename="bundle.json"\r\n' +
          'Content-Type: application/json\r\n\r\n' +
          '{}\r\n' +
          '--XyZ-boundary\r\n' +
          'Content-Disposition: form-data; name="file"; filename="tiny.onnx"\r\n' +
          'Content-Type: application/octet-stream\r\n\r\n',
        'utf8',
      ),
      Buffer.from([0x08, 0x07, 0x00, 0xff]),
      Buffer.from('\r\n--XyZ-boundary--\r\n'),
    ]);

    const { bytes } = await collect(body.open());

    assert.equal(body.contentType, 'multipart/form-data; boundary=XyZ-boundary');
    assert.equal(bytes.toString('latin1'), expected.toString('latin1'));
    assert.equal(body.contentLength, expected.length);
  });

  it('streams a multi-megabyte file in chunks and produces exactly contentLength bytes', async () => {
    const body = buildMultipartBody([
      { name: 'name', value: 'big' },
      {
        name: 'file',
        filename: 'big.onnx',
        contentType: 'application/octet-stream',
        source: fileSource(bigFile, bigContent.length),
      },
    ]);

    const { bytes, chunks, maxChunk } = await collect(body.open());

    assert.equal(bytes.length, body.contentLength);
    assert.ok(chunks > 10, `expected many chunks, got ${chunks}`);
    assert.ok(maxChunk < bigContent.length / 4, `largest chunk ${maxChunk} bytes`);
    const start = bytes.indexOf('\r\n\r\n', bytes.indexOf('name="file"')) + 4;
    assert.ok(bytes.subarray(start, start + bigContent.length).equals(bigContent));
    assert.equal(
      bytes.subarray(start + bigContent.length).toString(),
      `\r\n--${body.boundary}--\r\n`,
    );
  });

  it('can be opened again for a second identical body', async () => {
    const body = buildMultipartBody([
      { name: 'file', filename: 't', contentType: 'x/y', source: fileSource(smallFile, 4) },
    ]);
    const first = await collect(body.open());
    const second = await collect(body.open());
    assert.ok(first.bytes.equals(second.bytes));
  });

  it('is parsed back by busboy into the same fields, order and file contents', async () => {
    const parts: MultipartPart[] = [
      { name: 'name', value: 'resnet' },
      { name: 'metadata', value: '{"a":[1,2],"ü":"line1\\nline2"}' },
      { name: 'tags', value: 'edge,int8' },
      {
        name: 'signature',
        filename: 'bundle.json',
        contentType: 'application/json',
        source: bufferSource('{"mediaType":"x"}'),
      },
      {
        name: 'file',
        filename: 'big.onnx',
        contentType: 'application/octet-stream',
        source: fileSource(bigFile, bigContent.length),
      },
    ];
    const body = buildMultipartBody(parts);

    const parsed = await parseWithBusboy(body.open(), body.contentType);

    assert.deepEqual(parsed, [
      { name: 'name', value: 'resnet' },
      { name: 'metadata', value: '{"a":[1,2],"ü":"line1\\nline2"}' },
      { name: 'tags', value: 'edge,int8' },
      {
        name: 'signature',
        filename: 'bundle.json',
        mimeType: 'application/json',
        size: 17,
        sha256: createHash('sha256').update('{"mediaType":"x"}').digest('hex'),
      },
      {
        name: 'file',
        filename: 'big.onnx',
        mimeType: 'application/octet-stream',
        size: bigContent.length,
        sha256: createHash('sha256').update(bigContent).digest('hex'),
      },
    ]);
  });

  it('escapes quotes and line breaks in names and filenames', async () => {
    const body = buildMultipartBody(
      [{ name: 'file', filename: 'a"b\r\nc.onnx', contentType: 'x/y', source: bufferSource('z') }],
      'b',
    );
    const { bytes } = await collect(body.open());
    assert.match(bytes.toString(), /filename="a%22b%0D%0Ac\.onnx"\r\n/);
    assert.equal(bytes.length, body.contentLength);
  });

  it('fails the stream when the file grew after its size was taken', async () => {
    const path = join(dir, 'grows.onnx');
    await writeFile(path, 'abcd');
    const body = buildMultipartBody([
      { name: 'file', filename: 'grows.onnx', contentType: 'x/y', source: fileSource(path, 4) },
    ]);
    await appendFile(path, 'efgh');
    await assert.rejects(
      collect(body.open()),
      /"grows\.onnx" changed while uploading: it now has more than 4 bytes/,
    );
  });

  it('fails the stream when the file shrank after its size was taken', async () => {
    const path = join(dir, 'shrinks.onnx');
    await writeFile(path, 'ab');
    const body = buildMultipartBody([
      { name: 'file', filename: 'shrinks.onnx', contentType: 'x/y', source: fileSource(path, 10) },
    ]);
    await assert.rejects(collect(body.open()), /only 2 of 10 bytes could be read/);
  });

  it('rejects boundaries that are not RFC 2046 bchars', () => {
    assert.throws(() => buildMultipartBody([], 'has space'), /invalid multipart boundary/);
    assert.throws(() => buildMultipartBody([], 'x'.repeat(71)), /invalid multipart boundary/);
  });

  it('creates random, valid boundaries', () => {
    const a = createBoundary();
    assert.notEqual(a, createBoundary());
    assert.doesNotThrow(() => buildMultipartBody([], a));
  });
});
