import type { FailureReason } from '@sentinel/broker/protocol';

/**
 * A failure the agent reports to the hub: a reason code from the protocol (FAILURE_REASONS) and
 * one line for people. The agent keeps serving its current model whenever one of these is thrown.
 */
export class AgentError extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message.replace(/\s+/g, ' ').trim(), options);
    this.name = 'AgentError';
  }
}

export function reasonOf(error: unknown): FailureReason {
  return error instanceof AgentError ? error.reason : 'load_error';
}

const DISK_FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** Whether a file system error means "no room": no space, quota exceeded, file size limit. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && DISK_FULL_CODES.has(code);
}
