/**
 * onnxruntime's own log levels. Its log is native: it goes straight to stderr as coloured text lines,
 * outside the agent's JSON log, so the agent keeps it at `fatal` unless asked (SENTINEL_ORT_LOG_LEVEL).
 * Its errors are not lost: a failed load or run throws, and the agent logs that message as JSON.
 */
export const ORT_LOG_LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;
export type OrtLogLevel = (typeof ORT_LOG_LEVELS)[number];

/** The session option `logSeverityLevel` of a level: 0 (verbose) to 4 (fatal). */
export function ortSeverity(level: OrtLogLevel): 0 | 1 | 2 | 3 | 4 {
  return ORT_LOG_LEVELS.indexOf(level) as 0 | 1 | 2 | 3 | 4;
}
