import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The broker engine's packages: the agent speaks the MQTT contract (@sentinel/broker/protocol,
// /signing) and must not load the broker itself (the device has none of these installed).
const ENGINE = [
  'aedes',
  'aedes-persistence',
  'aedes-persistence-redis',
  'mqemitter',
  'mqemitter-redis',
  'ws',
  'ioredis',
];

describe('the agent runtime import graph', () => {
  it('loads none of the broker engine packages', () => {
    const entry = fileURLToPath(new URL('./index.js', import.meta.url));
    // A fresh process, so that nothing this test runner loaded counts; the CommonJS packages
    // (all of the engine's) land in require.cache.
    const script = `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(entry)});
      const require = createRequire(import.meta.url);
      const names = Object.keys(require.cache)
        .map((k) => (k.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//) ?? [])[1])
        .filter(Boolean);
      process.stdout.write(JSON.stringify([...new Set(names)]));`;
    const loaded = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }),
    ) as string[];
    assert.ok(loaded.includes('mqtt'), `the probe sees CommonJS packages: ${loaded.join(' ')}`);
    assert.deepEqual(
      loaded.filter((name) => ENGINE.includes(name)),
      [],
    );
  });
});
