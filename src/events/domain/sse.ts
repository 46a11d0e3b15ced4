import type { LiveEvent } from './event-coalescer.js';

/** How long a client waits before reconnecting, said at the start of every stream. */
export const RETRY_MS = 3000;

/** The first bytes of a stream: the reconnection delay. */
export const SSE_START = `retry: ${RETRY_MS}\n\n`;

/** A comment line that keeps the connection (and proxies) from going idle. */
export const SSE_PING = ': ping\n\n';

/** One event in the text/event-stream format (JSON holds no raw line breaks: one data line). */
export function sseMessage(event: LiveEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}
