import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configSchema } from '../src/config/app-config.js';

// The README is what a newcomer reads first: it must name every environment variable the hub
// reads and every route of the REST API, so that neither can be added without documenting it.

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const OPENAPI = JSON.parse(
  readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'),
) as { paths: Record<string, Record<string, unknown>> };

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * The routes the README's backticked spans name, e.g. `GET /health`,
 * `GET\|PUT /api/v1/groups/:name/desired` or `POST /api/v1/deployments/:id/rollback\|pause`
 * (alternatives in the methods and in the last path segment; `\|` is an escaped table pipe).
 */
function documentedRoutes(markdown: string): Set<string> {
  const routes = new Set<string>();
  for (const [, span] of markdown.matchAll(/`([^`\n]+)`/g)) {
    const match = /^([A-Z/\\|]+) (\/\S+)$/.exec(span);
    if (!match) continue;
    const methods = match[1].split(/\\\||\//).filter((m) => METHODS.includes(m));
    const path = match[2];
    const cut = path.lastIndexOf('/');
    const lasts = path.slice(cut + 1).split('\\|');
    for (const method of methods)
      for (const last of lasts) routes.add(`${method} ${path.slice(0, cut + 1)}${last}`);
  }
  return routes;
}

describe('the README', () => {
  it('reads route spans with alternatives as the table writes them', () => {
    const routes = documentedRoutes(
      '| `GET\\|PUT /api/v1/groups/:name/desired` | `POST /api/v1/deployments/:id/rollback\\|pause` | `POST/GET/DELETE /api/v1/tokens` |',
    );
    assert.deepEqual(
      [...routes].sort(),
      [
        'DELETE /api/v1/tokens',
        'GET /api/v1/groups/:name/desired',
        'GET /api/v1/tokens',
        'POST /api/v1/deployments/:id/pause',
        'POST /api/v1/deployments/:id/rollback',
        'POST /api/v1/tokens',
        'PUT /api/v1/groups/:name/desired',
      ].sort(),
    );
  });

  it('names every environment variable of src/config', () => {
    const missing = Object.keys(configSchema.shape).filter((key) => !README.includes(`\`${key}\``));
    assert.deepEqual(missing, [], 'variables missing from the configuration table');
  });

  it('lists every route of docs/openapi.json', () => {
    const documented = documentedRoutes(README);
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(OPENAPI.paths)) {
      const readme = path.replace(/\{(\w+)\}/g, ':$1');
      for (const method of Object.keys(operations).map((m) => m.toUpperCase())) {
        if (!documented.has(`${method} ${readme}`)) missing.push(`${method} ${readme}`);
      }
    }
    assert.deepEqual(missing, [], 'routes missing from the REST API table');
  });
});
