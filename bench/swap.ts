// Hot swap under load: inference latency p50/p99 of an agent in steady state and while it swaps
// between two models 20 times (steady windows and swaps alternating), and the count of failed
// inferences. Goals: 0 failures, p99 during the swaps <= 1.2x steady. A real Aedes broker and model
// server (in a worker thread, as they would be elsewhere than on the device) and onnxruntime;
// asserts nothing.
//   npm run bench:swap [-- SWAPS [STEADY_SECONDS [fast|slow|heavy]]]   (default: all three)
// STEADY_SECONDS is the steady time in all, in one window before each swap.
// Inference cost per model size here: fast ~0.013 ms, slow ~0.2 ms, heavy ~2.6 ms. The event-loop work
// of a swap (MQTT message, validation, state report, slot file) is the same for all, so it weighs
// on the p99 of the small ones most.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { Agent, loadAgentConfig } from '@sentinel/edge-agent';
import { fastGolden } from '../test/support/onnx-models.js';
import { latencySummary, SwapFixture, type ModelSize } from './swap-fixture.js';

const swaps = Number(process.argv[2] ?? 20);
const steadySeconds = Number(process.argv[3] ?? 5);
const SIZES = ['fast', 'slow', 'heavy'] as const;
const sizes: readonly ModelSize[] = process.argv[4]
  ? SIZES.filter((s) => s === process.argv[4])
  : SIZES;
const LOOPS = 2; // concurrent callers, as an application with a couple of camera streams
const WARMUP_MS = 1000; // inferences before the first window, not counted
const SETTLE_MS = 20;

async function run(size: ModelSize): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-bench-swap-'));
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
      SENTINEL_TELEMETRY_INTERVAL_S: '3600',
    }),
  );
  try {
    await agent.start();
    await fixture.desired('v1-only', 'v1');
    await fixture.desired('previous', 'staged');

    const golden = fastGolden();
    const feeds = { input: new ort.Tensor('float32', Float32Array.from(golden.input), [1, 64]) };
    // Steady and swapping windows alternate (a steady window before every swap, STEADY_S split
    // among them), so that both see the same background load: on a shared machine, a steady phase
    // first and the swaps after measured the load's changes more than the swaps'. A swap's window
    // runs from its desired state's publication to SETTLE_MS after its state report arrived, so
    // that the agent's work after the report (the PUBACK of its state, ...) counts as the swap's.
    let phase: 'warmup' | 'steady' | 'swapping' | 'done' = 'warmup';
    const latencies = { warmup: [] as number[], steady: [] as number[], swapping: [] as number[] };
    let failed = 0;
    const loops = Array.from({ length: LOOPS }, async () => {
      while (phase !== 'done') {
        const current = phase;
        const started = performance.now();
        try {
          await agent.infer(feeds);
          latencies[current].push(performance.now() - started);
        } catch {
          failed += 1;
        }
      }
    });

    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await sleep(WARMUP_MS);
    const steadyWindowMs = (steadySeconds * 1000) / swaps;
    const swapTimes: number[] = [];
    for (let i = 0; i < swaps; i++) {
      phase = 'steady';
      await sleep(steadyWindowMs);
      phase = 'swapping';
      const activate = i % 2 === 0 ? 'new' : 'previous';
      const started = performance.now();
      await fixture.desired(activate, activate === 'new' ? 'v2' : 'v1');
      swapTimes.push(performance.now() - started);
      await sleep(SETTLE_MS);
    }
    phase = 'done';
    await Promise.all(loops);

    const steady = latencySummary(latencies.steady);
    const during = latencySummary(latencies.swapping);
    const fmt = (v: number) => v.toFixed(3);
    console.log(
      `models: ${size}, swaps: ${swaps}, concurrent inference loops: ${LOOPS}, intra-op threads: 1, steady windows of ${steadyWindowMs.toFixed(0)} ms between the swaps`,
    );
    console.log(
      `steady:      n=${steady.n} p50=${fmt(steady.p50)} ms p99=${fmt(steady.p99)} ms max=${fmt(steady.max)} ms`,
    );
    console.log(
      `during swap: n=${during.n} p50=${fmt(during.p50)} ms p99=${fmt(during.p99)} ms max=${fmt(during.max)} ms`,
    );
    console.log(`p99 ratio during/steady: ${(during.p99 / steady.p99).toFixed(2)}x (goal <= 1.2x)`);
    console.log(`failed inferences: ${failed} (goal 0)`);
    const swap = latencySummary(swapTimes);
    console.log(
      `desired published -> swap reported on MQTT: p50=${swap.p50.toFixed(1)} ms max=${swap.max.toFixed(1)} ms`,
    );
  } finally {
    await agent.stop();
    await fixture.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const size of sizes) await run(size);
