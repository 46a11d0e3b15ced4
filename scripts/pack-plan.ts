// Decisions of scripts/pack-tools.ts, which packs the `sentinel` CLI and the `sentinel-agent` as
// tarballs that install without the repository: which compiled files a tool loads (the closure of
// its relative imports), and which packages its tarball must declare (every bare import, checked
// against the dependencies its workspace package.json declares). Pure: file reads are passed in.
import { posix } from 'node:path';

export class PackError extends Error {}

// `import ... from 'x'`, `export ... from 'x'`, `import 'x'`, and `import('x')` or `require('x')`
// with a literal (a lazily loaded module). tsc erases type-only imports, so in compiled JavaScript
// these are exactly the runtime imports.
const SPECIFIER =
  /(?:^|[\n;])\s*(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]|(?:^|[\n;])\s*import\s*['"]([^'"]+)['"]|\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The module specifiers a compiled ES module imports at run time, in order, without repeats. */
export function importSpecifiers(source: string): string[] {
  const found = new Set<string>();
  for (const match of source.matchAll(SPECIFIER)) found.add(match[1] ?? match[2] ?? match[3]!);
  return [...found];
}

/** The package a bare specifier names: `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

export interface ModuleClosure {
  /** Every file reached, as posix paths relative to the root the entries are relative to. */
  files: string[];
  /** Bare specifiers (packages) -> the files that import them. */
  bare: Map<string, string[]>;
}

/**
 * The files reached from `entries` through relative imports; `read` returns a file's source or
 * undefined when it does not exist. Node built-ins (`node:` prefix) are left out.
 */
export function moduleClosure(
  entries: string[],
  read: (path: string) => string | undefined,
): ModuleClosure {
  const files: string[] = [];
  const bare = new Map<string, string[]>();
  const seen = new Set<string>();
  const visit = (path: string, from?: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    if (path.startsWith('../')) {
      throw new PackError(`${from} imports ${path}, outside the packed folder`);
    }
    const source = read(path);
    if (source === undefined) {
      throw new PackError(
        from ? `${from} imports ${path}, which does not exist` : `${path} does not exist`,
      );
    }
    files.push(path);
    for (const specifier of importSpecifiers(source)) {
      if (specifier.startsWith('node:')) continue;
      if (specifier.startsWith('.')) {
        visit(posix.normalize(posix.join(posix.dirname(path), specifier)), path);
      } else {
        const importers = bare.get(specifier) ?? [];
        importers.push(path);
        bare.set(specifier, importers);
      }
    }
  };
  for (const entry of entries) visit(posix.normalize(entry));
  return { files, bare };
}

export interface DependencyRules {
  /** The dependencies the workspace package.json declares (name -> range). */
  declared: Record<string, string>;
  /** Packages the tarball carries inside itself, with the only specifiers that may name them. */
  bundled?: Record<string, string[]>;
}

/**
 * The `dependencies` of a packed tarball: every package its files import, with the declared
 * range. A package imported but not declared, or a bundled package imported by a path the bundle
 * does not carry, is an error that names the importing files.
 */
export function tarballDependencies(
  bare: Map<string, string[]>,
  rules: DependencyRules,
): Record<string, string> {
  const dependencies: Record<string, string> = {};
  const problems: string[] = [];
  for (const [specifier, importers] of [...bare].sort(([a], [b]) => a.localeCompare(b))) {
    const name = packageNameOf(specifier);
    const carried = rules.bundled?.[name];
    if (carried) {
      if (!carried.includes(specifier)) {
        problems.push(
          `${importers.join(', ')} import ${specifier}; the tarball carries only ${carried.join(', ')}`,
        );
      }
      continue;
    }
    const range = rules.declared[name];
    if (range === undefined) {
      problems.push(
        `${importers.join(', ')} import ${specifier}, which package.json does not declare`,
      );
      continue;
    }
    dependencies[name] = range;
  }
  if (problems.length > 0) throw new PackError(problems.join('\n'));
  return dependencies;
}

/** Dependency maps merged; the same package with two different ranges is an error. */
export function mergeDependencies(...maps: Record<string, string>[]): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const map of maps) {
    for (const [name, range] of Object.entries(map)) {
      if (merged[name] !== undefined && merged[name] !== range) {
        throw new PackError(`${name} is declared as ${merged[name]} and as ${range}`);
      }
      merged[name] = range;
    }
  }
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
}
