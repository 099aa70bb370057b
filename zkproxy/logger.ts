/**
 * The logging interface zkproxy takes (pino-compatible; DESIGN §10). It mirrors the core's
 * interface structurally so one pino root logger from `bin/` serves both, without zkproxy
 * importing core (DESIGN §3).
 */

/** Structured log method: an optional object of fields, then a message. */
export interface ZkLogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

/** A leveled logger with child loggers per component. */
export interface ZkLogger {
  trace: ZkLogFn;
  debug: ZkLogFn;
  info: ZkLogFn;
  warn: ZkLogFn;
  error: ZkLogFn;
  fatal: ZkLogFn;
  child(bindings: Record<string, unknown>): ZkLogger;
  /**
   * Whether records at `level` are written (pino has it). A hot path asks before building a
   * record it may not need; a logger without it counts as writing nothing below warn.
   */
  isLevelEnabled?(level: string): boolean;
}

const noop: ZkLogFn = () => {};

/** A logger that drops everything (the default in tests). */
export const silentLogger: ZkLogger = {
  trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop,
  child: () => silentLogger,
};
