import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { watchPacketSizes } from './packet-size-guard.js';

function encodeLength(length: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return bytes;
}

function packet(type: number, bodyLength: number): Buffer {
  return Buffer.concat([
    Buffer.from([type, ...encodeLength(bodyLength)]),
    Buffer.alloc(bodyLength, 7),
  ]);
}

/** Feeds `data` in chunks to a stream read the way aedes reads it; returns what the guard reported. */
async function feed(data: Buffer, chunkSize: number, max: number) {
  const stream = new PassThrough();
  const seen: Buffer[] = [];
  stream.on('readable', () => {
    let chunk: Buffer | null;
    while ((chunk = stream.read() as Buffer | null) !== null) seen.push(chunk);
  });
  const trips: number[] = [];
  watchPacketSizes(stream, max, (announced) => trips.push(announced));
  for (let i = 0; i < data.length; i += chunkSize) {
    stream.write(data.subarray(i, i + chunkSize));
    await new Promise((resolve) => setImmediate(resolve));
  }
  stream.end();
  return { trips, read: Buffer.concat(seen) };
}

describe('watchPacketSizes', () => {
  const stream = Buffer.concat([
    packet(0x10, 30), // CONNECT
    packet(0x30, 0), // PUBLISH with an empty body
    packet(0x32, 127), // one length byte, largest
    packet(0x32, 128), // two length bytes, smallest
    packet(0xc0, 0), // PINGREQ
    packet(0x30, 1000), // exactly the limit
  ]);

  for (const chunkSize of [1, 2, 3, 7, 64, 5000]) {
    it(`lets packets up to the limit through, in ${chunkSize}-byte chunks, without taking the data`, async () => {
      const { trips, read } = await feed(stream, chunkSize, 1000);
      assert.deepEqual(trips, []);
      // The guard only observes: the reader still gets every byte.
      assert.deepEqual(read, stream);
    });
  }

  for (const chunkSize of [1, 2, 4096]) {
    it(`reports the first packet over the limit at its header (${chunkSize}-byte chunks)`, async () => {
      const data = Buffer.concat([packet(0x30, 10), Buffer.from([0x30, ...encodeLength(1001)])]);
      const { trips } = await feed(data, chunkSize, 1000);
      assert.equal(trips.length, 1);
      assert.ok(trips[0] >= 1001, `${trips[0]}`);
    });
  }

  it('reports a 268 MB header and a malformed 5-byte length', async () => {
    assert.deepEqual(
      (await feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]), 1, 2 ** 27)).trips,
      [268_435_455],
    );
    const malformed = Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]);
    assert.deepEqual((await feed(malformed, 6, 2 ** 40)).trips, [Number.POSITIVE_INFINITY]);
  });
});
