// Packs the `sentinel` CLI and the `sentinel-agent` as tarballs that install on a machine without
// the repository: `npm run pack:tools` (after `npm run build`) writes dist/pack/*.tgz.
//
// Each tarball is staged in a scratch folder from the compiled code and then `npm pack`ed:
// - @sentinel/cli: bin/sentinel.js and the compiled files the CLI loads (src/cli and the pure
//   domain files it imports), with the packages they import. No hub server code.
// - @sentinel/edge-agent: the compiled agent, with @sentinel/broker's protocol part (topics,
//   message schemas, signing) carried inside the tarball as a bundled dependency, since
//   @sentinel/broker is a workspace package that is not published. The broker engine (Aedes,
//   Redis, ws) stays out.
// The files are found by following the compiled imports (scripts/pack-plan.ts), and every package
// they import must be declared by the workspace's package.json, so a stray import of hub code or
// of an undeclared package fails the packing with the importing file named.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PackError, mergeDependencies, moduleClosure, tarballDependencies } from './pack-plan.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BROKER = '@sentinel/broker';
const BROKER_PARTS = { './protocol': 'protocol.js', './signing': 'signing/index.js' };

interface Manifest {
  name: string;
  version: string;
  description?: string;
  license?: string;
  engines?: Record<string, string>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

const readManifest = (dir: string) =>
  JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest;
const reader = (base: string) => (path: string) => {
  const file = join(base, path);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
};
const copyFiles = (from: string, to: string, files: string[]) => {
  for (const file of files) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(join(from, file), join(to, file));
  }
};
const writeJson = (path: string, value: unknown) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
};

/**
 * The manifest of a staged package: the workspace's name, version and bin with the computed
 * dependencies. No type declarations are packed, so `types` is left out.
 */
function stagedManifest(source: Manifest, extra: Partial<Manifest>): Manifest {
  const root = readManifest('.');
  return {
    name: source.name,
    version: source.version,
    description: source.description,
    type: 'module',
    license: source.license ?? root.license,
    engines: source.engines ?? root.engines,
    bin: source.bin,
    ...extra,
  };
}

function stageCli(stage: string): void {
  const manifest = readManifest('cli');
  const closure = moduleClosure(['src/cli/main.js'], reader(join(ROOT, 'dist')));
  const dependencies = tarballDependencies(closure.bare, { declared: manifest.dependencies ?? {} });
  copyFiles(join(ROOT, 'dist'), join(stage, 'dist'), closure.files);
  cpSync(join(ROOT, 'cli/bin'), join(stage, 'bin'), { recursive: true });
  writeJson(
    join(stage, 'package.json'),
    stagedManifest(manifest, { files: ['bin', 'dist'], dependencies }),
  );
}

function stageAgent(stage: string): void {
  const manifest = readManifest('edge-agent');
  const broker = readManifest('broker');
  const agentDist = join(ROOT, 'edge-agent/dist');
  const closure = moduleClosure(['bin/sentinel-agent.js', 'index.js'], reader(agentDist));
  const brokerClosure = moduleClosure(
    Object.values(BROKER_PARTS),
    reader(join(ROOT, 'broker/dist')),
  );
  const brokerDependencies = tarballDependencies(brokerClosure.bare, {
    declared: broker.dependencies ?? {},
  });
  const agentDependencies = tarballDependencies(closure.bare, {
    declared: manifest.dependencies ?? {},
    bundled: { [BROKER]: Object.keys(BROKER_PARTS).map((part) => BROKER + part.slice(1)) },
  });

  copyFiles(agentDist, join(stage, 'dist'), closure.files);
  for (const dir of ['bin', 'deploy']) {
    cpSync(join(ROOT, 'edge-agent', dir), join(stage, dir), { recursive: true });
  }
  cpSync(join(ROOT, 'edge-agent/README.md'), join(stage, 'README.md'));
  const brokerStage = join(stage, 'node_modules', BROKER);
  copyFiles(join(ROOT, 'broker/dist'), join(brokerStage, 'dist'), brokerClosure.files);
  writeJson(join(brokerStage, 'package.json'), {
    name: BROKER,
    version: broker.version,
    description: `${broker.description} (protocol and signing only, bundled with the edge agent)`,
    type: 'module',
    license: broker.license ?? readManifest('.').license,
    exports: Object.fromEntries(
      Object.entries(BROKER_PARTS).map(([part, file]) => [part, `./dist/${file}`]),
    ),
    // No `dependencies` here: npm would take the packages a bundled package depends on for part
    // of the bundle and leave them empty. The agent's manifest declares them instead; Node finds
    // them in the agent's node_modules, one folder up.
  });
  writeJson(
    join(stage, 'package.json'),
    stagedManifest(manifest, {
      exports: { '.': './dist/index.js' },
      main: './dist/index.js',
      files: ['bin', 'dist', 'deploy'],
      // The broker's own dependencies sit beside it, in the agent's node_modules.
      dependencies: {
        ...mergeDependencies(agentDependencies, brokerDependencies),
        [BROKER]: broker.version,
      },
      bundleDependencies: [BROKER],
    }),
  );
}

/** Stages and packs both tools into `out`; returns the tarball paths. */
export function packTools(out: string): string[] {
  for (const dist of ['dist/src/cli/main.js', 'edge-agent/dist/bin/sentinel-agent.js']) {
    if (!existsSync(join(ROOT, dist))) throw new PackError(`${dist} is missing: run npm run build`);
  }
  mkdirSync(out, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'sentinel-pack-'));
  try {
    const tarballs: string[] = [];
    for (const [name, stage] of [
      ['cli', stageCli],
      ['edge-agent', stageAgent],
    ] as const) {
      const dir = join(scratch, name);
      stage(dir);
      cpSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'));
      const packed = JSON.parse(
        execFileSync('npm', ['pack', '--json', '--pack-destination', out], {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, npm_config_loglevel: 'error' },
        }),
      ) as { filename: string }[];
      tarballs.push(join(out, packed[0]!.filename));
    }
    return tarballs;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outIndex = process.argv.indexOf('--out');
  const out = resolve(outIndex > 0 ? process.argv[outIndex + 1]! : join(ROOT, 'dist/pack'));
  try {
    for (const tarball of packTools(out)) process.stdout.write(`${tarball}\n`);
  } catch (error) {
    if (!(error instanceof PackError)) throw error;
    process.stderr.write(`pack-tools: ${error.message}\n`);
    process.exitCode = 1;
  }
}
