export interface BoundedLogOptions {
  /** Lines written per interval; the rest are counted and summed up in one line. */
  lines: number;
  intervalMs: number;
  now?: () => number;
  /** Schedules the summary at the end of an interval; default: an unref'd setTimeout. */
  schedule?: (fn: () => void, ms: number) => void;
}

export const DEFAULT_BOUNDED_LOG: Pick<BoundedLogOptions, 'lines' | 'intervalMs'> = {
  lines: 10,
  intervalMs: 60_000,
};

/**
 * A log for events an outsider can trigger at will (refused logins, refused subscriptions, dropped
 * messages): at most `lines` lines per interval, then one line that says how many more there were.
 * So a flood costs a bounded number of log lines; metrics count every event.
 */
export class BoundedLog {
  private windowStart = -Infinity;
  private written = 0;
  private suppressed = 0;
  private summaryScheduled = false;
  private readonly now: () => number;
  private readonly schedule: (fn: () => void, ms: number) => void;

  constructor(
    private readonly write: (line: string) => void,
    private readonly options: BoundedLogOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.schedule = options.schedule ?? ((fn, ms) => void setTimeout(fn, Math.max(0, ms)).unref());
  }

  /** Writes the line, or counts it if this interval's lines are used up; true if written. */
  report(line: string): boolean {
    const now = this.now();
    if (now - this.windowStart >= this.options.intervalMs) {
      this.flush();
      this.windowStart = now;
      this.written = 0;
    }
    if (this.written < this.options.lines) {
      this.written += 1;
      this.write(line);
      return true;
    }
    this.suppressed += 1;
    if (!this.summaryScheduled) {
      this.summaryScheduled = true;
      this.schedule(
        () => {
          this.summaryScheduled = false;
          this.flush();
        },
        this.windowStart + this.options.intervalMs - now,
      );
    }
    return false;
  }

  /** Writes the summary of the lines held back, if any. */
  flush(): void {
    if (this.suppressed === 0) return;
    const seconds = Math.round(this.options.intervalMs / 1000);
    this.write(
      `... and ${this.suppressed} more like these in ${seconds} s (not logged; counted in /metrics)`,
    );
    this.suppressed = 0;
  }
}
