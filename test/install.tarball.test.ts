// The tools as a user gets them (issue 13): `npx sentinel` and `npx sentinel-agent` from the
// checkout, and the packed tarballs installed globally into a scratch prefix, run from a folder
// outside the repository against a real hub process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { packTools } from '../scripts/pack-tools.js';
import { spawnHub, type HubProcess } from './support/hub.js';
import { fastModel } from './support/onnx-models.js';
import type { ProcessResult } from './support/process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NPM_ENV = {
  ...process.env,
  // onnxruntime-node's install script would fetch GPU libraries; its CPU backend is in the package.
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

/** A command run to completion in `cwd`, without blocking the event loop. */
function runIn(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<ProcessResult>((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npx from the checkout', () => {
  for (const bin of ['sentinel', 'sentinel-agent']) {
    it(`npx --no-install ${bin} --help runs the linked workspace bin`, async () => {
      assert.ok(existsSync(join(ROOT, 'node_modules/.bin', bin)), `node_modules/.bin/${bin}`);
      const result = await runIn(ROOT, 'npx', ['--no-install', bin, '--help'], {
        ...NPM_ENV,
        npm_config_offline: 'true',
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Usage: ${bin} `));
    });
  }
});

describe('the packed CLI and agent, installed globally without the repository', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'sentinel-install-'));
  const prefix = join(scratch, 'prefix');
  const work = join(scratch, 'work');
  const modules = join(prefix, 'lib/node_modules/@sentinel');
  let hub: HubProcess;
  let tarballs: string[];

  const tool = (bin: string, args: string[]) =>
    runIn(work, join(prefix, 'bin', bin), args, {
      // Only the installed tools and this node: no checkout, no repository node_modules.
      PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter),
      HOME: scratch,
      SENTINEL_URL: hub.url,
      SENTINEL_TOKEN: hub.adminToken,
    });

  before(async () => {
    mkdirSync(work);
    tarballs = packTools(join(scratch, 'tarballs'));
    // The registry for packuments the cache lacks; the tarballs themselves come from the cache.
    const install = await runIn(
      scratch,
      'npm',
      ['install', '--global', '--prefix', prefix, '--prefer-offline', ...tarballs],
      NPM_ENV,
    );
    assert.equal(install.code, 0, install.stderr);
    hub = await spawnHub();
    writeFileSync(join(scratch, 'detector.onnx'), fastModel());
  });
  after(async () => {
    await hub?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('packs two tarballs that carry no hub server code and no broker engine', () => {
    assert.deepEqual(tarballs.map((t) => t.split('/').pop()).sort(), [
      'sentinel-cli-0.1.0.tgz',
      'sentinel-edge-agent-0.1.0.tgz',
    ]);
    // Besides the CLI itself, only pure domain rules it shares with the hub (no services, no I/O).
    const files = (readdirSync(join(modules, 'cli/dist/src'), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.js'))
      .map((f) => f.split('\\').join('/'));
    const foreign = files.filter((f) => !f.startsWith('cli/') && !/^[a-z-]+\/domain\//.test(f));
    assert.deepEqual(foreign, [], 'hub code outside a domain folder');
    for (const server of ['@nestjs', 'typeorm', '@electric-sql']) {
      assert.ok(!existsSync(join(modules, 'cli/node_modules', server)), server);
      assert.ok(!existsSync(join(modules, 'edge-agent/node_modules', server)), server);
    }
    assert.ok(
      existsSync(join(modules, 'edge-agent/node_modules/@sentinel/broker/dist/protocol.js')),
    );
    assert.ok(!existsSync(join(modules, 'edge-agent/node_modules/aedes')));
  });

  it('sentinel --help', async () => {
    const result = await tool('sentinel', ['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: sentinel /);
    assert.match(result.stdout, /model/);
  });

  it('sentinel model push and model list against the hub', async () => {
    const push = await tool('sentinel', [
      'model',
      'push',
      join(scratch, 'detector.onnx'),
      '--name',
      'installed-detector',
      '--version',
      '1.2.3',
      '--model-type',
      'object-detection',
      '--framework',
      'onnx',
      '--stage',
      'staging',
      '--json',
    ]);
    assert.equal(push.code, 0, push.stderr);
    const list = await tool('sentinel', ['model', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /installed-detector/);
    assert.match(list.stdout, /1\.2\.3/);
  });

  it('sentinel-agent --help', async () => {
    const result = await tool('sentinel-agent', ['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: sentinel-agent /);
    assert.match(result.stdout, /SENTINEL_/);
  });

  it('sentinel-agent refuses a bad configuration with exit code 2 and one line', async () => {
    const result = await tool('sentinel-agent', []);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^sentinel-agent: invalid configuration: /);
    assert.equal(result.stderr.trim().split('\n').length, 1);
  });
});
