/**
 * Maintenance windows of a device group (days, hours, time zone): when a rollout may notify its
 * devices (deployments/domain/schedule.ts). Pure; luxon does the calendar arithmetic in the zone.
 */
import { DateTime, IANAZone } from 'luxon';
import { WEEKDAYS, type MaintenanceWindow } from './maintenance-window-shape.js';

export { WEEKDAYS, type MaintenanceWindow, type Weekday } from './maintenance-window-shape.js';

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Why `window` is not usable, or null. */
export function checkWindow(window: MaintenanceWindow): string | null {
  if (window.days.length === 0) return 'a maintenance window needs at least one day';
  const bad = window.days.find((d) => !WEEKDAYS.includes(d));
  if (bad !== undefined) return `day "${bad}" must be one of ${WEEKDAYS.join(', ')}`;
  for (const key of ['start', 'end'] as const) {
    if (!HHMM.test(window[key])) return `${key} "${window[key]}" must be HH:MM (00:00-23:59)`;
  }
  if (window.start === window.end) return 'start and end must differ';
  if (window.time_zone !== undefined && !IANAZone.isValidZone(window.time_zone))
    return `time_zone "${window.time_zone}" is not an IANA time zone (e.g. Europe/Berlin)`;
  return null;
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/** The openings of `window` starting on the local days `from`..`to` days from now's local day. */
function openings(window: MaintenanceWindow, now: Date, from: number, to: number) {
  const zone = window.time_zone ?? 'UTC';
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  let length = minutes(window.end) - minutes(window.start);
  if (length <= 0) length += 24 * 60;
  const out: { start: Date; end: Date }[] = [];
  for (let offset = from; offset <= to; offset++) {
    const day = today.plus({ days: offset });
    if (!window.days.includes(WEEKDAYS[day.weekday - 1]!)) continue;
    const start = day.set({
      hour: Number(window.start.slice(0, 2)),
      minute: minutes(window.start) % 60,
    });
    out.push({ start: start.toJSDate(), end: start.plus({ minutes: length }).toJSDate() });
  }
  return out;
}

export type WindowState =
  { open: true; until: Date | null } | { open: false; opensAt: Date | null };

/**
 * Whether new devices may be notified at `now` under `windows` (none: always), and until when it is
 * open or when it opens next (null: never within a week, e.g. no day listed).
 */
export function windowState(windows: readonly MaintenanceWindow[], now: Date): WindowState {
  if (windows.length === 0) return { open: true, until: null };
  const t = now.getTime();
  let until: number | null = null;
  let opensAt: number | null = null;
  for (const window of windows) {
    for (const { start, end } of openings(window, now, -1, 8)) {
      if (start.getTime() <= t && t < end.getTime()) until = Math.max(until ?? 0, end.getTime());
      else if (start.getTime() > t) opensAt = Math.min(opensAt ?? Infinity, start.getTime());
    }
  }
  if (until !== null) return { open: true, until: new Date(until) };
  return { open: false, opensAt: opensAt === null ? null : new Date(opensAt) };
}
