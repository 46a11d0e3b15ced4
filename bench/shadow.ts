// Shadow verification and the serving path: an agent's inference latency (p50/p99, two concurrent
// callers) while it serves v1 and shadows v2 from its standby slot at 0 %, 10 % and 50 % of the
// inputs (the rates taking turns, 5 slices each), and the samples its bounded queue dropped.
// Goal: serving p99 with shadow at 10 % <= 1.1x without. A real Aedes broker and model server
// (in a worker thread, as bench/swap.ts) and onnxruntime; asserts nothing.
//   npm run bench:shadow [-- SECONDS [fast|slow|heavy|all [FPS]]]   (default: 10 s each, all three
//   sizes, loops back to back; FPS: each loop paced at FPS inferences a second, as cameras)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { Agent, loadAgentConfig } from '@sentinel/edge-agent';
import { fastGolden } from '../test/support/onnx-models.js';
import { latencySummary, SwapFixture, type ModelSize } from './swap-fixture.js';

const seconds = Number(process.argv[2] ?? 10);
const SIZES = ['fast', 'slow', 'heavy'] as const;
const sizes: readonly ModelSize[] =
  process.argv[3] && process.argv[3] !== 'all' ? SIZES.filter((s) => s === process.argv[3]) : SIZES;
// 0: every loop asks for its next inference at once (a saturated serving path, which never idles);
// N: N inferences a second per loop, as cameras (the serving path idles between frames).
const fps = Number(process.argv[4] ?? 0);
const RATES = [0, 0.1, 0.5];
const LOOPS = 2;
const ROUNDS = 5;

async function run(size: ModelSize): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-bench-shadow-'));
  const fixture = new SwapFixture();
  const { url, password } = await fixture.start(size);
  const agent = new Agent(
    loadAgentConfig({
      SENTINEL_DEVICE_ID: 'bench-cam',
      SENTINEL_MQTT_URL: url,
      SENTINEL_MQTT_PASSWORD: password,
      SENTINEL_GROUP: 'bench',
      SENTINEL_DATA_DIR: dir,
      SENTINEL_API: 'off',
      SENTINEL_TELEMETRY_INTERVAL_S: '1',
    }),
  );
  try {
    await agent.start();
    await fixture.desired('v1-only', 'v1');
    const golden = fastGolden();
    const feeds = { input: new ort.Tensor('float32', Float32Array.from(golden.input), [1, 64]) };
    console.log(
      `models: ${size}, concurrent inference loops: ${LOOPS} (${fps > 0 ? `${fps} inferences/s each` : 'back to back'}), ${seconds} s per rate in ${ROUNDS} rounds of ${RATES.map((r) => `${r * 100} %`).join(', ')}`,
    );
    // The rates take turns (ROUNDS slices each) so that all see the same background load: on a
    // shared machine, one rate after the other measured the load's changes more than shadow's.
    const latencies = new Map<number, number[]>(RATES.map((rate) => [rate, []]));
    let failed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const rate of RATES) {
        // v2 staged beside v1; at rate 0 the desired state asks for no shadow at all.
        await fixture.desired(
          'previous',
          'staged',
          rate > 0 ? { sampleRate: rate, deploymentId: `shadow-${rate}` } : undefined,
        );
        const into = latencies.get(rate)!;
        const until = performance.now() + (seconds * 1000) / ROUNDS;
        await Promise.all(
          Array.from({ length: LOOPS }, async () => {
            let next = performance.now();
            while (performance.now() < until) {
              if (fps > 0) {
                next += 1000 / fps;
                const wait = next - performance.now();
                if (wait > 0) await new Promise((r) => setTimeout(r, wait));
              }
              const started = performance.now();
              try {
                await agent.infer(feeds);
                into.push(performance.now() - started);
              } catch {
                failed += 1;
              }
            }
          }),
        );
        // One more telemetry window so that the last one is in.
        if (rate > 0) await new Promise((r) => setTimeout(r, 1500));
        // Back to v1 alone before the next rate (a new deployment id starts a new shadow window).
        await fixture.desired('v1-only', 'v1');
      }
    }
    const without = latencySummary(latencies.get(0)!).p99;
    for (const rate of RATES) {
      const s = latencySummary(latencies.get(rate)!);
      const totals = rate > 0 ? await fixture.shadowTotals(`shadow-${rate}`) : null;
      const shadowText = totals
        ? `; shadow: ${totals.samples} runs, ${totals.dropped} dropped (${((100 * totals.dropped) / Math.max(1, totals.samples + totals.dropped)).toFixed(1)} % of sampled), ${totals.errors} errors`
        : '';
      const ratio = rate > 0 ? `, p99 ${(s.p99 / without).toFixed(2)}x without` : '';
      console.log(
        `  shadow ${String(rate * 100).padStart(2)} %: n=${s.n} p50=${s.p50.toFixed(3)} ms p99=${s.p99.toFixed(3)} ms${ratio}${shadowText}`,
      );
    }
    console.log(`  failed inferences: ${failed}`);
    console.log('  goal: p99 at 10 % <= 1.1x without');
  } finally {
    await agent.stop();
    await fixture.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const size of sizes) await run(size);
