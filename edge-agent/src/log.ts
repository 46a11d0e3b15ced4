export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

/** One JSON object per line on stderr (journald keeps them as they are). */
export function jsonLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  const write = (at: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[at] > ORDER[level]) return;
    process.stderr.write(
      JSON.stringify({
        time: new Date().toISOString(),
        level: at,
        ...base,
        msg: message,
        ...fields,
      }) + '\n',
    );
  };
  return { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug') };
}

export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

/** `log` with `fields` added to every line (a named model's lines carry `model`). */
export function withFields(log: Logger, fields: Record<string, unknown>): Logger {
  const at =
    (write: Logger['info']) =>
    (message: string, more?: Record<string, unknown>): void =>
      write(message, { ...fields, ...more });
  return {
    error: at(log.error.bind(log)),
    warn: at(log.warn.bind(log)),
    info: at(log.info.bind(log)),
    debug: at(log.debug.bind(log)),
  };
}
