import {
  DEPLOYMENT_PHASES,
  type Deployment,
  type DeploymentDetail,
  type DeploymentEvent,
  type DeploymentHealth,
  type HealthHistoryPage,
  type DeploymentPage,
  type HealthCheck,
  type HealthFigures,
} from './hub-api.js';
import type { DeploymentStatus } from './deployment-status.js';
import { clean, formatTable, formatTimestamp, servedAs } from './output.js';

export { clean };

/** Events shown by `deployment status` (the newest ones); --json has them all. */
export const SHOWN_EVENTS = 5;
/** Failed devices shown by `deployment status`; --json has them all. */
export const SHOWN_FAILED_DEVICES = 10;

/** `2025-01-31T12:34:56.789Z` -> `2025-01-31 12:34:56Z`; unparseable values pass through. */
export function formatTimeSeconds(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function modelLabel(deployment: Pick<Deployment, 'model'>): string {
  return `${deployment.model.name}@${deployment.model.version}`;
}

/** `step 2/3 at 25 %` for a canary, `-` otherwise. */
export function canaryStep(deployment: Pick<Deployment, 'canary'>): string {
  const canary = deployment.canary;
  if (!canary) return '-';
  return `step ${canary.step_index + 1}/${canary.steps.length} at ${canary.percent} %`;
}

/** `deployment <id> <status>`, plus the canary step for a canary: what deploy and the actions print. */
export function formatDeploymentLine(deployment: Deployment): string {
  const step = deployment.canary ? `, canary ${canaryStep(deployment)}` : '';
  return `deployment ${deployment.id}${servedAs(deployment)} ${deployment.status}${step}\n`;
}

export function formatDeploymentList(page: DeploymentPage): string {
  if (page.items.length === 0) {
    return page.total > 0
      ? `no deployments at offset ${page.offset} (total ${page.total})\n`
      : 'no deployments found\n';
  }
  const table = formatTable(
    ['ID', 'MODEL', 'TYPE', 'ENVIRONMENT', 'TARGET', 'STATUS', 'CREATED'],
    page.items.map((d) => [
      d.id,
      modelLabel(d),
      d.deployment_type,
      d.environment,
      `${d.target}${servedAs(d)}`,
      d.status,
      formatTimestamp(d.created_at),
    ]),
  );
  const shown = page.items.length;
  const footer =
    shown < page.total ? `${page.offset + 1}-${page.offset + shown} of ${page.total}\n` : '';
  return table + footer;
}

function phaseCount(detail: DeploymentDetail, phase: string): number {
  return detail.progress.phases[phase] ?? 0;
}

/** Every phase with its count, in rollout order, split over two lines so it fits 80 columns. */
function phaseLines(detail: DeploymentDetail): [string, string] {
  const pairs = DEPLOYMENT_PHASES.map((phase) => `${phase} ${phaseCount(detail, phase)}`);
  return [pairs.slice(0, 4).join(', '), pairs.slice(4).join(', ')];
}

function devicesLine(detail: DeploymentDetail): string {
  const { targets, online, participating } = detail.progress;
  return `${targets} targets, ${online} online, ${participating} participating`;
}

function eventLine(event: DeploymentEvent): string {
  const transition =
    event.to_status && event.from_status !== event.to_status
      ? ` (${event.from_status ? `${event.from_status} ` : ''}-> ${event.to_status})`
      : '';
  const percent = event.figures?.percent;
  const step = typeof percent === 'number' ? ` to ${percent} %` : '';
  const reason = event.reason ? `: ${event.reason}` : '';
  return `${formatTimeSeconds(event.at)}  ${event.type}${step}${transition} by ${event.actor}${reason}`;
}

function failedDeviceLine(device: DeploymentDetail['progress']['failed_devices'][number]): string {
  const detail = device.detail ? ` (${device.detail})` : '';
  const attempts = device.attempts > 0 ? `, ${device.attempts} retries` : '';
  return `${device.device_id}  ${device.phase}  ${device.reason ?? '-'}${detail}${attempts}`;
}

/** A figure rounded to 2 decimals, `-` for anything that is not a finite number. */
function figure(value: unknown, scale = 1): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '-';
  return String(Math.round(value * scale * 100) / 100);
}

function signed(value: unknown, unit: string): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '-';
  return `${value >= 0 ? '+' : ''}${figure(value)}${unit}`;
}

/**
 * How each metric's figures read (design section 8): unit and scale of cohort/baseline, the unit of
 * `change`, and how `threshold` is a limit. mAP comes as 0..1 and is shown in points (x100).
 */
const METRICS: Record<
  string,
  { unit: string; scale?: number; change: string; limit: (threshold: number) => string }
> = {
  fps: { unit: ' fps', change: ' %', limit: (t) => `-${figure(t)} %` },
  latency_p95: { unit: ' ms', change: ' %', limit: (t) => `+${figure(t)} %` },
  memory: { unit: ' MB', change: ' %', limit: (t) => `+${figure(t)} %` },
  error_rate: { unit: ' %', change: ' %', limit: (t) => `max ${figure(t)} %` },
  map: { unit: '', scale: 100, change: ' pts', limit: (t) => `-${figure(t)} pts` },
  map_floor: { unit: '', scale: 100, change: ' pts', limit: (t) => `min ${figure(t, 100)}` },
  staging_failures: { unit: ' %', change: ' %', limit: (t) => `max ${figure(t)} %` },
  agreement: { unit: '', change: '', limit: (t) => `min ${figure(t)}` },
};
/** The metrics whose figures the health block knows how to label (others are shown plain). */
export const HEALTH_METRICS: readonly string[] = Object.keys(METRICS);
const OTHER_METRIC = { unit: '', scale: 1, change: ' %', limit: (t: number) => figure(t) };

/** `< 0.0001`, `0.0123 < 0.01`-style p-value against the level, or `-` where none was tested. */
function pValue(check: HealthCheck): string {
  if (typeof check.p_value !== 'number') return '-';
  const p = check.p_value < 0.0001 ? '<0.0001' : String(Math.round(check.p_value * 10000) / 10000);
  return typeof check.alpha === 'number'
    ? `${p} (${check.p_value < check.alpha ? '<' : '>='} ${check.alpha})`
    : p;
}

/** `12 vs 12 windows`, `3 vs 9 devices`. */
function samplesCell(check: HealthCheck): string {
  const s = check.samples;
  if (!s) return '-';
  const side = (x: { devices: number; windows: number }) =>
    s.unit === 'devices' ? x.devices : x.windows;
  return `${side(s.cohort)} vs ${side(s.baseline)} ${s.unit}`;
}

function checkRow(check: HealthCheck): string[] {
  const shape = METRICS[check.metric] ?? OTHER_METRIC;
  const value = (v: unknown) => {
    const text = figure(v, shape.scale);
    return text === '-' ? text : `${text}${shape.unit}`;
  };
  let limit = typeof check.threshold === 'number' ? shape.limit(check.threshold) : '-';
  if (typeof check.floor === 'number') limit += ` & ${figure(check.floor)}${shape.unit}`;
  return [
    check.metric,
    value(check.cohort),
    value(check.baseline),
    signed(check.change, shape.change),
    limit,
    pValue(check),
    samplesCell(check),
    check.status,
  ].map((cell) => clean(String(cell)));
}

/** Where the baseline came from, as a suffix of its line. */
function baselineKindText(health: DeploymentHealth): string {
  if (health.baseline_kind === 'outside') return ' (devices outside the cohort, same window)';
  if (health.baseline_kind === 'before') return ' (the same devices before the step)';
  return '';
}

/** `1.4.0: 3 devices, 120 samples`, or why there are no figures. */
function versionLine(versions: string, figures: HealthFigures | null | undefined): string {
  if (!figures) return `${versions}: no telemetry in the window`;
  return `${versions}: ${figure(figures.devices)} devices, ${figure(figures.samples)} samples`;
}

/** `health: <verdict>` with when it was evaluated and what the rules did. */
function healthHeadline(health: DeploymentHealth): string {
  if (health.verdict === null) return 'health: not evaluated yet';
  const when = health.evaluated_at ? `, evaluated ${formatTimeSeconds(health.evaluated_at)}` : '';
  const action = health.action && health.action !== 'none' ? `, action ${health.action}` : '';
  return `health: ${health.verdict}${when}${action}`;
}

/**
 * The health block of `deployment status`: verdict, the new version against the baseline
 * versions, one row per check and the reasons; or why the health is unavailable.
 */
export function formatHealth(
  status: Pick<DeploymentStatus, 'health' | 'health_unavailable'>,
): string {
  const health = status.health;
  if (!health) return `health: unavailable (${clean(status.health_unavailable ?? 'no answer')})\n`;
  let text = `${clean(healthHeadline(health))}\n`;
  if (health.verdict === null) return text;
  const pairs: [string, string][] = [];
  if (health.new_version !== undefined) {
    pairs.push(['new', versionLine(health.new_version, health.cohort)]);
    const baselines = health.baseline_versions ?? [];
    pairs.push([
      'baseline',
      baselines.length > 0
        ? versionLine(baselines.join(', '), health.baseline) + baselineKindText(health)
        : 'none (the groups ran no model before)',
    ]);
  }
  if (health.stage !== undefined) {
    pairs.push([
      'judged',
      `${health.stage === 'observing' ? 'observing' : 'rolling out'}, step ${health.step_index ?? 0}`,
    ]);
  }
  text += pairs.map(([key, value]) => `  ${key.padEnd(8)}  ${clean(value)}\n`).join('');
  if (health.checks.length > 0) {
    const table = formatTable(
      ['METRIC', 'NEW', 'BASELINE', 'CHANGE', 'LIMIT', 'P', 'SAMPLES', 'STATUS'],
      health.checks.map(checkRow),
    );
    text += table
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => `  ${line}\n`)
      .join('');
  }
  text += health.reasons.map((reason) => `  reason: ${clean(String(reason))}\n`).join('');
  return text;
}

/** `deployment health --history`: one line per evaluation, newest first. */
export function formatHealthHistory(page: HealthHistoryPage): string {
  if (page.items.length === 0) return 'no evaluations yet\n';
  const rows = page.items.map((h) =>
    [
      h.evaluated_at ? formatTimeSeconds(h.evaluated_at) : '-',
      `${h.stage === 'observing' ? 'observing' : 'rolling out'} ${h.step_index ?? 0}`,
      String(h.verdict ?? '-'),
      String(h.action ?? 'none'),
      h.reasons.length > 0 ? h.reasons.join('; ') : '-',
    ].map(clean),
  );
  let text = formatTable(['EVALUATED', 'STAGE STEP', 'VERDICT', 'ACTION', 'REASONS'], rows);
  if (page.total > page.items.length) {
    text += `${page.items.length} of ${page.total} evaluations (--limit for more)\n`;
  }
  return text;
}

/** One log line for `--watch` without a terminal: the verdict, and why. */
export function formatHealthLine(
  status: Pick<DeploymentStatus, 'health' | 'health_unavailable'>,
): string {
  const health = status.health;
  if (!health) return clean(`health unavailable (${status.health_unavailable ?? 'no answer'})`);
  if (health.verdict === null) return 'health not evaluated yet';
  const action = health.action && health.action !== 'none' ? `, action ${health.action}` : '';
  const reasons = health.reasons.length > 0 ? `: ${health.reasons.join('; ')}` : '';
  return clean(`health ${health.verdict}${action}${reasons}`);
}

/** `up to 100/min, ramp 5/min x2 per 10 done; cohort told: 37.5 %` */
export function rateLine(rate: NonNullable<DeploymentDetail['rate']>): string {
  const ramp = rate.ramp
    ? `, ramp ${rate.ramp.base_per_minute}/min x${rate.ramp.factor} per ${rate.ramp.every_succeeded} done`
    : '';
  return `up to ${rate.max_per_minute}/min${ramp}; cohort told: ${rate.notified_percent} %`;
}

/** `10 % of inferences for 300 s, min agreement 0.9; since 12:00:03` (or `not started`). */
export function shadowLine(shadow: NonNullable<DeploymentDetail['shadow']>): string {
  const since = shadow.since ? `since ${formatTimeSeconds(shadow.since)}` : 'not started';
  return `${figure(shadow.sample_rate * 100)} % of inferences for ${shadow.duration_s} s, min agreement ${shadow.min_agreement}; ${since}`;
}

/**
 * The plain `deployment status` view, also the frame `--watch` redraws on a terminal; with the
 * health block when `detail` carries the health (a DeploymentStatus).
 */
export function formatDeploymentDetail(detail: DeploymentDetail | DeploymentStatus): string {
  const [phasesA, phasesB] = phaseLines(detail);
  const pairs: [string, string][] = [
    ['model', `${modelLabel(detail)} (${detail.model.id})`],
    ['status', detail.phase ? `${detail.status} (${phaseText(detail)})` : detail.status],
    ['reason', detail.status_reason ?? '-'],
    ['type', detail.deployment_type],
    ['environment', detail.environment],
    ['target', `${detail.target} (groups: ${detail.groups.map((g) => g.name).join(', ') || '-'})`],
  ];
  if (servedAs(detail)) pairs.push(['serve as', detail.serve_as ?? 'default']);
  if (detail.canary) {
    const { steps, step_interval_s: interval } = detail.canary;
    pairs.push(['canary', `${canaryStep(detail)} (steps ${steps.join(', ')}; ${interval} s each)`]);
  }
  if (detail.rate) pairs.push(['rate', rateLine(detail.rate)]);
  if (detail.shadow) pairs.push(['shadow', shadowLine(detail.shadow)]);
  pairs.push(
    ['devices', devicesLine(detail)],
    ['phases', phasesA],
    ['', phasesB],
    ['created', `${formatTimeSeconds(detail.created_at)} by ${detail.created_by}`],
  );
  if (detail.finished_at) pairs.push(['finished', formatTimeSeconds(detail.finished_at)]);
  if (detail.superseded_by) pairs.push(['superseded by', detail.superseded_by]);
  const width = Math.max(...pairs.map(([key]) => key.length));
  let text = `deployment ${detail.id}\n`;
  text += pairs.map(([key, value]) => `  ${key.padEnd(width)}  ${clean(value)}\n`).join('');
  if ('health' in detail) text += formatHealth(detail);

  const failed = detail.progress.failed_devices;
  if (failed.length > 0) {
    text += `failed devices (${failed.length}):\n`;
    text += failed
      .slice(0, SHOWN_FAILED_DEVICES)
      .map((device) => `  ${clean(failedDeviceLine(device))}\n`)
      .join('');
    if (failed.length > SHOWN_FAILED_DEVICES) {
      text += `  ... ${failed.length - SHOWN_FAILED_DEVICES} more (--json lists them all)\n`;
    }
  }
  const deferred = detail.progress.deferred_devices ?? [];
  if (deferred.length > 0) {
    text += `deferred devices (${deferred.length}, update locked by their application):\n`;
    text += deferred
      .slice(0, SHOWN_FAILED_DEVICES)
      .map(
        (d) =>
          `  ${clean(`${d.device_id}  ${d.detail ?? d.reason ?? '-'}  since ${formatTimeSeconds(d.since)}`)}\n`,
      )
      .join('');
    if (deferred.length > SHOWN_FAILED_DEVICES) {
      text += `  ... ${deferred.length - SHOWN_FAILED_DEVICES} more (--json lists them all)\n`;
    }
  }
  const skipped = detail.progress.skipped_devices ?? [];
  if (skipped.length > 0) {
    text += `skipped devices (${skipped.length}, they keep their model):\n`;
    text += skipped
      .slice(0, SHOWN_FAILED_DEVICES)
      .map((d) => `  ${clean(`${d.device_id}  ${d.reason}  (${d.detail})`)}\n`)
      .join('');
    if (skipped.length > SHOWN_FAILED_DEVICES) {
      text += `  ... ${skipped.length - SHOWN_FAILED_DEVICES} more (--json lists them all)\n`;
    }
  }
  const events = detail.events;
  if (events.length > 0) {
    const shown = events.slice(-SHOWN_EVENTS);
    text += `events (${shown.length < events.length ? `last ${shown.length} of ` : ''}${events.length}):\n`;
    text += shown.map((event) => `  ${clean(eventLine(event))}\n`).join('');
  }
  return text;
}

/**
 * One line summing up a deployment for a log (`--watch` without a terminal): status, canary step,
 * devices and the phases that have any. Printed again only when it changes.
 */
export function formatProgressLine(detail: DeploymentDetail): string {
  const parts = [detail.phase === 'observing' ? `${detail.status} (observing)` : detail.status];
  if (detail.canary) parts.push(`canary ${canaryStep(detail)}`);
  parts.push(devicesLine(detail));
  const phases = DEPLOYMENT_PHASES.filter((phase) => phaseCount(detail, phase) > 0).map(
    (phase) => `${phase} ${phaseCount(detail, phase)}`,
  );
  parts.push(phases.length > 0 ? phases.join(', ') : 'no participating devices');
  if (detail.status_reason) parts.push(detail.status_reason);
  return clean(parts.join(' | '));
}

/** `observing, 240 s left`, `rolling out`, `staging`, `paused`. */
function phaseText(detail: DeploymentDetail): string {
  if (detail.phase === 'observing' && detail.observing_since && detail.observe_s !== undefined) {
    const left = detail.observe_s - (Date.now() - Date.parse(detail.observing_since)) / 1000;
    return left > 0 ? `observing, ${Math.ceil(left)} s left` : 'observing, verdict due';
  }
  if (detail.phase === 'shadow' && detail.shadow?.since) {
    const left = detail.shadow.duration_s - (Date.now() - Date.parse(detail.shadow.since)) / 1000;
    return left > 0 ? `shadow, ${Math.ceil(left)} s left` : 'shadow, verdict due';
  }
  return String(detail.phase).replace('_', ' ');
}

/** A deployment event as one log line. */
export function formatEventLine(event: DeploymentEvent): string {
  return clean(`event ${eventLine(event)}`);
}
