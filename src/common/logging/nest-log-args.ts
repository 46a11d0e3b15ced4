// How a Nest LoggerService call becomes a pino call: the same mapping nestjs-pino made, which the
// hub used until it dropped that package (it wants Node >= 22.12; the hub supports Node 20.19).
export type PinoLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface PinoCall {
  /** Merged into the log line: `context` (the last optional parameter), `err`, or the object logged. */
  fields: Record<string, unknown>;
  /** The message and its format arguments, if any. */
  args: unknown[];
}

/**
 * Nest calls `logger.log(message, ...params, context)`: the last parameter is the context. Its
 * exception handlers call `error(message, stack, context)`, which becomes an `err` with that stack.
 */
export function nestLogArgs(level: PinoLevel, message: unknown, optional: unknown[]): PinoCall {
  const fields: Record<string, unknown> = {};
  let params: unknown[] = [];
  if (optional.length > 0) {
    fields.context = optional[optional.length - 1];
    params = optional.slice(0, -1);
  }
  if (message instanceof Error) {
    fields.err = message;
    return { fields, args: params };
  }
  if (typeof message === 'object' && message !== null) {
    Object.assign(fields, message);
    return { fields, args: params };
  }
  if (
    level === 'error' &&
    typeof message === 'string' &&
    params.length === 1 &&
    typeof params[0] === 'string' &&
    /\n\s*at /.test(params[0])
  ) {
    const err = new Error(message);
    err.stack = params[0];
    fields.err = err;
    return { fields, args: [] };
  }
  return { fields, args: [message, ...params] };
}
