import cliProgress from 'cli-progress';
import type { Deployment, ModelVersion, ModelVersionPage } from './hub-api.js';

/** The part of a writable stream the CLI uses; process.stdout/stderr satisfy it. */
export interface CliWritable {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** `2025-01-31T12:34:56.789Z` -> `2025-01-31 12:34Z`; unparseable values pass through. */
export function formatTimestamp(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Left-aligned columns separated by two spaces, header first, no trailing spaces. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [headers, ...rows].map((cells) => `${line(cells)}\n`).join('');
}

export function formatModelList(page: ModelVersionPage): string {
  if (page.items.length === 0) {
    return page.total > 0
      ? `no model versions at offset ${page.offset} (total ${page.total})\n`
      : 'no model versions found\n';
  }
  const table = formatTable(
    ['ID', 'NAME', 'VERSION', 'STAGE', 'TYPE', 'SIZE', 'CREATED'],
    page.items.map((model) => [
      model.id,
      model.name,
      model.version,
      model.stage,
      model.model_type,
      formatBytes(model.size),
      formatTimestamp(model.created_at),
    ]),
  );
  const shown = page.items.length;
  const footer =
    shown < page.total ? `${page.offset + 1}-${page.offset + shown} of ${page.total}\n` : '';
  return table + footer;
}

function keyValues(pairs: readonly [string, string][]): string {
  const width = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `  ${key.padEnd(width)}  ${value}\n`).join('');
}

export function formatPushSummary(model: ModelVersion): string {
  return (
    `pushed ${model.name}@${model.version}\n` +
    keyValues([
      ['id', model.id],
      ['sha256', model.sha256],
      ['size', `${formatBytes(model.size)} (${model.size} bytes)`],
    ])
  );
}

export function formatModelDetail(model: ModelVersion): string {
  const onnx = model.onnx;
  const pairs: [string, string][] = [
    ['id', model.id],
    ['type', model.model_type],
    ['framework', model.framework],
    ...(model.format ? [['format', model.format] as [string, string]] : []),
    ['stage', model.stage],
    ['sha256', model.sha256],
    ['size', `${formatBytes(model.size)} (${model.size} bytes)`],
    ['tags', model.tags.length > 0 ? model.tags.join(', ') : '-'],
    ['parent', model.parent_id ?? '-'],
    [
      'signature',
      model.signature ? `${model.signature.kind} (${model.signature.key_hint})` : 'unsigned',
    ],
  ];
  if (onnx) {
    pairs.push(
      ['onnx opset', String(onnx.opset ?? '-')],
      ['producer', onnx.producer_name ?? '-'],
      ['parameters', onnx.parameter_count === undefined ? '-' : String(onnx.parameter_count)],
      ['inputs', String(onnx.inputs?.length ?? 0)],
      ['outputs', String(onnx.outputs?.length ?? 0)],
    );
  }
  pairs.push(
    ['created', formatTimestamp(model.created_at)],
    ['updated', formatTimestamp(model.updated_at)],
    ['metadata', model.metadata ? JSON.stringify(model.metadata) : '-'],
  );
  return `${model.name}@${model.version}\n${keyValues(pairs)}`;
}

export interface UploadProgress {
  update(sentBytes: number, totalBytes: number): void;
  stop(): void;
}

const NO_PROGRESS: UploadProgress = { update: () => {}, stop: () => {} };

/** A byte progress bar on `stream`, or a no-op unless enabled and the stream is a terminal. */
export function createUploadProgress(stream: CliWritable, enabled: boolean): UploadProgress {
  if (!enabled || stream.isTTY !== true) return NO_PROGRESS;
  const bar = new cliProgress.SingleBar({
    stream: stream as NodeJS.WritableStream,
    format: 'uploading [{bar}] {percentage}% | {sent} / {size} | ETA {eta_formatted}',
    clearOnComplete: true,
    hideCursor: true,
  });
  let started = false;
  return {
    update(sentBytes, totalBytes) {
      const payload = { sent: formatBytes(sentBytes), size: formatBytes(totalBytes) };
      if (!started) {
        started = true;
        bar.start(totalBytes, sentBytes, payload);
      } else {
        bar.update(sentBytes, payload);
      }
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/**
 * Control characters (line breaks, ANSI escapes) in text that reached the hub from devices or
 * users become spaces: a line stays one line, and nothing can drive the terminal.
 */
export function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

/** ` (as classifier)` for a named model, nothing for `default` (docs/protocol.md 6.6). */
export function servedAs(deployment: Pick<Deployment, 'serve_as'>): string {
  return deployment.serve_as && deployment.serve_as !== 'default'
    ? ` (as ${deployment.serve_as})`
    : '';
}
