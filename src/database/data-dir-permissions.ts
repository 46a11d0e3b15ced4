import { chmodSync, existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * DATA_DIR holds the database (token and credential hashes among it) and the artifacts: only the
 * hub's user may read it, whatever umask the hub was started with. The process umask is set to 077,
 * and every entry is walked and tightened to 0700/0600: before the hub opens anything, and again once
 * the database is open (PGlite sets its files' modes itself, 0666 for most). The folder's own 0700 is
 * what keeps others out of files PGlite creates later. Returns how many entries it changed.
 */
export function restrictDataDir(dataDir: string): number {
  process.umask(0o077);
  if (!existsSync(dataDir)) return 0;
  let changed = 0;
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) {
      chmodSync(path, stat.mode & 0o7700);
      changed++;
    }
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
  };
  walk(dataDir);
  return changed;
}
