/**
 * The synced watchers of the watch hub, indexed so that an event finds the watchers that may
 * want it without visiting the others: single-key watchers by their key (etcd's keyWatchers
 * map), range watchers in one set that every event checks (etcd keeps those in an interval
 * tree; ours are few: a ZooKeeper front end holds one). A put of one key then costs the
 * watchers of that key plus the range watchers, however many watchers other keys have.
 */
import { KeyString } from '../util/bytes';
import { Watcher } from './watcher';

const NONE: ReadonlySet<Watcher> = new Set();

/** A set of watchers with lookup by key. */
export class WatcherIndex {
  private readonly byKey = new Map<KeyString, Set<Watcher>>();
  private readonly ranges = new Set<Watcher>();
  private count = 0;

  /** Number of watchers held. */
  get size(): number {
    return this.count;
  }

  /** Adds `w` (no effect when it is held already). */
  add(w: Watcher): void {
    if (!w.single) {
      if (!this.ranges.has(w)) this.count++;
      this.ranges.add(w);
      return;
    }
    let set = this.byKey.get(w.start);
    if (!set) this.byKey.set(w.start, (set = new Set()));
    if (!set.has(w)) this.count++;
    set.add(w);
  }

  /** Removes `w`; true when it was held. */
  delete(w: Watcher): boolean {
    const removed = w.single ? this.deleteSingle(w) : this.ranges.delete(w);
    if (removed) this.count--;
    return removed;
  }

  private deleteSingle(w: Watcher): boolean {
    const set = this.byKey.get(w.start);
    if (!set?.delete(w)) return false;
    if (set.size === 0) this.byKey.delete(w.start);
    return true;
  }

  /** Every watcher held (a copy: the caller may change the index while it iterates). */
  all(): Watcher[] {
    const out = [...this.ranges];
    for (const set of this.byKey.values()) out.push(...set);
    return out;
  }

  /** The watchers of `key` alone; each must still check the event (`accepts`). */
  ofKey(key: KeyString): ReadonlySet<Watcher> {
    return this.byKey.get(key) ?? NONE;
  }

  /** The range watchers; each must still check the event's key. */
  rangeWatchers(): ReadonlySet<Watcher> {
    return this.ranges;
  }
}
