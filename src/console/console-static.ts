// Serves the web console (dist/console/, built by `npm run build` from console/) at /: its files,
// and index.html for its page paths, so a reload of /deployments/<id> works. /api, /docs, /health
// and /metrics stay the hub's. Without a build, / says how to make one.
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { consoleFile } from './console-files.js';

/** dist/console beside dist/src (this file runs as dist/src/console/console-static.js). */
export const CONSOLE_ROOT = fileURLToPath(new URL('../../console', import.meta.url));

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sentinel Model Hub</title></head>
<body><main><h1>Sentinel Model Hub</h1><p>The web console is not built. Run <code>npm run build</code>
(it builds the console into <code>dist/console/</code>) and restart the hub.</p>
<p>The API is under <a href="/docs">/docs</a>.</p></main></body></html>`;

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function consoleMiddleware(root = CONSOLE_ROOT) {
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return next();
    const path = (request.url ?? '/').split('?', 1)[0]!;
    const answer = consoleFile(root, path, isFile);
    if (!answer) return next();
    let size: number;
    try {
      size = statSync(answer.file).size;
    } catch {
      // index.html missing: the console was never built.
      response.statusCode = 404;
      response.setHeader('Content-Type', 'text/html; charset=utf-8');
      response.setHeader('Cache-Control', 'no-cache');
      response.end(request.method === 'HEAD' ? undefined : NOT_BUILT);
      return;
    }
    response.statusCode = 200;
    response.setHeader('Content-Type', answer.contentType);
    response.setHeader('Content-Length', size);
    response.setHeader('Cache-Control', answer.cacheControl);
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    const stream = createReadStream(answer.file);
    stream.on('error', () => response.destroy());
    stream.pipe(response);
  };
}
