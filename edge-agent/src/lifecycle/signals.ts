import type { Logger } from '../log.js';

/** How long a stop may take before the process exits anyway. */
export const STOP_GRACE_MS = 10_000;

/**
 * SIGTERM and SIGINT stop the agent and exit with code 0, logging the signal; whatever it is
 * doing (a broker that cannot be reached, a download), it exits within `graceMs`: a stop that
 * takes longer, or a second signal, exits with code 1 and says so.
 */
export function stopOnSignals(
  stop: () => Promise<void>,
  log: Logger,
  graceMs: number = STOP_GRACE_MS,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) {
        log.warn('second signal while stopping: exiting now', { signal });
        return exit(1);
      }
      stopping = true;
      log.info('stopping', { signal });
      const deadline = setTimeout(() => {
        log.error('stop did not finish in time: exiting', { signal, grace_ms: graceMs });
        exit(1);
      }, graceMs);
      stop().then(
        () => {
          clearTimeout(deadline);
          log.info('stopped', { signal });
          exit(0);
        },
        (error: Error) => {
          clearTimeout(deadline);
          log.error('stop failed', { signal, error: error.message });
          exit(1);
        },
      );
    });
  }
}
