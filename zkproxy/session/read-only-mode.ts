/**
 * `ReadOnlyMode`: whether the proxy serves read-only clients now (ZooKeeper's read-only mode,
 * `readonlymode.enabled`).
 *
 * A ZooKeeper server cut off from its quorum stops serving; with read-only mode on it starts a
 * read-only server after max(2 s, tickTime) of looking for a leader, serving the last state it
 * has to clients that allow it (canBeReadOnly), and drops that server, with every connection,
 * once it rejoins a quorum. Here the store says whether a quorum is reachable (KvBackend.hasQuorum:
 * the member's Raft state in the embedded server, a Status probe of the etcd member over etcd;
 * with CheckQuorum a member that cannot reach a majority knows no leader), and the switch
 * follows it with the same delay. What the proxy does on each switch (close the
 * connections of the mode it leaves) is the owner's, through the hooks.
 */
import { ZkLogger } from '../logger';

/** What {@link ReadOnlyMode} tells its owner. */
export interface ReadOnlyHooks {
  /** The proxy now serves read-only (the quorum has been out of reach for the delay). */
  entered(): void;
  /** The quorum is back: the proxy serves read/write again. */
  left(): void;
}

/** Tunables of {@link ReadOnlyMode}. */
export interface ReadOnlyModeOptions {
  /** How long the quorum must be out of reach before serving read-only (ZooKeeper: max(2000, tickTime)). */
  enterAfterMs: number;
  /** How often the quorum is probed (default 200 ms). */
  checkIntervalMs?: number;
  now?: () => number;
}

/** The read-only switch of one proxy. */
export class ReadOnlyMode {
  private on = false;
  private lostSince: number | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  /** @param hasQuorum whether the store can commit from here now (KvBackend.hasQuorum) */
  constructor(
    private readonly hasQuorum: () => boolean,
    private readonly hooks: ReadOnlyHooks,
    private readonly opts: ReadOnlyModeOptions,
    private readonly logger: ZkLogger,
  ) {
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.check(), opts.checkIntervalMs ?? 200);
    this.timer.unref();
  }

  /** True while the proxy serves read-only. */
  get active(): boolean {
    return this.on;
  }

  /** Probes the quorum and switches when due (also run by the timer). */
  check(): void {
    const now = this.now();
    if (this.hasQuorum()) {
      this.lostSince = undefined;
      if (!this.on) return;
      this.on = false;
      this.logger.info('quorum reachable again; serving read/write clients, closing read-only connections');
      this.hooks.left();
      return;
    }
    this.lostSince ??= now;
    if (this.on || now - this.lostSince < this.opts.enterAfterMs) return;
    this.on = true;
    this.logger.warn({ unreachableMs: now - this.lostSince }, 'quorum out of reach; serving read-only clients (canBeReadOnly) from the last state this member has');
    this.hooks.entered();
  }

  /** Stops probing. */
  stop(): void {
    clearInterval(this.timer);
  }
}
