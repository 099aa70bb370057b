/**
 * The small logging interface the core takes. `bin/` makes one pino root logger and passes
 * child loggers down; pino's `Logger` satisfies this interface structurally. Library code never
 * calls `console.*`.
 */

/** Structured log method: an optional object of fields, then a message. */
export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

/** A leveled, structured logger with child loggers per component. */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger that adds `bindings` to every record (e.g. `{ component: 'mvcc' }`). */
  child(bindings: Record<string, unknown>): Logger;
}

const noop: LogFn = () => {};

/** A logger that drops everything; the default in unit tests. */
export const nullLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => nullLogger,
};
