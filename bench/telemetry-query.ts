// GET /api/v1/telemetry's store query (TelemetryStore.querySeries) on each store: DEVICES devices
// sending a telemetry window every 10 s for HOURS hours (two model versions, half the fleet
// each) are written to the embedded SQL table (PGlite) and, when influxd is installed, to a real
// InfluxDB; then the queries a console makes are timed (median of 5): the last hour and the whole
// span by model version, the last hour by device, one device over the whole span.
// Prints figures; asserts nothing. Everything started is stopped.
//   npm run bench:telemetry-query [-- DEVICES [HOURS]]     (default 100 devices, 6 hours)
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { parseTelemetryRange } from '../src/telemetry/domain/telemetry-query.js';
import { InfluxTelemetryStore } from '../src/telemetry/influx-telemetry-store.js';
import { SqlTelemetryStore } from '../src/telemetry/sql-telemetry-store.js';
import type {
  SeriesQuery,
  TelemetryPoint,
  TelemetryStore,
} from '../src/telemetry/telemetry-store.js';
import { startHub } from '../test/support/hub.js';
import { skipWithoutInflux, startInflux } from '../test/support/influx.js';

const DEVICES = Number(process.argv[2] ?? 100);
const HOURS = Number(process.argv[3] ?? 6);
const WINDOW_S = 10;
const BATCH = 5000;
const VERSIONS = [randomUUID(), randomUUID()];
const NOW = Math.floor(Date.now() / 10_000) * 10_000;

function* points(): Generator<TelemetryPoint[]> {
  let batch: TelemetryPoint[] = [];
  for (let t = NOW - HOURS * 3_600_000; t < NOW; t += WINDOW_S * 1000) {
    for (let d = 0; d < DEVICES; d++) {
      batch.push({
        time: new Date(t + (d % WINDOW_S) * 1000),
        tags: {
          device: `cam-${d}`,
          group: `group-${d % 10}`,
          environment: 'production',
          deployment: 'none',
          model_id: VERSIONS[d % 2]!,
          model_version: `${(d % 2) + 1}.0.0`,
          slot: 'blue',
        },
        frames: 200,
        fps: 20 + (d % 7),
        latency_p50: 10,
        latency_p95: 20 + (d % 5),
        latency_max: 40,
        memory_mb: 300,
        errors: d % 13 === 0 ? 1 : 0,
        window_s: WINDOW_S,
        ...(d % 3 === 0 ? { map: 0.5 } : {}),
      });
      if (batch.length === BATCH) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

function query(from: string | undefined, extra: Partial<SeriesQuery> = {}): SeriesQuery {
  const range = parseTelemetryRange({ from, to: new Date(NOW).toISOString() }, new Date(NOW));
  if (!range.ok) throw new Error(range.message);
  return { ...range.value, ...extra };
}

async function measure(name: string, store: TelemetryStore): Promise<void> {
  const started = Date.now();
  let written = 0;
  for (const batch of points()) {
    await store.write(batch);
    written += batch.length;
  }
  const writeS = (Date.now() - started) / 1000;
  console.log(
    `${name}: ${written.toLocaleString('en')} windows written in ${writeS.toFixed(1)} s (${Math.round(written / writeS).toLocaleString('en')}/s)`,
  );
  const span = new Date(NOW - HOURS * 3_600_000).toISOString();
  const cases: [string, SeriesQuery][] = [
    ['last hour, by model version', query(undefined)],
    [`${HOURS} h, by model version`, query(span)],
    ['last hour, by device', query(undefined, { by: 'device' })],
    [`${HOURS} h, one device`, query(span, { device: 'cam-1' })],
    [`${HOURS} h, one group by device`, query(span, { group: 'group-3', by: 'device' })],
  ];
  for (const [label, q] of cases) {
    const times: number[] = [];
    let series = 0;
    let buckets = 0;
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      const result = await store.querySeries(q);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      series = result.length;
      buckets = result.reduce((n, s) => n + s.points.length, 0);
    }
    times.sort((a, b) => a - b);
    console.log(
      `  ${label.padEnd(32)} step ${String(q.stepS).padStart(5)} s: ${series} series, ${buckets} points, median ${times[2]!.toFixed(0)} ms (min ${times[0]!.toFixed(0)}, max ${times[4]!.toFixed(0)})`,
    );
  }
}

console.log(`${DEVICES} devices, a window every ${WINDOW_S} s for ${HOURS} h`);
const hub = await startHub();
try {
  await measure('embedded (PGlite)', new SqlTelemetryStore(hub.app.get(DataSource), 30));
} finally {
  await hub.stop();
}
if (skipWithoutInflux) {
  console.log(`InfluxDB: skipped (${skipWithoutInflux})`);
} else {
  const influx = await startInflux();
  const store = new InfluxTelemetryStore({ url: influx.url, database: 'bench', retentionDays: 30 });
  try {
    await store.init();
    await measure('InfluxDB', store);
  } finally {
    await store.close();
    await influx.stop();
  }
}
