// The protocol's enumerations and limits, shared by the message schemas (messages.ts).

/** Largest payload the broker accepts and the parsers read, in bytes. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

export const STRATEGIES = ['blue-green', 'canary', 'pinned', 'none'] as const;
export const SLOTS = ['blue', 'green'] as const;
export const DEPLOYMENT_PHASES = [
  'notified',
  'downloading',
  'verifying',
  'staged',
  /** Staged, but the application holds the device's update lock: the swap waits (section 6.4). */
  'deferred',
  'active',
  'failed',
  'rolled_back',
] as const;
/** Reason codes a device reports with `deferred`. */
export const DEFERRAL_REASONS = ['update_locked'] as const;
/** Reason codes a device reports with `failed` / `rolled_back`; the schema accepts any snake_case code. */
export const FAILURE_REASONS = [
  'hash_mismatch',
  'bad_signature',
  'unsigned',
  'load_error',
  'health_check',
  'download_failed',
  'disk_full',
  'too_large',
  'timeout',
  'error_burst',
  'manual',
  'incompatible',
] as const;
export const COMMANDS = ['rollback', 'reload', 'ping'] as const;

export type Strategy = (typeof STRATEGIES)[number];
export type Slot = (typeof SLOTS)[number];
export type DeploymentPhase = (typeof DEPLOYMENT_PHASES)[number];
export type FailureReason = (typeof FAILURE_REASONS)[number];
export type CommandName = (typeof COMMANDS)[number];
