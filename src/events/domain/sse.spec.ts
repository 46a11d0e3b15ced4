import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SSE_PING, SSE_START, sseMessage } from './sse.js';

describe('server-sent event text', () => {
  it('writes an event name and one data line of JSON, then a blank line', () => {
    assert.equal(
      sseMessage({ type: 'devices', data: { ids: ['cam-1', 'a\nb'], more: false } }),
      'event: devices\ndata: {"ids":["cam-1","a\\nb"],"more":false}\n\n',
    );
    assert.equal(SSE_START, 'retry: 3000\n\n');
    assert.equal(SSE_PING, ': ping\n\n');
  });
});
