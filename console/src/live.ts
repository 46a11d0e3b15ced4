// Live updates: GET /api/v1/events read with fetch() streaming (the token goes in the Authorization
// header, never the URL). Views subscribe to a kind of event and re-fetch what changed, at most once
// per 500 ms each. A hub without the route (404) makes `fallback` subscribers poll every 2 s instead.
import { authHeaders } from './api.js';

export type LiveKind = 'deployment' | 'devices' | 'model';
export interface LiveEvent {
  kind: LiveKind;
  data: Record<string, unknown>;
}
type Listener = (event: LiveEvent | null) => void;

const listeners = new Set<Listener>();
let controller: AbortController | null = null;
export type LiveMode = 'off' | 'connecting' | 'stream' | 'polling';
let mode: LiveMode = 'off';
const modeListeners = new Set<(mode: LiveMode) => void>();

function setMode(next: LiveMode) {
  mode = next;
  for (const l of modeListeners) l(next);
}

/** Calls `listener` with the live mode now and whenever it changes; returns the unsubscribe. */
export function onMode(listener: (mode: LiveMode) => void): () => void {
  modeListeners.add(listener);
  listener(mode);
  return () => void modeListeners.delete(listener);
}
let pollTimer: ReturnType<typeof setInterval> | null = null;
let retryMs = 3000;
const SAFETY_REFETCH_MS = 30_000;

/** Parses complete SSE blocks out of `buffer`; returns the events and the unfinished rest. */
export function parseSse(buffer: string): {
  events: { event: string; data: string }[];
  rest: string;
  retry?: number;
} {
  const blocks = buffer.replace(/\r\n/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  const events: { event: string; data: string }[] = [];
  let retry: number | undefined;
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':') || line === '') continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return { events, rest, retry };
}

function emit(event: LiveEvent | null) {
  for (const listener of [...listeners]) listener(event);
}

async function connect(): Promise<void> {
  controller = new AbortController();
  const signal = controller.signal;
  if (mode !== 'polling') setMode('connecting');
  try {
    const response = await fetch('/api/v1/events', {
      headers: { ...authHeaders(), accept: 'text/event-stream' },
      signal,
    });
    if (response.status === 404) {
      startPolling();
      return;
    }
    if (response.status === 401 || response.status === 403) {
      // The token was revoked (or may not read): retrying cannot help. Views re-fetch once and
      // show the hub's answer; signing in again restarts the stream.
      setMode('off');
      emit(null);
      return;
    }
    if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
    setMode('stream');
    emit(null); // connected (again): whatever changed meanwhile is re-fetched
    // Behind a load balancer another hub instance may have made changes this stream never hears of
    // (docs/architecture.md, section 9): a slow re-fetch catches them.
    pollTimer ??= setInterval(() => emit(null), SAFETY_REFETCH_MS);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const parsed = parseSse(buffer);
      buffer = parsed.rest;
      if (parsed.retry) retryMs = parsed.retry;
      for (const e of parsed.events) {
        if (e.event !== 'deployment' && e.event !== 'devices' && e.event !== 'model') continue;
        try {
          emit({ kind: e.event, data: JSON.parse(e.data) as Record<string, unknown> });
        } catch {
          /* a malformed event is skipped */
        }
      }
    }
  } catch {
    if (signal.aborted) return;
  }
  if (signal.aborted || listeners.size === 0) return;
  setTimeout(() => {
    if (listeners.size > 0 && !signal.aborted) void connect();
  }, retryMs);
}

function startPolling() {
  setMode('polling');
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = setInterval(() => emit(null), 2000);
}

function stop() {
  controller?.abort();
  controller = null;
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = null;
  setMode('off');
}

/** Restarts the stream, e.g. after signing in with another token. */
export function restartLive() {
  stop();
  if (listeners.size > 0) void connect();
}

/**
 * Calls `refresh` when an event `matches` (or on (re)connection and polling ticks), at most once
 * per `minMs`: events in between are coalesced into one trailing call.
 */
export function subscribe(
  matches: (event: LiveEvent) => boolean,
  refresh: () => void,
  minMs = 500,
) {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fire = () => {
    timer = null;
    last = Date.now();
    refresh();
  };
  const listener: Listener = (event) => {
    if (event && !matches(event)) return;
    if (timer) return;
    const wait = Math.max(0, last + minMs - Date.now());
    timer = setTimeout(fire, wait);
  };
  listeners.add(listener);
  if (mode === 'off') void connect();
  return () => {
    listeners.delete(listener);
    if (timer) clearTimeout(timer);
    if (listeners.size === 0) stop();
  };
}
