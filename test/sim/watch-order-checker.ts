/**
 * Checks the etcd watch contract on what simulated watchers receive (etcd API guarantees:
 * "Ordered", "Reliable", "Atomic", "Unique"; the robustness suite checks the same ones):
 *
 * - the cluster's change history is one sequence of revisions, learned from the members as they
 *   apply changes; two members disagreeing about a revision is a violation;
 * - a watcher with start revision S and a key filter receives exactly the matching changes with
 *   revision ≥ S, in increasing revision order, each once: no event before S, no gap (a matching
 *   revision skipped), no duplicate, no event the cluster never made, none outside the filter;
 * - this holds across reconnections: a watcher that resumes (its member restarted) continues
 *   after its last received revision;
 * - at the end, after the cluster has healed, every watcher has received every matching change
 *   (nothing was lost at the tail).
 *
 * Each revision holds one change in this simulation (a put), so "atomic per revision" reduces to
 * "a revision's event is delivered whole, once".
 *
 * Independent of Raft: it sees only revisions, keys and values.
 */

/** One change as delivered to a watcher. */
export interface WatchEvent {
  revision: number;
  key: string;
  value: string;
}

/** What a watcher asked for. */
export interface WatchSpec {
  /** For messages: which member serves it, and anything else that identifies it. */
  name: string;
  /** undefined = every key. */
  key: string | undefined;
  /** The first revision it wants (≥ 1). */
  startRevision: number;
}

interface WatcherState {
  spec: WatchSpec;
  /** The next revision this watcher may receive: after its last event, or its start. */
  next: number;
  received: number;
}

/** Records the reference history and every delivery; calls `fail` on the first violation. */
export class WatchOrderChecker {
  /** history[r - 1] = the change at revision r, as first applied by any member. */
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Map<number, WatcherState>();
  deliveries = 0;

  /** `fail` must not return (the simulation turns it into a violation with the seed). */
  constructor(private readonly fail: (message: string) => never) {}

  /** Member `member` applied the change at `e.revision`; all members must agree on it. */
  applied(member: string, e: WatchEvent): void {
    const known = this.history[e.revision - 1];
    if (known !== undefined) {
      if (known.key !== e.key || known.value !== e.value) {
        this.fail(`watch history: member ${member} applied ${show(e)}, another member applied ${show(known)} at that revision`);
      }
      return;
    }
    if (e.revision !== this.history.length + 1) {
      this.fail(`watch history: member ${member} applied revision ${e.revision} but the cluster's history ends at ${this.history.length}`);
    }
    this.history.push({ ...e });
  }

  /** The latest revision any member has applied. */
  get headRevision(): number {
    return this.history.length;
  }

  /** A new watcher with id `id` (unique) starts. */
  started(id: number, spec: WatchSpec): void {
    if (spec.startRevision < 1) throw new RangeError(`start revision ${spec.startRevision} < 1`);
    this.watchers.set(id, { spec, next: spec.startRevision, received: 0 });
  }

  /** Watcher `id` received `e`. */
  delivered(id: number, e: WatchEvent): void {
    const w = this.state(id);
    const name = `watcher ${w.spec.name}`;
    this.deliveries++;
    const known = this.history[e.revision - 1];
    if (known === undefined) this.fail(`${name} received ${show(e)}, a revision no member has applied (history ends at ${this.history.length})`);
    if (known.key !== e.key || known.value !== e.value) this.fail(`${name} received ${show(e)}, but revision ${e.revision} is ${show(known)}`);
    if (w.spec.key !== undefined && e.key !== w.spec.key) this.fail(`${name} (key ${w.spec.key}) received ${show(e)}, outside its filter`);
    if (e.revision < w.next) {
      const why = e.revision < w.spec.startRevision ? `before its start revision ${w.spec.startRevision}` : `after it had already received up to revision ${w.next - 1}`;
      this.fail(`${name} received ${show(e)} ${why} (duplicate or out of order)`);
    }
    const missed = this.firstMatching(w.spec.key, w.next, e.revision);
    if (missed !== undefined) this.fail(`${name} received ${show(e)} but never ${show(missed)} (gap after revision ${w.next - 1})`);
    w.next = e.revision + 1;
    w.received++;
  }

  /**
   * Reliability at the end: every watcher has received all matching changes up to the head.
   * Call once the cluster has healed and every watcher has had time to catch up.
   */
  finish(): void {
    for (const w of this.watchers.values()) {
      const missed = this.firstMatching(w.spec.key, w.next, this.history.length + 1);
      if (missed !== undefined) {
        this.fail(`watcher ${w.spec.name} never received ${show(missed)} (it stopped after revision ${w.next - 1}; the history ends at ${this.history.length})`);
      }
    }
  }

  /** The first change in [from, to) that a watcher on `key` should receive. */
  private firstMatching(key: string | undefined, from: number, to: number): WatchEvent | undefined {
    const end = Math.min(to, this.history.length + 1);
    if (key === undefined) return from < end ? this.history[from - 1] : undefined;
    for (let r = from; r < end; r++) if (this.history[r - 1]!.key === key) return this.history[r - 1];
    return undefined;
  }

  private state(id: number): WatcherState {
    const w = this.watchers.get(id);
    if (w === undefined) throw new RangeError(`unknown watcher ${id}`);
    return w;
  }
}

function show(e: WatchEvent): string {
  return `rev ${e.revision} ${e.key}=${e.value}`;
}
