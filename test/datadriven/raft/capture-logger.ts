/**
 * A {@link Logger} that writes raft's log lines into the interaction test output, filtered by
 * level, so the golden files show why raft did what it did.
 */
import type { LogFn, Logger } from '../../../core/util/logger';

/** Log levels in increasing severity; `none` silences everything. */
export const LEVELS = ['debug', 'info', 'warn', 'error', 'none'] as const;
export type Level = (typeof LEVELS)[number];

/** Receives formatted lines (e.g. `INFO 1 became leader at term 1`). */
export type LineSink = (line: string) => void;

export class CaptureLogger implements Logger {
  level: Level = 'info';

  constructor(private readonly sink: LineSink) {}

  private make(level: Exclude<Level, 'none'>): LogFn {
    return ((a: object | string, b?: string) => {
      if (LEVELS.indexOf(level) < LEVELS.indexOf(this.level)) return;
      const msg = typeof a === 'string' ? a : (b ?? JSON.stringify(a));
      this.sink(`${level.toUpperCase()} ${msg}`);
    }) as LogFn;
  }

  trace: LogFn = this.make('debug');
  debug: LogFn = this.make('debug');
  info: LogFn = this.make('info');
  warn: LogFn = this.make('warn');
  error: LogFn = this.make('error');
  fatal: LogFn = this.make('error');

  child(): Logger {
    return this;
  }
}
