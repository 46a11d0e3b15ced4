// What a maintenance window is (maintenance-windows.ts decides with it). No dependencies: the CLI
// parses windows with these names without carrying the calendar library.
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MaintenanceWindow {
  /** The days a window opens on (in its time zone). */
  days: Weekday[];
  /** HH:MM, local time; `end` at or before `start` closes the next day (e.g. 22:00-04:00). */
  start: string;
  end: string;
  /** IANA time zone, e.g. Europe/Berlin; default UTC. */
  time_zone?: string;
}
