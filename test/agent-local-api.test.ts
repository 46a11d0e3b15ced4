// Issue 15 item 9: the agent's local API against a web page in the device's browser. Real HTTP
// requests with node:http (fetch does not let a caller set Host): a foreign Host (DNS rebinding)
// gets 403, a body a page may send without a CORS preflight (text/plain, forms) gets 415.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { AgentHarness } from './support/agent-harness.js';

function call(
  base: string,
  path: string,
  options: { method?: string; host?: string; type?: string; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (options.host !== undefined) headers.host = options.host;
    if (options.type !== undefined) headers['content-type'] = options.type;
    const req = request(
      new URL(path, base),
      { method: options.method ?? 'GET', headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('edge agent local API: Host and Content-Type', () => {
  let h: AgentHarness;
  before(async () => {
    h = await new AgentHarness().start();
  });
  after(() => h.stop());

  it('answers only its own Host names (no DNS rebinding)', async () => {
    const agent = await h.startAgent('api-a', 'api-a');
    const base = agent.apiUrl!;
    const port = new URL(base).port;
    const foreign = await call(base, '/v1/status', { host: `attacker.example:${port}` });
    assert.equal(foreign.status, 403, foreign.body);
    assert.match(foreign.body, /SENTINEL_API_HOSTS/);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, 'localhost']) {
      assert.equal((await call(base, '/v1/status', { host })).status, 200, host);
    }
    const rebound = await call(base, '/v1/quality', {
      method: 'POST',
      host: `rebound.example:${port}`,
      type: 'application/json',
      body: '{"map": 0.5}',
    });
    assert.equal(rebound.status, 403);
  });

  it('answers a name listed in SENTINEL_API_HOSTS', async () => {
    const agent = await h.startAgent('api-b', 'api-b', { SENTINEL_API_HOSTS: 'agent' });
    const port = new URL(agent.apiUrl!).port;
    assert.equal((await call(agent.apiUrl!, '/v1/status', { host: `agent:${port}` })).status, 200);
  });

  it('takes POST bodies only as application/json (no cross-site form or text/plain POST)', async () => {
    const agent = await h.startAgent('api-c', 'api-c');
    const post = (type: string | undefined) =>
      call(agent.apiUrl!, '/v1/quality', { method: 'POST', type, body: '{"map": 0.1}' });
    for (const type of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      undefined,
      'application/jsonp',
    ]) {
      const answer = await post(type);
      assert.equal(answer.status, 415, `${type}: ${answer.body}`);
      assert.match(answer.body, /application\/json/);
    }
    assert.equal((await post('application/json')).status, 204);
    assert.equal((await post('Application/JSON; charset=utf-8')).status, 204);
    assert.equal(agent.status().inferences, 0);
  });
});
