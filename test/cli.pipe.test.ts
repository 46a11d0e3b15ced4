// `sentinel ... | head -1`: the reader closes the pipe early, which must end the CLI quietly
// (exit 0, no EPIPE stack trace), as with other command-line tools.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

const BIN = new URL('../src/cli/main.js', import.meta.url).pathname;

describe('sentinel writing into a closed pipe', () => {
  it('exits 0 without a stack trace when the reader stops reading', async () => {
    const child = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before the CLI writes, as `head` does once it has its line.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
