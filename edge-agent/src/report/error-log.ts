import type { Logger } from '../log.js';

const MAX_ERRORS_REPORTED = 10;

/** The agent's recent errors, logged and kept (newest 10, timestamped) for its state reports. */
export class ErrorLog {
  private entries: string[] = [];

  constructor(private readonly log: Logger) {}

  record(message: string): void {
    this.log.warn(message);
    this.entries = [
      ...this.entries.slice(-(MAX_ERRORS_REPORTED - 1)),
      `${new Date().toISOString()} ${message}`,
    ];
  }

  list(): string[] {
    return [...this.entries];
  }
}
