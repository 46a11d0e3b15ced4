import type { Duplex } from 'node:stream';

/**
 * Watches the MQTT fixed headers going through a connection and calls `onOversize` (once) as soon
 * as a packet announces a remaining length above `maxRemainingLength`, or a malformed length.
 *
 * MQTT allows packets of up to 256 MiB and the MQTT parser buffers a packet whole before the
 * broker's hooks can see it; this stops a client at the header instead.
 *
 * It must be attached AFTER the broker's `readable` listener: a `data` listener then does not
 * change the flow, it sees each chunk when the broker reads it, before the broker parses it.
 */
export function watchPacketSizes(
  stream: Duplex,
  maxRemainingLength: number,
  onOversize: (announced: number) => void,
): void {
  let state: 'type' | 'length' | 'body' = 'type';
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let toSkip = 0;

  const trip = (announced: number) => {
    stream.removeListener('data', onData);
    onOversize(announced);
  };

  function onData(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let i = 0;
    while (i < buf.length) {
      if (state === 'type') {
        i += 1;
        state = 'length';
        length = 0;
        multiplier = 1;
        lengthBytes = 0;
      } else if (state === 'length') {
        const byte = buf[i++];
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        lengthBytes += 1;
        if (length > maxRemainingLength) return trip(length);
        if (byte & 0x80) {
          // The remaining length has at most 4 bytes.
          if (lengthBytes === 4) return trip(Number.POSITIVE_INFINITY);
        } else {
          toSkip = length;
          state = toSkip > 0 ? 'body' : 'type';
        }
      } else {
        const step = Math.min(toSkip, buf.length - i);
        i += step;
        toSkip -= step;
        if (toSkip === 0) state = 'type';
      }
    }
  }

  stream.on('data', onData);
}
