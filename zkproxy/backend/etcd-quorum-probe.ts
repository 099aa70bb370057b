/**
 * `EtcdQuorumProbe`: whether the etcd cluster behind a remote backend can commit, as seen from
 * this proxy, for ZooKeeper's read-only mode over etcd.
 *
 * etcd runs Raft with CheckQuorum, so a member cut off from the majority forgets its leader
 * within an election timeout (its leader steps down; a follower turns candidate), and
 * Maintenance.Status then reports leader 0. The probe asks Status of the member the proxy talks
 * to at a fixed interval, one call at a time, each with a short deadline. The cluster counts as
 * reachable while the last answer that named a leader is recent; an answer without a leader, a
 * failed call or one that hangs past its deadline lets that answer age out. So the proxy turns
 * read-only when its own member cannot commit, or when it cannot reach etcd at all: both are
 * what a ZooKeeper server cut off from the quorum sees.
 */

/** What the probe asks: the leader the member knows (0 = none). */
export type LeaderQuery = (timeoutMs: number) => Promise<bigint>;

/** Tunables of {@link EtcdQuorumProbe}. */
export interface EtcdQuorumProbeOptions {
  /** Time between probes (default 500 ms). */
  intervalMs?: number;
  /** Deadline of one Status call (default 1000 ms). */
  timeoutMs?: number;
  now?: () => number;
}

/** The probe of one remote backend; started by its first {@link EtcdQuorumProbe.hasQuorum}. */
export class EtcdQuorumProbe {
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  /** When the last answer naming a leader arrived (undefined: none yet). */
  private lastLeaderAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private stopped = false;

  constructor(
    private readonly leader: LeaderQuery,
    opts: EtcdQuorumProbeOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 500;
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Whether an answer naming a leader came within the last two intervals plus a deadline (one
   * late or lost probe is not an outage). Starts probing on the first call: only read-only mode
   * asks, and nothing else needs the calls.
   */
  hasQuorum(): boolean {
    if (this.timer === undefined && !this.stopped) this.start();
    return this.lastLeaderAt !== undefined && this.now() - this.lastLeaderAt <= 2 * this.intervalMs + this.timeoutMs;
  }

  /** Runs one probe now unless one is in flight (also run by the timer). */
  async probe(): Promise<void> {
    if (this.inFlight || this.stopped) return;
    this.inFlight = true;
    try {
      if ((await this.leader(this.timeoutMs)) !== 0n) this.lastLeaderAt = this.now();
    } catch {
      // Unreachable or timed out: the last good answer ages out by itself.
    } finally {
      this.inFlight = false;
    }
  }

  /** Stops probing for good. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private start(): void {
    this.timer = setInterval(() => void this.probe(), this.intervalMs);
    this.timer.unref();
    void this.probe();
  }
}
