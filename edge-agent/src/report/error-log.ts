import type { Logger } from '../log.js';

const MAX_ERRORS_REPORTED = 10;

/** Where a part of the agent records an error for the state reports. */
export interface ErrorSink {
  record(message: string): void;
}

/** The agent's recent errors, logged and kept (newest 10, timestamped) for its state reports. */
export class ErrorLog implements ErrorSink {
  private entries: string[] = [];

  constructor(private readonly log: Logger) {}

  record(message: string): void {
    this.log.warn(message);
    this.entries = [
      ...this.entries.slice(-(MAX_ERRORS_REPORTED - 1)),
      `${new Date().toISOString()} ${message}`,
    ];
  }

  /** The same log, each message starting with `prefix` (a named model's errors: "classifier: "). */
  prefixed(prefix: string): ErrorSink {
    return { record: (message) => this.record(`${prefix}${message}`) };
  }

  list(): string[] {
    return [...this.entries];
  }
}
