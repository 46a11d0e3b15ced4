import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/support). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const dashboardsDir = join(repoRoot, 'grafana', 'dashboards');
export const DATASOURCE_UID = 'sentinel-influxdb';

// ---------------------------------------------------------------- dashboards and their queries

export interface DashboardJson {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: PanelJson[];
  templating: { list: VariableJson[] };
  annotations: { list: AnnotationJson[] };
  [key: string]: unknown;
}

export interface TargetJson {
  refId: string;
  query: string;
  datasource?: { type?: string; uid?: string };
  resultFormat?: string;
  alias?: string;
  hide?: boolean;
}

export interface PanelJson {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  /** Minimum interval: `$__interval` is never below it. */
  interval?: string;
  datasource?: { type?: string; uid?: string };
  targets?: TargetJson[];
  panels?: PanelJson[];
}

export interface VariableJson {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: { type?: string; uid?: string };
  multi?: boolean;
  includeAll?: boolean;
}

export interface AnnotationJson {
  name: string;
  datasource?: { type?: string; uid?: string };
  target?: { query?: string; textColumn?: string; tagsColumn?: string };
  builtIn?: number;
}

export function loadDashboards(): { file: string; json: DashboardJson }[] {
  return readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      json: JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as DashboardJson,
    }));
}

export function flatPanels(dashboard: DashboardJson): PanelJson[] {
  return dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

export interface DashboardQuery {
  /** e.g. `panel 3 "FPS by model version" A` */
  where: string;
  kind: 'panel' | 'annotation' | 'variable';
  query: string;
  panel?: PanelJson;
  target?: TargetJson;
  annotation?: AnnotationJson;
  variable?: VariableJson;
}

function variableQuery(v: VariableJson): string {
  return typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
}

/** Every InfluxQL query Grafana would send for a dashboard: panel targets, annotations, variables. */
export function dashboardQueries(dashboard: DashboardJson): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const v of dashboard.templating.list) {
    if (v.type !== 'query') continue;
    out.push({
      where: `variable $${v.name}`,
      kind: 'variable',
      query: variableQuery(v),
      variable: v,
    });
  }
  for (const a of dashboard.annotations.list) {
    if (a.builtIn || a.datasource?.uid !== DATASOURCE_UID) continue;
    out.push({
      where: `annotation "${a.name}"`,
      kind: 'annotation',
      query: a.target?.query ?? '',
      annotation: a,
    });
  }
  for (const panel of flatPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (target.hide) continue;
      out.push({
        where: `panel ${panel.id} "${panel.title}" ${target.refId}`,
        kind: 'panel',
        query: target.query,
        panel,
        target,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------- Grafana's interpolation

/** Grafana's regex escaping of a variable value (templateSrv's `regex` format). */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

export interface Interpolation {
  /** Selected values of each template variable (several for a multi-value selection). */
  variables: Record<string, readonly string[]>;
  fromMs: number;
  toMs: number;
  /** `$__interval` in ms; Grafana rounds it to a "nice" interval, e.g. 60000 → `1m`. */
  intervalMs: number;
}

function formatInterval(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Names of the dashboard variables a query refers to (`$name`; macros excluded). */
export function referencedVariables(query: string): string[] {
  return [...query.matchAll(/\$(\w+)/g)]
    .map((m) => m[1]!)
    .filter((name) => !['timeFilter', '__interval', '__interval_ms', 'interval'].includes(name));
}

/**
 * What Grafana sends to InfluxDB for a raw InfluxQL query: the time-range and interval macros
 * (`$timeFilter`, `$__interval`, `$__interval_ms`, `$interval`) as the data source expands them,
 * and each `$var` in the InfluxDB plugin's regex form: one value regex-escaped, several (or All)
 * as `(a|b|c)`. The dashboards use variables only inside `=~ /.../` regexes, which the test
 * checks, so that this form is the right one. A `$name` left over is an error.
 */
export function interpolate(query: string, at: Interpolation): string {
  let q = query
    .replaceAll('$timeFilter', `time >= ${at.fromMs}ms and time <= ${at.toMs}ms`)
    .replaceAll('$__interval_ms', String(at.intervalMs))
    .replaceAll('$__interval', formatInterval(at.intervalMs))
    .replaceAll('$interval', formatInterval(at.intervalMs));
  q = q.replace(/\$(\w+)/g, (whole, name: string) => {
    const values = at.variables[name];
    if (!values) throw new Error(`no value for $${name} in: ${query}`);
    if (values.length === 0) throw new Error(`empty selection for $${name}`);
    return values.length === 1
      ? escapeRegex(values[0]!)
      : `(${values.map((v) => escapeRegex(v)).join('|')})`;
  });
  return q;
}

/** Whether every `$var` of a query sits inside an InfluxQL regex literal (`=~ /.../` or `!~`). */
export function variablesOutsideRegex(query: string): string[] {
  const withoutRegexes = query.replace(/[=!]~\s*\/(?:\\.|[^/\\])*\//g, ' ');
  return referencedVariables(withoutRegexes);
}

// ---------------------------------------------------------------- InfluxDB v1 HTTP API

/** Line protocol escaping (InfluxDB 1.x): measurement, tag key/value and field key, string field. */
export const lp = {
  measurement: (s: string) => s.replace(/[,\s]/g, (c) => `\\${c}`),
  key: (s: string) => s.replace(/[,=\s]/g, (c) => `\\${c}`),
  tagValue: (s: string) => {
    if (s === '') throw new Error('InfluxDB refuses an empty tag value');
    return s.replace(/[,=\s]/g, (c) => `\\${c}`);
  },
  string: (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`,
};

export type FieldValue = number | string | boolean | { int: number };

export interface LinePoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  timeMs: number;
}

export function toLine(p: LinePoint): string {
  const tags = Object.entries(p.tags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `,${lp.key(k)}=${lp.tagValue(v)}`)
    .join('');
  const fields = Object.entries(p.fields)
    .map(([k, v]) => {
      let value: string;
      if (typeof v === 'string') value = lp.string(v);
      else if (typeof v === 'boolean') value = String(v);
      else if (typeof v === 'number') value = Number.isFinite(v) ? String(v) : 'NaN';
      else value = `${Math.trunc(v.int)}i`;
      if (value === 'NaN') throw new Error(`field ${k} is not a finite number`);
      return `${lp.key(k)}=${value}`;
    })
    .join(',');
  if (fields === '') throw new Error('a point needs at least one field');
  return `${lp.measurement(p.measurement)}${tags} ${fields} ${Math.trunc(p.timeMs)}`;
}

export async function influxWrite(
  url: string,
  db: string,
  points: readonly LinePoint[],
  rp?: string,
): Promise<void> {
  const params = new URLSearchParams({ db, precision: 'ms', ...(rp ? { rp } : {}) });
  const response = await fetch(`${url}/write?${params}`, {
    method: 'POST',
    body: points.map(toLine).join('\n'),
  });
  if (response.status !== 204) {
    throw new Error(`write failed: ${response.status} ${await response.text()}`);
  }
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}

export interface InfluxResult {
  statement_id: number;
  error?: string;
  series?: InfluxSeries[];
}

/** One InfluxQL statement through `/query` (POST, as Grafana's data source may also send). */
export async function influxQuery(
  url: string,
  db: string,
  q: string,
): Promise<{ status: number; result: InfluxResult | null; raw: string }> {
  const response = await fetch(`${url}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ db, q, epoch: 'ms' }),
  });
  const raw = await response.text();
  let result: InfluxResult | null = null;
  try {
    const parsed = JSON.parse(raw) as { results?: InfluxResult[] };
    result = parsed.results?.[0] ?? null;
  } catch {
    // not JSON: reported through raw
  }
  return { status: response.status, result, raw };
}

/** Why a query's answer would leave a panel empty or in error, or null when it has data. */
export function emptyOrError(answer: Awaited<ReturnType<typeof influxQuery>>): string | null {
  if (answer.status !== 200) return `HTTP ${answer.status}: ${answer.raw.slice(0, 300)}`;
  if (!answer.result) return `no result: ${answer.raw.slice(0, 300)}`;
  if (answer.result.error) return `error: ${answer.result.error}`;
  const series = answer.result.series ?? [];
  if (series.length === 0) return 'no series (the panel would show "No data")';
  const hasValue = series.some((s) =>
    (s.values ?? []).some((row) =>
      row.some((cell, i) => s.columns[i] !== 'time' && cell !== null && cell !== undefined),
    ),
  );
  return hasValue ? null : 'series without a single non-null value';
}

/** The values of a `SHOW TAG VALUES` answer, as Grafana lists them for a query variable. */
export function tagValues(result: InfluxResult | null): string[] {
  const values = (result?.series ?? []).flatMap((s) => {
    const column = s.columns.indexOf('value');
    return (s.values ?? []).map((row) => String(row[column]));
  });
  return [...new Set(values)].sort();
}
