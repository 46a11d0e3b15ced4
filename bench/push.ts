// Push throughput: a 500 MB model through the API into a real hub process, next to the machine's own
// `sha256sum` and `cp` of the same file. Prints MB/s and ratios; asserts nothing.
//   npm run bench:push [-- SIZE_MB]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubClient } from '../src/cli/hub-client.js';
import { spawnHub } from '../test/support/hub.js';
import { writeLargeOnnxModel } from '../test/support/onnx-models.js';
import { peakRssDuring, rssOf } from '../test/support/rss.js';

const sizeMb = Number(process.argv[2] ?? 500);
const bytes = sizeMb * 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'sentinel-bench-push-'));
const file = join(dir, 'model.onnx');

function timed(fn: () => void): number {
  const started = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}
const rate = (seconds: number) => bytes / 1024 / 1024 / seconds;

try {
  await writeLargeOnnxModel(file, bytes);
  // read once so every contender starts from a warm page cache
  execFileSync('cat', [file], { stdio: 'ignore' });
  const sha256sum = timed(() => execFileSync('sha256sum', [file], { stdio: 'ignore' }));
  const copy = timed(() => execFileSync('cp', [file, join(dir, 'copy.onnx')]));
  rmSync(join(dir, 'copy.onnx'));

  const hub = await spawnHub({ LOG_LEVEL: 'error' });
  try {
    const baseline = rssOf(hub.child.pid!);
    const started = process.hrtime.bigint();
    // The CLI's client: a streamed multipart body over node:http, as `sentinel model push` sends it.
    const client = new HubClient({ baseUrl: hub.url, token: hub.adminToken });
    const { peak } = await peakRssDuring(hub.child.pid!, () =>
      client.pushModel({
        name: 'bench',
        version: '1.0.0',
        modelType: 'object-detection',
        framework: 'onnx',
        stage: 'staging',
        file: { path: file, size: bytes },
      }),
    );
    const push = Number(process.hrtime.bigint() - started) / 1e9;
    const reference = Math.min(rate(sha256sum), rate(copy));
    console.log(`model size            ${sizeMb} MiB`);
    console.log(
      `sha256sum             ${rate(sha256sum).toFixed(0)} MiB/s (${sha256sum.toFixed(2)} s)`,
    );
    console.log(`cp                    ${rate(copy).toFixed(0)} MiB/s (${copy.toFixed(2)} s)`);
    console.log(
      `push through the API  ${rate(push).toFixed(0)} MiB/s (${push.toFixed(2)} s, client and hub on one machine)`,
    );
    console.log(`ratio push / min(sha256sum, cp)  ${(rate(push) / reference).toFixed(2)}`);
    console.log(
      `hub RSS growth during push       ${((peak - baseline) / 1024 / 1024).toFixed(1)} MiB`,
    );
  } finally {
    await hub.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
