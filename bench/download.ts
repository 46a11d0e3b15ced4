// Agent download throughput: a 500 MB model (a real ONNX file from writeLargeOnnxModel) through the
// agent's ModelCache from a loopback HTTP server in another process (Content-Length, ETag, Range),
// with sha256, size and signature checked on the way (message signature, DSSE attestation, none),
// next to (a) `sha256sum` of the same file and (b) a plain download of it to disk, no hashing.
// Prints MiB/s, ratios and the agent process's peak RSS; asserts nothing.
//   npm run bench:download [-- SIZE_MB [RUNS]]
// The cache fsyncs the model before renaming it into place; (b) is timed with and without an
// fsync, and the ratio uses the fsynced figure (same durability). Each figure is the median of
// RUNS (default 5); the page cache is warm for every contender.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { createServer, get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ModelRef } from '@sentinel/broker';
import { parseTrustedKeys } from '@sentinel/broker/signing';
import { ModelCache } from '@sentinel/edge-agent';
import { writeLargeOnnxModel } from '../test/support/onnx-models.js';
import {
  attestDigestAsDsseBundle,
  generateSigningKey,
  signFileAsBundle,
} from '../test/support/signing.js';

const MiB = 1024 * 1024;

if (process.argv[2] === '--serve') {
  await serve(process.argv[3], process.argv[4]);
} else {
  await main(Number(process.argv[2] ?? 500), Number(process.argv[3] ?? 5));
}

/** The "hub": streams one file at /model with Content-Length, ETag (quoted sha256) and Range. */
async function serve(file: string, sha256: string): Promise<void> {
  const { size } = await stat(file);
  const etag = `"${sha256}"`;
  const server = createServer((req, res) => {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    const start = range && (!ifRange || ifRange === etag) ? Number(range[1]) : 0;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(size - start),
      etag,
      'accept-ranges': 'bytes',
    };
    if (start > 0) headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    pipeline(createReadStream(file, { start }), res).catch(() => undefined);
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  });
  process.stdin.on('end', () => process.exit(0)).resume();
}

async function main(sizeMb: number, runs: number): Promise<void> {
  const bytes = sizeMb * MiB;
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-bench-download-'));
  const file = join(dir, 'model.onnx');
  const rate = (seconds: number) => bytes / MiB / seconds;
  let server: ReturnType<typeof spawn> | undefined;
  try {
    await writeLargeOnnxModel(file, bytes);
    execFileSync('cat', [file], { stdio: 'ignore' }); // warm page cache for every contender
    const sha256 = execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];

    server = spawn(process.execPath, [process.argv[1], '--serve', file, sha256], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const [port] = (await once(server.stdout!, 'data')) as [Buffer];
    const url = `http://127.0.0.1:${Number(port.toString())}/model`;

    const key = generateSigningKey('ecdsa-p256');
    const trustedKeys = parseTrustedKeys(key.publicKeyPem);
    const model: ModelRef = {
      id: randomUUID(),
      name: 'bench',
      version: '1.0.0',
      sha256,
      size: bytes,
      url,
      signature: null,
    };
    const signed = { ...model, signature: JSON.parse(await signFileAsBundle(file, key)) };
    const attested = {
      ...model,
      signature: JSON.parse(await attestDigestAsDsseBundle(sha256, 'model.onnx', key)),
    };
    const viaCache =
      (ref: ModelRef, expected: 'message_signature' | 'dsse' | null) =>
      async (): Promise<Sample> => {
        const cacheDir = join(dir, 'cache');
        const cache = new ModelCache({
          dir: cacheDir,
          trustedKeys,
          requireSigned: expected !== null,
          retries: 0,
          minBackoffMs: 100,
          maxBackoffMs: 1000,
          stallTimeoutMs: 30_000,
        });
        try {
          const sample = await measure(() => cache.fetch(ref));
          if (sample.result.signature !== expected || !sample.result.downloaded) {
            throw new Error(`unexpected result ${JSON.stringify(sample.result)}`);
          }
          return sample;
        } finally {
          await rm(cacheDir, { recursive: true, force: true });
        }
      };
    const plainPath = join(dir, 'plain.onnx');
    const contenders: [string, () => Promise<Sample>][] = [
      ['(a) sha256sum', async () => measure(async () => execFileSync('sha256sum', [file]))],
      ['(b) plain download + fsync', () => plainDownload(url, plainPath, true)],
      ['    plain download, no fsync', () => plainDownload(url, plainPath, false)],
      ['ModelCache, message signature', viaCache(signed, 'message_signature')],
      ['ModelCache, DSSE attestation', viaCache(attested, 'dsse')],
      ['ModelCache, unsigned', viaCache(model, null)],
    ];

    // A warm-up round, then the contenders in turn, so that drift hits them all alike. `sync`
    // first: the write-back of a previous contender's dirty pages must not slow the next one.
    for (const [, run] of contenders) await run();
    const samples = new Map<string, Sample[]>(contenders.map(([label]) => [label, []]));
    for (let round = 0; round < runs; round++) {
      for (const [label, run] of contenders) {
        execFileSync('sync');
        samples.get(label)!.push(await run());
      }
    }

    const figure = (label: string) => {
      const list = [...samples.get(label)!].sort((a, b) => a.seconds - b.seconds);
      const middle = list[Math.floor(list.length / 2)];
      return { ...middle, rssGrowth: Math.max(...list.map((s) => s.rssGrowth)) };
    };
    const reference = Math.min(
      rate(figure('(a) sha256sum').seconds),
      rate(figure('(b) plain download + fsync').seconds),
    );
    const plain = rate(figure('    plain download, no fsync').seconds);
    console.log(`model size                          ${sizeMb} MiB (ONNX, writeLargeOnnxModel)`);
    console.log(`runs per figure                     ${runs}, median (after one warm-up round)`);
    console.log(`                                    throughput              CPU of this process`);
    for (const [label] of contenders) {
      const f = figure(label);
      const cpu = label.startsWith('(a)') ? '(child process)' : `${f.cpuSeconds.toFixed(2)} s`;
      console.log(
        `${label.padEnd(35)} ${rate(f.seconds).toFixed(0).padStart(5)} MiB/s (${f.seconds.toFixed(2)} s)   ${cpu}`,
      );
    }
    console.log(
      `reference min((a), (b))             ${reference.toFixed(0).padStart(5)} MiB/s   goal: ModelCache >= 0.8x`,
    );
    for (const [label] of contenders.filter(([l]) => l.startsWith('ModelCache'))) {
      const f = figure(label);
      const name = label.replace('ModelCache, ', '');
      console.log(
        `ratio ${name.padEnd(29)} ${(rate(f.seconds) / reference).toFixed(2)}x   ` +
          `(vs plain download without fsync: ${(rate(f.seconds) / plain).toFixed(2)}x)`,
      );
    }
    for (const [label] of contenders.filter(([l]) => l.startsWith('ModelCache'))) {
      const name = label.replace('ModelCache, ', '');
      console.log(
        `peak RSS growth, ${name.padEnd(18)} ${(figure(label).rssGrowth / MiB).toFixed(1)} MiB`,
      );
    }
  } finally {
    server?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Sample {
  seconds: number;
  cpuSeconds: number;
  /** Peak RSS of this process during the run, minus the RSS before it. */
  rssGrowth: number;
}

/** Times `work`, with this process's CPU time and its RSS sampled every 50 ms. */
async function measure<T>(work: () => Promise<T>): Promise<Sample & { result: T }> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  try {
    const result = await work();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const { user, system } = process.cpuUsage(cpu);
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, seconds, cpuSeconds: (user + system) / 1e6, rssGrowth: peak - baseline };
  } finally {
    clearInterval(timer);
  }
}

/** A download with no hashing: the response piped to a new file (optionally fsynced). */
async function plainDownload(url: string, path: string, sync: boolean): Promise<Sample> {
  try {
    return await measure(async () => {
      const response = await new Promise<IncomingMessage>((resolve, reject) =>
        get(url, resolve).on('error', reject),
      );
      if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
      await pipeline(response, createWriteStream(path));
      if (sync) {
        // fsync works on the file, whichever descriptor asks
        const handle = await open(path, 'r');
        await handle.sync();
        await handle.close();
      }
    });
  } finally {
    await rm(path, { force: true });
  }
}
