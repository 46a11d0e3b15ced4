// Supported Node versions (issue 13): what package.json's `engines` promises must be accepted by
// every installed package, so `npm ci` prints no EBADENGINE warning on any supported Node.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const readJson = <T>(path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as T;

interface Manifest {
  engines?: { node?: string };
}
interface Lock {
  packages: Record<string, Manifest & { dev?: boolean }>;
}

const supported = readJson<Manifest>('package.json').engines?.node ?? '';

describe('supported Node versions', () => {
  it('are Node 20.19+, 22 and 24 lines', () => {
    for (const version of ['20.19.0', '22.13.0', '24.11.0', '24.21.0']) {
      assert.ok(semver.satisfies(version, supported), `${version} is in ${supported}`);
    }
  });

  it('are accepted by every package in the lock file, dev tools included', () => {
    const refusing = Object.entries(readJson<Lock>('package-lock.json').packages)
      .filter(([, entry]) => entry.engines?.node !== undefined)
      .filter(([, entry]) => !semver.subset(supported, entry.engines!.node!))
      .map(
        ([path, entry]) => `${path.replace(/^.*node_modules\//, '')} wants ${entry.engines!.node}`,
      );
    assert.deepEqual(refusing, [], `engines ${supported}`);
  });

  it('are the same for the packed CLI and agent', () => {
    for (const workspace of ['cli', 'edge-agent']) {
      assert.equal(readJson<Manifest>(`${workspace}/package.json`).engines?.node, supported);
    }
  });

  it('include the Dockerfile node image, the current LTS (24)', () => {
    const images = [
      ...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^FROM node:(\d+)/gm),
    ];
    assert.ok(images.length > 0);
    for (const [, major] of images) {
      assert.equal(major, '24');
      assert.ok(semver.intersects(`${major}.x`, supported));
    }
  });
});
