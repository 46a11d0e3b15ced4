import { STATUS_CODES } from 'node:http';

/** Process exit codes of the `sentinel` CLI. */
export const EXIT = {
  OK: 0,
  /** The hub rejected the request (any non-2xx other than 401/403), or another runtime failure. */
  FAILURE: 1,
  /** Invalid command line or failed local validation; nothing was sent. */
  USAGE: 2,
  /** The hub could not be reached (connection refused, DNS, reset, timeout). */
  UNREACHABLE: 3,
  /** The hub refused the credentials (HTTP 401 or 403). */
  AUTH: 4,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  the hub rejected the request (HTTP 4xx/5xx other than 401/403) or another failure
  2  invalid arguments or local validation failed (nothing was sent)
  3  cannot reach the hub (connection refused, DNS failure, reset, timeout)
  4  authentication or authorization failed (HTTP 401/403)`;

const MAX_MESSAGE_LENGTH = 500;

/** An error whose message is already fit for the user and that knows its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
    this.name = 'UsageError';
  }
}

export class HubApiError extends CliError {
  constructor(
    readonly hubMessage: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(
      `${hubMessage} (HTTP ${status} ${code})`,
      isAuthStatus(status) ? EXIT.AUTH : EXIT.FAILURE,
    );
    this.name = 'HubApiError';
  }
}

export class HubUnreachableError extends CliError {
  constructor(url: string, reason: string) {
    super(`cannot reach hub at ${url}: ${reason}`, EXIT.UNREACHABLE);
    this.name = 'HubUnreachableError';
  }
}

function isAuthStatus(status: number): boolean {
  return status === 401 || status === 403;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE_LENGTH ? `${flat.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : flat;
}

function statusCodeName(status: number): string {
  const text = STATUS_CODES[status];
  return text ? text.toUpperCase().replace(/[^A-Z0-9]+/g, '_') : 'UNKNOWN';
}

/** Builds the error for a non-2xx hub response from its raw body (JSON `{ error, message }` or anything else). */
export function hubApiError(status: number, bodyText: string): HubApiError {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const body: unknown = JSON.parse(bodyText);
    if (body !== null && typeof body === 'object') {
      const { error, message: raw } = body as { error?: unknown; message?: unknown };
      if (typeof error === 'string' && error.trim() !== '') code = oneLine(error);
      if (typeof raw === 'string' && raw.trim() !== '') message = raw;
      // NestJS validation pipes report a list of messages.
      if (Array.isArray(raw) && raw.length > 0) message = raw.map(String).join('; ');
    }
  } catch {
    if (bodyText.trim() !== '') message = bodyText;
  }
  return new HubApiError(
    oneLine(message ?? STATUS_CODES[status] ?? 'unexpected response'),
    status,
    code ?? statusCodeName(status),
  );
}

/** Describes a socket/DNS error, including Node's AggregateError from dual-stack connects whose message is empty. */
export function describeNetworkError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map((inner) => describeNetworkError(inner)).join(', ');
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return oneLine(err.message || code || err.name);
  }
  return oneLine(String(err));
}

export function exitCodeOf(err: unknown): number {
  return err instanceof CliError ? err.exitCode : EXIT.FAILURE;
}

/** The single stderr line printed for any failure. */
export function formatErrorLine(err: unknown): string {
  const message =
    err instanceof CliError
      ? oneLine(err.message)
      : `unexpected error: ${describeNetworkError(err)}`;
  return `sentinel: ${message}\n`;
}
