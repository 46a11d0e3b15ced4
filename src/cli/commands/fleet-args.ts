// Option values of the group, device and token commands, checked locally (UsageError, exit 2).
import {
  WEEKDAYS,
  type MaintenanceWindow,
  type Weekday,
} from '../../fleet/domain/maintenance-window-shape.js';
import { UsageError } from '../cli-errors.js';
import { checkFleetId } from './deployment-args.js';

export const ROLES = ['admin', 'operator', 'viewer'] as const;
const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/; // LABEL_KEY_RE of the hub
const TOKEN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `--label site=north --label camera=ptz` (repeatable) -> { site: 'north', camera: 'ptz' }. */
export function parseLabels(
  pairs: readonly string[] | undefined,
): Record<string, string> | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined;
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq);
    if (eq < 0 || !LABEL_RE.test(key)) {
      throw new UsageError(
        `--label "${pair}" must be key=value with a key of letters, digits, . _ / -`,
      );
    }
    if (key in labels) throw new UsageError(`--label "${key}" is given twice`);
    labels[key] = pair.slice(eq + 1);
  }
  return labels;
}

/** commander's collector for a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function checkDeviceId(value: string): string {
  const id = checkFleetId('device id', value);
  if (id === 'me') throw new UsageError('device id "me" is reserved');
  return id;
}

export function checkRole(value: string): (typeof ROLES)[number] {
  if ((ROLES as readonly string[]).includes(value)) return value as (typeof ROLES)[number];
  throw new UsageError(`--role "${value}" must be one of ${ROLES.join(', ')}`);
}

export function checkTokenName(value: string): string {
  if (!TOKEN_NAME_RE.test(value)) {
    throw new UsageError(
      `token name "${value}" must be 1-64 characters of letters, digits, ".", "_" and "-"`,
    );
  }
  return value;
}

export function parseOnline(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new UsageError(`--online "${value}" must be true or false`);
}

export function checkMqttUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new UsageError(`--mqtt-url "${value}" must be an mqtt://, mqtts://, ws:// or wss:// URL`);
  }
  return value;
}

/**
 * `mon-fri 22:00-04:00 Europe/Berlin` (days as a range or a list such as `sat,sun`, or `daily`;
 * the time zone is optional, UTC by default) -> a maintenance window; the hub checks the rest.
 */
export function parseWindow(spec: string): MaintenanceWindow {
  const parts = spec.trim().split(/\s+/);
  const usage = `--window "${spec}" must be DAYS HH:MM-HH:MM [TIME_ZONE], e.g. "mon-fri 22:00-04:00 Europe/Berlin"`;
  if (parts.length < 2 || parts.length > 3) throw new UsageError(usage);
  const [days, hours, zone] = parts as [string, string, string | undefined];
  const times = /^(\d\d:\d\d)-(\d\d:\d\d)$/.exec(hours);
  if (!times) throw new UsageError(usage);
  return {
    days: parseDays(days, usage),
    start: times[1]!,
    end: times[2]!,
    ...(zone === undefined ? {} : { time_zone: zone }),
  };
}

function parseDays(text: string, usage: string): Weekday[] {
  if (text === 'daily') return [...WEEKDAYS];
  const day = (name: string) => {
    const i = WEEKDAYS.indexOf(name as Weekday);
    if (i < 0) throw new UsageError(usage);
    return i;
  };
  const out = new Set<Weekday>();
  for (const item of text.split(',')) {
    const [from, to] = item.split('-');
    const a = day(from!);
    const b = to === undefined ? a : day(to);
    for (let i = a; ; i = (i + 1) % 7) {
      out.add(WEEKDAYS[i]!);
      if (i === b) break;
    }
  }
  return WEEKDAYS.filter((d) => out.has(d));
}
