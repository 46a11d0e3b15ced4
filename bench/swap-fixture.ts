// The broker and the model server of bench/swap.ts, in a worker thread: on a device they live on
// the hub, so their event-loop work must not land on the agent's thread being measured.
import { parentPort, Worker } from 'node:worker_threads';
import type { ModelRef } from '@sentinel/broker';
import { ModelServer, serving, TestBroker } from '../test/support/agent-fixture.js';
import { fastModel, goldenMismatchModel, slowModel } from '../test/support/onnx-models.js';

export type ModelSize = 'fast' | 'slow' | 'heavy';

/** Nearest-rank p50 and p99 (and the max) of inference latencies, ms. */
export function latencySummary(latencies: number[]): {
  n: number;
  p50: number;
  p99: number;
  max: number;
} {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return { n: sorted.length, p50: at(50), p99: at(99), max: sorted.at(-1) ?? 0 };
}

export interface FixtureReady {
  url: string;
  password: string;
}

type Request =
  | { kind: 'start'; size: ModelSize }
  | {
      kind: 'desired';
      activate: 'new' | 'previous' | 'v1-only';
      wait: 'v1' | 'v2' | 'staged';
      /** bench/shadow.ts: shadow verification of v2 at this sample rate, as deployment `id`. */
      shadow?: { sampleRate: number; deploymentId: string };
    }
  | { kind: 'shadowTotals'; deploymentId: string }
  | { kind: 'stop' };

/** What the device's telemetry said of a deployment's shadow runs, summed over its windows. */
export interface ShadowTotals {
  windows: number;
  samples: number;
  dropped: number;
  errors: number;
}

/** The bench's handle on the worker: one request at a time, answered in order. */
export class SwapFixture {
  private readonly worker = new Worker(new URL(import.meta.url));
  private pending: ((value: unknown) => void)[] = [];

  constructor() {
    this.worker.on('message', (value) => this.pending.shift()?.(value));
  }

  private ask<T>(request: Request): Promise<T> {
    return new Promise((resolve) => {
      this.pending.push(resolve as (value: unknown) => void);
      this.worker.postMessage(request);
    });
  }

  start(size: ModelSize): Promise<FixtureReady> {
    return this.ask({ kind: 'start', size });
  }

  /** Publishes a desired state and resolves once the device reports `wait`. */
  desired(
    activate: 'new' | 'previous' | 'v1-only',
    wait: 'v1' | 'v2' | 'staged',
    shadow?: { sampleRate: number; deploymentId: string },
  ): Promise<void> {
    return this.ask({ kind: 'desired', activate, wait, ...(shadow ? { shadow } : {}) });
  }

  shadowTotals(deploymentId: string): Promise<ShadowTotals> {
    return this.ask({ kind: 'shadowTotals', deploymentId });
  }

  async stop(): Promise<void> {
    await this.ask({ kind: 'stop' });
    await this.worker.terminate();
  }
}

if (parentPort) {
  const port = parentPort;
  const broker = new TestBroker();
  const server = new ModelServer();
  let v1: ModelRef;
  let v2: ModelRef;
  port.on('message', (request: Request) => {
    void (async () => {
      if (request.kind === 'start') {
        await broker.start();
        await server.start();
        const device = broker.addDevice('bench-cam', 'bench');
        // Two models of the same architecture and cost: latency differences come from the swaps.
        const [one, two] = {
          fast: () => [fastModel(), goldenMismatchModel()],
          slow: () => [slowModel(), slowModel({ hidden: 255 })],
          // ~2.6 ms per inference on one thread here: closer to a small vision model.
          heavy: () => [
            slowModel({ rows: 64, hidden: 512, layers: 8 }),
            slowModel({ rows: 64, hidden: 511, layers: 8 }),
          ],
        }[request.size]();
        v1 = server.add('det', '1.0.0', one);
        v2 = server.add('det', '2.0.0', two);
        port.postMessage({ url: broker.url, password: device.password } satisfies FixtureReady);
      } else if (request.kind === 'desired') {
        if (request.activate === 'v1-only') {
          await broker.publishDesired({ group: 'bench' }, { model: v1 });
        } else {
          const shadow = request.shadow;
          await broker.publishDesired(
            { group: 'bench' },
            {
              model: v2,
              previous: v1,
              activate: request.activate,
              ...(shadow
                ? {
                    deployment_id: shadow.deploymentId,
                    shadow: { sample_rate: shadow.sampleRate },
                  }
                : {}),
            },
          );
        }
        await broker.waitForState(
          'bench-cam',
          (s) =>
            request.wait === 'staged'
              ? s.deployment?.phase === 'staged'
              : serving(s, request.wait === 'v1' ? v1 : v2),
          30_000,
        );
        port.postMessage(null);
      } else if (request.kind === 'shadowTotals') {
        const totals: ShadowTotals = { windows: 0, samples: 0, dropped: 0, errors: 0 };
        for (const t of broker.telemetry) {
          if (t.shadow?.deployment_id !== request.deploymentId) continue;
          totals.windows += 1;
          totals.samples += t.shadow.samples;
          totals.dropped += t.shadow.dropped;
          totals.errors += t.shadow.errors;
        }
        port.postMessage(totals);
      } else {
        await broker.stop();
        await server.stop();
        port.postMessage(null);
      }
    })();
  });
}
