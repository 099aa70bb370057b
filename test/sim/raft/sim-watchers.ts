/**
 * Simulated watchers, each attached to one member and fed from that member's applied KV history
 * (as an etcd member serves its watch streams from its own MVCC store), with every delivery
 * reported to the {@link WatchOrderChecker}.
 *
 * A watcher is synced after every change of its member's state: it receives, in order, every
 * revision from its next one up to the member's current revision that matches its key filter.
 * The same loop serves a watcher that is live, one that starts in the past (it catches up from
 * the history), one that starts in the future (it waits), and one whose member jumped ahead by
 * installing a snapshot (the snapshot carries the history). When its member crashes, a watcher
 * loses its connection; when the member restarts it resumes after the last revision it
 * received, as an etcd client does.
 */
import type { SeededRand } from '../../../core/util/rand';
import type { WatchOrderChecker } from '../watch-order-checker';
import type { Canary, SimNode } from './sim-node';

/** Per member: watchers opened at the start of the run, and at most this many in all. */
const INITIAL_PER_NODE = 2;
const MAX_PER_NODE = 4;
/** Watchers opened later start this far around their member's revision (etcd: ±100). */
const START_OFFSET = 30;
const KEYS = ['k0', 'k1', 'k2'];

interface SimWatcher {
  id: number;
  node: bigint;
  key: string | undefined;
  startRevision: number;
  /** The next revision to look at on the member (server-side position, lost on a crash). */
  next: number;
  /** The last revision received (client side, survives the connection); 0 = none yet. */
  lastReceived: number;
  connected: boolean;
}

/** All watchers of one run. */
export class SimWatchers {
  private readonly watchers: SimWatcher[] = [];

  constructor(
    private readonly nodes: readonly SimNode[],
    private readonly checker: WatchOrderChecker,
    private readonly rand: SeededRand,
    private readonly canary: Canary,
  ) {
    for (const n of nodes) {
      for (let i = 0; i < INITIAL_PER_NODE; i++) this.open(n, i === 0 ? undefined : this.randomKey(), 1);
    }
  }

  get count(): number {
    return this.watchers.length;
  }

  private randomKey(): string | undefined {
    const i = this.rand.intn(KEYS.length + 1);
    return i === KEYS.length ? undefined : KEYS[i];
  }

  /** Maybe opens a watcher on a random up member, around its current revision. */
  maybeOpen(): void {
    const up = this.nodes.filter((n) => n.up);
    const n = up[this.rand.intn(up.length)]!;
    if (this.watchers.filter((w) => w.node === n.id).length >= MAX_PER_NODE) return;
    const start = Math.max(1, n.kv.revision + 1 - START_OFFSET + this.rand.intn(2 * START_OFFSET + 1));
    this.open(n, this.randomKey(), start);
  }

  private open(n: SimNode, key: string | undefined, startRevision: number): void {
    const w: SimWatcher = { id: this.watchers.length + 1, node: n.id, key, startRevision, next: startRevision, lastReceived: 0, connected: true };
    this.watchers.push(w);
    this.checker.started(w.id, { name: `${w.id} on member ${n.id} (key ${key ?? '*'}, from rev ${startRevision})`, key, startRevision });
    this.sync(w);
  }

  /** Delivers everything due to `w` from its member's history. */
  private sync(w: SimWatcher): void {
    if (!w.connected) return;
    const kv = this.nodes[Number(w.node) - 1]!.kv;
    for (; w.next <= kv.revision; w.next++) {
      const e = kv.event(w.next)!;
      if (w.key !== undefined && e.key !== w.key) continue;
      this.checker.delivered(w.id, e);
      w.lastReceived = e.revision;
    }
  }

  /** Member `id` applied entries (or restarted): sync its watchers. */
  changed(id: bigint): void {
    for (const w of this.watchers) if (w.node === id) this.sync(w);
  }

  /** Member `id` installed a snapshot. */
  snapshotInstalled(id: bigint): void {
    const kv = this.nodes[Number(id) - 1]!.kv;
    for (const w of this.watchers) {
      if (w.node !== id || !w.connected) continue;
      // The canary: treat the snapshot as "now" and skip the revisions it brought in.
      if (this.canary === 'watch-skip' && w.next <= kv.revision) w.next = kv.revision + 1;
      this.sync(w);
    }
  }

  /** Member `id` crashed: its watchers lose their connections (and server-side positions). */
  crashed(id: bigint): void {
    for (const w of this.watchers) if (w.node === id) w.connected = false;
  }

  /** Member `id` restarted: its watchers reconnect after the last revision they received. */
  restarted(id: bigint): void {
    for (const w of this.watchers) {
      if (w.node !== id) continue;
      w.connected = true;
      if (w.lastReceived === 0) w.next = w.startRevision;
      // The canary: an off-by-one resume that replays the last event received.
      else w.next = this.canary === 'watch-dup' ? w.lastReceived : w.lastReceived + 1;
      this.sync(w);
    }
  }
}
