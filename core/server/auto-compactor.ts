/**
 * Automatic MVCC compaction, as etcd 3.4's `--auto-compaction-mode` / `--auto-compaction-retention`
 * (etcd.md §2.5): only the leader compacts; followers skip their turns and keep sampling.
 *
 * - `periodic`, retention P: the current revision is sampled every min(P, 1 h)/10; once P has
 *   passed since the last success (then every min(P, 1 h)) the store is compacted to the oldest
 *   sample, the revision of about P ago. So P of history is kept, at most 2P accumulates.
 * - `revision`, retention N: every 5 minutes, compact to current − N (skipped when that is ≤ 0
 *   or unchanged since the last success).
 *
 * A compaction refused because the store is already compacted that far counts as done, as in
 * etcd; any other failure is logged and retried at the next turn.
 */
import { isCoreError } from '../util/core-error';
import { Logger } from '../util/logger';

/** What the compactor drives: normally a Member. */
export interface CompactionTarget {
  /** The store's current revision. */
  currentRevision(): number;
  /** Whether this member leads now (only the leader compacts). */
  isLeader(): boolean;
  /** Proposes a compaction at `rev` and resolves once it is applied. */
  compact(rev: number): Promise<void>;
}

/** Time source and timers (a fake one in tests). */
export interface CompactorClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A parsed auto-compaction setting; `off` when the retention is 0. */
export type AutoCompaction =
  | { mode: 'off' }
  | { mode: 'periodic'; periodMs: number }
  | { mode: 'revision'; revisions: number };

/** etcd's revision-mode check interval. */
export const REVISION_COMPACTION_INTERVAL_MS = 5 * 60_000;
const HOUR_MS = 3_600_000;
/** Samples per compaction interval in periodic mode (etcd's retryDivisor). */
const PERIODIC_DIVISOR = 10;

const SYSTEM_CLOCK: CompactorClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Runs one auto-compaction policy until {@link stop}. */
export class AutoCompactor {
  private timer: unknown;
  private stopped = false;
  private readonly samples: number[] = [];
  private lastSuccess: number;
  private lastRevision = 0;
  /** Periodic mode: the wait before the next compaction (P for the first, then min(P, 1 h)). */
  private baseIntervalMs: number;

  constructor(
    private readonly policy: Exclude<AutoCompaction, { mode: 'off' }>,
    private readonly target: CompactionTarget,
    private readonly logger: Logger,
    private readonly clock: CompactorClock = SYSTEM_CLOCK,
  ) {
    this.lastSuccess = clock.now();
    this.baseIntervalMs = policy.mode === 'periodic' ? policy.periodMs : 0;
  }

  /** Starts the first turn. */
  start(): this {
    if (this.policy.mode === 'periodic') this.periodicTurn();
    else this.schedule(() => void this.revisionTurn(), REVISION_COMPACTION_INTERVAL_MS);
    return this;
  }

  /** Stops; a compaction already proposed still completes. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(fn: () => void, ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(fn, ms);
  }

  /** Periodic mode: sample, wait a tenth of the interval, compact when due. */
  private periodicTurn(): void {
    if (this.policy.mode !== 'periodic') return;
    const period = this.policy.periodMs;
    const interval = Math.min(period, HOUR_MS);
    const keep = Math.floor(period / (interval / PERIODIC_DIVISOR)) + 1;
    this.samples.push(this.target.currentRevision());
    if (this.samples.length > keep) this.samples.shift();
    this.schedule(() => void this.periodicDue(interval).finally(() => this.periodicTurn()), interval / PERIODIC_DIVISOR);
  }

  private async periodicDue(interval: number): Promise<void> {
    if (!this.target.isLeader() || this.clock.now() - this.lastSuccess < this.baseIntervalMs) return;
    this.baseIntervalMs = interval;
    const rev = this.samples[0]!;
    if (await this.compact(rev, 'periodic')) this.lastSuccess = this.clock.now();
  }

  /** Revision mode: every 5 minutes, compact to current − retention. */
  private async revisionTurn(): Promise<void> {
    if (this.policy.mode !== 'revision') return;
    const rev = this.target.currentRevision() - this.policy.revisions;
    if (this.target.isLeader() && rev > 0 && rev !== this.lastRevision && (await this.compact(rev, 'revision'))) this.lastRevision = rev;
    this.schedule(() => void this.revisionTurn(), REVISION_COMPACTION_INTERVAL_MS);
  }

  /** Compacts at `rev`; true when done (or already compacted that far). */
  private async compact(rev: number, mode: string): Promise<boolean> {
    if (this.stopped) return false;
    const started = this.clock.now();
    this.logger.info({ revision: rev, mode }, 'starting auto compaction');
    try {
      await this.target.compact(rev);
      this.logger.info({ revision: rev, mode, tookMs: this.clock.now() - started }, 'completed auto compaction');
      return true;
    } catch (err) {
      if (isCoreError(err, 'compacted')) return true;
      this.logger.warn({ revision: rev, mode, err: String(err) }, 'auto compaction failed; will retry at the next turn');
      return false;
    }
  }
}

/**
 * Parses etcd's two flags. An integer retention is hours in `periodic` mode and a revision
 * count in `revision` mode; `periodic` also takes a Go duration (`30m`, `1h30m`, `1.5s`).
 * Throws an Error with etcd 3.4's wording for an unknown mode or an unparsable retention.
 */
export function parseAutoCompaction(mode: string, retention: string): AutoCompaction {
  if (mode !== 'periodic' && mode !== 'revision') throw new Error(`unknown auto-compaction-mode "${mode}"`);
  const text = retention === '' ? '0' : retention;
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n === 0) return { mode: 'off' };
    return mode === 'periodic' ? { mode, periodMs: n * HOUR_MS } : { mode, revisions: n };
  }
  const ms = parseGoDuration(text);
  if (typeof ms === 'string') throw new Error(`error parsing CompactionRetention: ${ms}`);
  if (ms < 0) throw new Error(`error parsing CompactionRetention: negative retention "${text}"`);
  if (ms === 0) return { mode: 'off' };
  // etcd reads a duration in revision mode as a count of nanoseconds; nobody means that.
  if (mode === 'revision') throw new Error(`auto-compaction-retention "${text}" is a duration; revision mode wants a revision count`);
  return { mode, periodMs: ms };
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: HOUR_MS };

/**
 * A Go `time.ParseDuration` string in milliseconds, or Go's error text for a malformed one
 * (etcd prints that text, so an operator sees the same message from either server).
 */
function parseGoDuration(orig: string): number | string {
  const invalid = `time: invalid duration "${orig}"`;
  let s = orig;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    sign = s[0] === '-' ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return invalid;
  let ms = 0;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    if (num[0] === '' || (num[1] === '' && !num[2])) return invalid;
    s = s.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(s)![0];
    if (unit === '') return `time: missing unit in duration "${orig}"`;
    const scale = UNIT_MS[unit];
    if (scale === undefined) return `time: unknown unit "${unit}" in duration "${orig}"`;
    s = s.slice(unit.length);
    ms += Number(`${num[1] || '0'}.${num[2] ?? ''}0`) * scale;
  }
  return sign * ms;
}
