/**
 * `HistoryWatchdog`: tells the operator of `coracle zk-proxy` when the etcd cluster behind it
 * keeps its whole history. Every ZooKeeper write adds revisions and ZooKeeper clients never
 * compact, while etcd keeps every revision unless run with `--auto-compaction-retention`; such a
 * cluster grows (≈ 300 bytes per setData) until its NOSPACE alarm stops every write, long after
 * anyone could connect the two.
 *
 * The check is two single-key reads: the current revision, and a read at revision 1, which etcd
 * refuses as compacted once any compaction ran. When the cluster is past `minRevision` and
 * revision 1 still reads, a warning says what to do. It runs shortly after start, then hourly.
 */
import { KvBackend, KvError } from './backend/kv-backend';
import { ZkLogger } from './logger';

/** Timing and threshold of the checks (tests shorten them). */
export interface HistoryWatchdogOptions {
  firstCheckMs: number;
  intervalMs: number;
  /** Below this revision an uncompacted history is no concern yet. */
  minRevision: number;
}

/** Production defaults: first check after a minute, then hourly, from 100k revisions on. */
export const HISTORY_WATCHDOG_DEFAULTS: HistoryWatchdogOptions = { firstCheckMs: 60_000, intervalMs: 3_600_000, minRevision: 100_000 };

/** Runs the checks until {@link stop}. */
export class HistoryWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly backend: KvBackend,
    /** Any existing single key (the cluster-secret key): the reads stay O(log n). */
    private readonly probeKey: Buffer,
    private readonly logger: ZkLogger,
    private readonly opts: HistoryWatchdogOptions = HISTORY_WATCHDOG_DEFAULTS,
  ) {}

  /** Schedules the first check. */
  start(): this {
    this.schedule(this.opts.firstCheckMs);
    return this;
  }

  /** Stops the checks. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One check; resolves true when it warned. */
  async check(): Promise<boolean> {
    try {
      const now = await this.backend.range(this.probeKey, { limit: 1 });
      if (now.revision < this.opts.minRevision) return false;
      await this.backend.range(this.probeKey, { limit: 1, revision: 1 });
      this.logger.warn(
        { revision: now.revision },
        'the etcd cluster keeps its whole history (revision 1 is still readable): every ZooKeeper write adds revisions and ZooKeeper clients never compact, so its database grows until the NOSPACE alarm stops all writes; run etcd with --auto-compaction-retention (for instance 5m), or compact it yourself',
      );
      return true;
    } catch (e) {
      if (!(e instanceof KvError && e.code === 'compacted')) this.logger.debug({ err: String(e) }, 'history check skipped');
      return false;
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.check().finally(() => this.schedule(this.opts.intervalMs));
    }, ms);
    this.timer.unref();
  }
}
