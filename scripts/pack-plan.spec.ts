import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PackError,
  importSpecifiers,
  mergeDependencies,
  moduleClosure,
  packageNameOf,
  tarballDependencies,
} from './pack-plan.js';

describe('importSpecifiers', () => {
  it('finds static, re-export, side-effect and literal dynamic imports', () => {
    const source = [
      "import { Command } from 'commander';",
      "import semver from 'semver';",
      "import * as fs from 'node:fs';",
      "export * from './topics.js';",
      "export { a, b } from './ab.js';",
      "import './side-effect.js';",
      'import {',
      '  x,',
      "} from '@sentinel/broker/protocol';",
      "const later = await import('./lazy.js');",
      "const bar = createRequire(import.meta.url)('cli-progress');",
      "const progress = require('cli-progress');",
      "const text = 'import nothing from here';",
    ].join('\n');
    assert.deepEqual(importSpecifiers(source), [
      'commander',
      'semver',
      'node:fs',
      './topics.js',
      './ab.js',
      './side-effect.js',
      '@sentinel/broker/protocol',
      './lazy.js',
      'cli-progress',
    ]);
  });

  it('ignores dynamic imports of computed paths and repeats', () => {
    assert.deepEqual(
      importSpecifiers("import a from 'a';\nimport b from 'a';\nawait import(main.href);"),
      ['a'],
    );
  });
});

describe('packageNameOf', () => {
  it('keeps the scope and drops subpaths', () => {
    assert.equal(packageNameOf('@sinclair/typebox/compiler'), '@sinclair/typebox');
    assert.equal(packageNameOf('@sentinel/broker'), '@sentinel/broker');
    assert.equal(packageNameOf('yaml'), 'yaml');
    assert.equal(packageNameOf('p-retry/index.js'), 'p-retry');
  });
});

describe('moduleClosure', () => {
  const files: Record<string, string> = {
    'src/cli/main.js': "import { run } from './run.js';",
    'src/cli/run.js':
      "import { Command } from 'commander';\nimport { h } from './commands/help.js';\nimport 'node:fs';",
    'src/cli/commands/help.js':
      "import { rules } from '../../deployments/domain/rules.js';\nimport { Command } from 'commander';",
    'src/deployments/domain/rules.js': 'export const rules = 1;',
    'src/unrelated.js': "import '@nestjs/core';",
  };
  const read = (path: string) => files[path];

  it('follows relative imports only, and collects packages with their importers', () => {
    const closure = moduleClosure(['src/cli/main.js'], read);
    assert.deepEqual(closure.files, [
      'src/cli/main.js',
      'src/cli/run.js',
      'src/cli/commands/help.js',
      'src/deployments/domain/rules.js',
    ]);
    assert.deepEqual(
      [...closure.bare],
      [['commander', ['src/cli/run.js', 'src/cli/commands/help.js']]],
    );
  });

  it('names the importer of a missing file', () => {
    assert.throws(
      () => moduleClosure(['a.js'], (p) => (p === 'a.js' ? "import './gone.js';" : undefined)),
      (error: Error) => error instanceof PackError && /a\.js imports gone\.js/.test(error.message),
    );
  });

  it('refuses an import that leaves the packed folder', () => {
    assert.throws(
      () => moduleClosure(['a.js'], () => "import '../hub/server.js';"),
      /outside the packed folder/,
    );
  });
});

describe('tarballDependencies', () => {
  const bare = new Map([
    ['commander', ['run.js']],
    ['@sinclair/typebox/compiler', ['messages.js']],
    ['@sentinel/broker/protocol', ['agent.js']],
  ]);

  it('declares every imported package with its declared range', () => {
    assert.deepEqual(
      tarballDependencies(bare, {
        declared: { commander: '^14.0.3', '@sinclair/typebox': '0.34.52', unused: '^1.0.0' },
        bundled: { '@sentinel/broker': ['@sentinel/broker/protocol'] },
      }),
      { '@sinclair/typebox': '0.34.52', commander: '^14.0.3' },
    );
  });

  it('refuses a package that is imported but not declared, naming the importer', () => {
    assert.throws(
      () =>
        tarballDependencies(new Map([['@nestjs/core', ['src/cli/x.js']]]), {
          declared: { commander: '^14.0.3' },
        }),
      /src\/cli\/x\.js import @nestjs\/core, which package\.json does not declare/,
    );
  });

  it('refuses a bundled package imported by a path the bundle does not carry', () => {
    assert.throws(
      () =>
        tarballDependencies(new Map([['@sentinel/broker', ['agent.js']]]), {
          declared: { '@sentinel/broker': '^0.1.0' },
          bundled: { '@sentinel/broker': ['@sentinel/broker/protocol'] },
        }),
      /agent\.js import @sentinel\/broker; the tarball carries only @sentinel\/broker\/protocol/,
    );
  });
});

describe('mergeDependencies', () => {
  it('merges and sorts, and refuses two ranges for one package', () => {
    assert.deepEqual(
      mergeDependencies({ zod: '^4.0.0' }, { commander: '^14.0.3', zod: '^4.0.0' }),
      {
        commander: '^14.0.3',
        zod: '^4.0.0',
      },
    );
    assert.throws(() => mergeDependencies({ zod: '^4.0.0' }, { zod: '^3.0.0' }), PackError);
  });
});
