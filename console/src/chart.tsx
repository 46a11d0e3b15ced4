// Telemetry over time with uPlot: GET /api/v1/telemetry (hidden when the hub has no such route).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getOptional } from './api.js';
import { ErrorBox } from './components.js';
import { useLoad } from './hooks.js';

export interface TelemetryPoint {
  time: string;
  windows: number;
  frames: number;
  fps: number | null;
  latency_p50: number | null;
  latency_p95: number | null;
  memory_mb: number | null;
  errors: number;
  map: number | null;
}
export interface TelemetrySeries {
  device: string | null;
  model_version: string;
  points: TelemetryPoint[];
}
export interface TelemetryAnswer {
  from: string;
  to: string;
  step_s: number;
  by: string;
  series: TelemetrySeries[];
}

export const METRICS = [
  { key: 'fps', label: 'FPS', unit: 'frames/s' },
  { key: 'latency_p95', label: 'Latency p95', unit: 'ms' },
  { key: 'memory_mb', label: 'Memory', unit: 'MB' },
  { key: 'errors', label: 'Errors', unit: 'per bucket' },
  { key: 'map', label: 'mAP', unit: '' },
] as const;
type MetricKey = (typeof METRICS)[number]['key'];

const COLOURS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7f8c'];

/** uPlot's aligned data: the union of bucket times, each series null where it has no bucket. */
export function align(series: TelemetrySeries[], metric: MetricKey): (number | null)[][] {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => Date.parse(p.time) / 1000)))];
  times.sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const rows = series.map((s) => {
    const row: (number | null)[] = times.map(() => null);
    for (const p of s.points) row[index.get(Date.parse(p.time) / 1000)!] = p[metric] ?? null;
    return row;
  });
  return [times, ...rows];
}

function Plot(props: {
  title: string;
  unit: string;
  labels: string[];
  data: (number | null)[][];
  /** The queried time range, in seconds since the epoch: the x axis spans it. */
  x: [number, number];
}) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(600);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setWidth(Math.max(260, el.clientWidth)));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  // The plot is built once per size and set of series; new data (every re-fetch) goes in with
  // setData, which also re-reads the x range through the ref.
  const plotRef = useRef<uPlot | null>(null);
  const xRef = useRef(props.x);
  xRef.current = props.x;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot(
      {
        width,
        height: 180,
        title: `${props.title}${props.unit ? ` (${props.unit})` : ''}`,
        series: [
          {},
          ...props.labels.map((label, i) => ({
            label,
            stroke: COLOURS[i % COLOURS.length],
            width: 2,
            spanGaps: false,
          })),
        ],
        scales: { x: { time: true, range: () => xRef.current } },
        axes: [{}, { size: 60 }],
      },
      props.data as uPlot.AlignedData,
      el,
    );
    plotRef.current = plot;
    return () => {
      plot.destroy();
      plotRef.current = null;
    };
    // props.data is set by the effect below; a rebuild for it would redraw from scratch.
  }, [width, props.labels.join('|')]);
  useEffect(() => {
    plotRef.current?.setData(props.data as uPlot.AlignedData);
  }, [props.data, props.x[0], props.x[1]]);
  return <div ref={box} class="plot" role="img" aria-label={`${props.title} over time`} />;
}

const RANGES = [
  ['15 min', 15 * 60],
  ['1 hour', 3600],
  ['6 hours', 6 * 3600],
  ['24 hours', 24 * 3600],
] as const;

/**
 * Charts of a device, model version, deployment or group. `label` names a series (default: its
 * model version, or device and version).
 */
export function TelemetryCharts(props: {
  filter: Record<string, string | undefined>;
  by?: 'model_version' | 'device';
  label?: (s: TelemetrySeries) => string;
  metrics?: MetricKey[];
  refreshKey?: unknown;
  /** A fixed window (a deployment's life) offered first, instead of the last 15 minutes. */
  window?: { label: string; from: string; to: string | null };
}) {
  const [range, setRange] = useState<number>(props.window ? 0 : RANGES[0][1]);
  const filterKey = JSON.stringify(props.filter);
  const windowKey = JSON.stringify(props.window ?? null);
  const loaded = useLoad(() => {
    const fixed = range === 0 && props.window;
    const to = fixed && props.window!.to ? new Date(props.window!.to) : new Date();
    const from = fixed ? new Date(props.window!.from) : new Date(to.getTime() - range * 1000);
    const span = (to.getTime() - from.getTime()) / 1000;
    return getOptional<TelemetryAnswer>('/api/v1/telemetry', {
      ...props.filter,
      by: props.by,
      from: from.toISOString(),
      to: to.toISOString(),
      // Short ranges (a test canary lasts seconds): ~300 buckets of at least 1 s.
      step: span < 3000 ? Math.max(1, Math.ceil(span / 300)) : undefined,
    });
  }, [filterKey, range, props.by, props.refreshKey, windowKey]);
  if (loaded.data === null && !loaded.loading && !loaded.error)
    return <p class="muted">This hub has no telemetry query (GET /api/v1/telemetry): no charts.</p>;
  const answer = loaded.data;
  const label =
    props.label ??
    ((s: TelemetrySeries) =>
      s.device ? `${s.device} · ${s.model_version.slice(0, 8)}` : s.model_version.slice(0, 8));
  const metrics = METRICS.filter((m) => !props.metrics || props.metrics.includes(m.key));
  return (
    <div class="telemetry" data-testid="telemetry">
      <div class="toolbar">
        <label class="field inline">
          <span>Time range</span>
          <select
            value={String(range)}
            onChange={(e) => setRange(Number((e.target as HTMLSelectElement).value))}
          >
            {props.window && <option value="0">{props.window.label}</option>}
            {RANGES.map(([name, seconds]) => (
              <option key={seconds} value={String(seconds)}>
                last {name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={loaded.reload}>
          Refresh charts
        </button>
        {answer && <small>step {answer.step_s} s</small>}
      </div>
      <ErrorBox error={loaded.error} />
      {answer && answer.series.length === 0 && <p>No telemetry in this range.</p>}
      {answer && answer.series.length > 0 && (
        <div class="plots">
          {metrics
            .filter((m) => answer.series.some((x) => x.points.some((p) => p[m.key] !== null)))
            .map((m) => (
              <Plot
                key={m.key}
                title={m.label}
                unit={m.unit}
                labels={answer.series.map(label)}
                data={align(answer.series, m.key)}
                x={[Date.parse(answer.from) / 1000, Date.parse(answer.to) / 1000]}
              />
            ))}
        </div>
      )}
    </div>
  );
}
