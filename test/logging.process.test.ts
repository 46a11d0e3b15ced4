// What the hub process writes to its log, as an operator reads it: request lines without headers,
// successes only at debug, and the shutdown on SIGTERM.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { api, spawnHub, type HubProcess } from './support/hub.js';

interface LogLine {
  level: number;
  msg: string;
  req?: Record<string, unknown>;
  res?: { statusCode: number };
  [key: string]: unknown;
}

/** The JSON lines of the log, and the others (the hub's plain start-up and shutdown lines). */
function parseLog(output: string): { json: LogLine[]; plain: string[] } {
  const json: LogLine[] = [];
  const plain: string[] = [];
  for (const line of output.split('\n').filter((l) => l.trim() !== '')) {
    if (line.startsWith('{')) json.push(JSON.parse(line) as LogLine);
    else plain.push(line);
  }
  return { json, plain };
}

/** The same mix of calls for each hub: three successes, a bad token, an unknown model, a probe. */
async function makeRequests(hub: HubProcess): Promise<void> {
  for (let i = 0; i < 3; i++) assert.equal((await api(hub)('/api/v1/models')).status, 200);
  assert.equal((await api(hub, 'not-a-token')('/api/v1/models')).status, 401);
  const missing = '/api/v1/models/9b2f4c1e-3a5d-4e6f-8a7b-1c2d3e4f5a6b';
  assert.equal((await api(hub)(missing)).status, 404);
  assert.equal((await fetch(`${hub.url}/health`)).status, 200);
}

async function logOf(level: string): Promise<string> {
  const hub = await spawnHub({ LOG_LEVEL: level });
  try {
    await makeRequests(hub);
  } finally {
    await hub.stop(); // SIGTERM
  }
  return hub.output();
}

const requestLines = (lines: LogLine[]) => lines.filter((line) => line.req !== undefined);

describe('hub log', () => {
  let info: string;
  let debug: string;

  before(async () => {
    info = await logOf('info');
    debug = await logOf('debug');
  });

  it('at info: one line per refused request, none for successes or probes, no headers', () => {
    const { json } = parseLog(info);
    const lines = requestLines(json);
    assert.deepEqual(
      lines.map((line) => [line.level, line.res?.statusCode]),
      [
        [30, 401],
        [30, 404],
      ],
    );
    assert.match(lines[0]!.msg, /^GET \/api\/v1\/models 401 in \d+ ms$/);
    assert.match(lines[1]!.msg, /^GET \/api\/v1\/models\/9b2f4c1e-\S+ 404 in \d+ ms$/);
    assert.equal(lines[1]!.actor, 'token:bootstrap-admin');
    for (const line of lines) {
      assert.deepEqual(Object.keys(line.req!).sort(), ['id', 'method', 'url']);
      assert.deepEqual(Object.keys(line.res!), ['statusCode']);
    }
    assert.doesNotMatch(info, /"headers"|authorization|user-agent/i);
  });

  it('at debug: every request but the probes, once each, still without headers', () => {
    const { json } = parseLog(debug);
    const lines = requestLines(json);
    assert.deepEqual(
      lines.map((line) => [line.level, line.res?.statusCode]),
      [
        [20, 200],
        [20, 200],
        [20, 200],
        [30, 401],
        [30, 404],
      ],
    );
    assert.ok(lines.every((line) => !String(line.req!.url).startsWith('/health')));
    assert.doesNotMatch(debug, /"headers"|authorization|user-agent/i);
  });

  it('logs the shutdown on SIGTERM, like the start-up lines', () => {
    for (const output of [info, debug]) {
      const { json, plain } = parseLog(output);
      assert.ok(json.length > 0);
      assert.ok(
        plain.every((line) => line.startsWith('sentinel-hub')),
        `only the hub's own plain lines: ${plain.join('\n')}`,
      );
      const listening = plain.findIndex((line) => line.startsWith('sentinel-hub listening on'));
      const received = plain.indexOf('sentinel-hub: SIGTERM received, shutting down');
      const stopped = plain.indexOf('sentinel-hub: stopped');
      assert.ok(listening >= 0 && received > listening && stopped > received, plain.join('\n'));
    }
  });
});
