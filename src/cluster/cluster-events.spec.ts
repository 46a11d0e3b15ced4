import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readClusterMessage } from './cluster-events.js';

describe('readClusterMessage', () => {
  it('reads the events hubs send', () => {
    const revoked = { deviceIds: ['cam-1', 'cam-2'], reason: 'credentials rotated' };
    assert.deepEqual(
      readClusterMessage(
        JSON.stringify({ origin: 'a1', event: 'devices.revoked', payload: revoked }),
      ),
      { origin: 'a1', event: 'devices.revoked', payload: revoked },
    );
    assert.deepEqual(
      readClusterMessage(
        JSON.stringify({ origin: 'b2', event: 'token.revoked', payload: { tokenId: 't-1' } }),
      ),
      { origin: 'b2', event: 'token.revoked', payload: { tokenId: 't-1' } },
    );
  });

  it('ignores what is not JSON, unknown events and payloads of the wrong shape', () => {
    for (const text of [
      'not json',
      'null',
      '"devices.revoked"',
      JSON.stringify({ event: 'token.revoked', payload: { tokenId: 't' } }),
      JSON.stringify({ origin: 'a', event: 'device.renamed', payload: {} }),
      JSON.stringify({ origin: 'a', event: 'devices.revoked', payload: { deviceIds: 'cam-1' } }),
      JSON.stringify({
        origin: 'a',
        event: 'devices.revoked',
        payload: { deviceIds: [1], reason: 'x' },
      }),
      JSON.stringify({ origin: 'a', event: 'token.revoked', payload: null }),
    ])
      assert.equal(readClusterMessage(text), null, text);
  });
});
