// Which file of the console build answers a request, and how it may be cached: a pure decision,
// apart from the filesystem lookups it is given.
import { extname, join, normalize, sep } from 'node:path';

/** Paths that belong to the hub, never to the console. */
const HUB_PREFIXES = ['/api', '/docs', '/docs-json', '/health', '/metrics'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface ConsoleAnswer {
  file: string;
  contentType: string;
  cacheControl: string;
}

export function isHubPath(path: string): boolean {
  return HUB_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
}

/**
 * The file for `path` under `root` (the console build): an existing file as itself (hashed assets
 * under /assets/ cached for a year, anything else revalidated), a page path of the console (no file
 * extension) as index.html, else null (the hub's 404).
 */
export function consoleFile(
  root: string,
  rawPath: string,
  isFile: (path: string) => boolean,
): ConsoleAnswer | null {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (isHubPath(path) || path.includes('\0')) return null;
  const file = normalize(join(root, path));
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  const ext = extname(path);
  if (path !== '/' && isFile(file)) {
    return {
      file,
      contentType: TYPES[ext] ?? 'application/octet-stream',
      cacheControl: path.startsWith('/assets/')
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
    };
  }
  if (ext !== '' && path !== '/') return null;
  return { file: join(root, 'index.html'), contentType: TYPES['.html']!, cacheControl: 'no-cache' };
}
