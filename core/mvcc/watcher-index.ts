/**
 * The synced watchers of the watch hub, indexed so that an event finds the watchers that may
 * want it without visiting the others: single-key watchers by their key (etcd's keyWatchers
 * map), range watchers in an interval tree (etcd's `ranges`). A put of one key then costs the
 * watchers of that key plus the range watchers whose range holds it, however many watchers
 * other keys and other ranges have (20,000 clients each watching their own prefix is an
 * ordinary etcd deployment).
 */
import { KeyString } from '../util/bytes';
import { IntervalTree } from '../util/interval-tree';
import { Watcher } from './watcher';

const NONE: ReadonlySet<Watcher> = new Set();

/** A set of watchers with lookup by key. */
export class WatcherIndex {
  private readonly byKey = new Map<KeyString, Set<Watcher>>();
  private readonly ranges = new IntervalTree<Watcher>();
  /** Single-key watchers held (the sets of `byKey` together). */
  private singles = 0;

  /** Number of watchers held. */
  get size(): number {
    return this.singles + this.ranges.size;
  }

  /** Adds `w` (no effect when it is held already). */
  add(w: Watcher): void {
    if (!w.single) {
      this.ranges.add(w, w.start, w.end);
      return;
    }
    let set = this.byKey.get(w.start);
    if (!set) this.byKey.set(w.start, (set = new Set()));
    if (set.has(w)) return;
    set.add(w);
    this.singles++;
  }

  /** Removes `w`; true when it was held. */
  delete(w: Watcher): boolean {
    if (!w.single) return this.ranges.delete(w);
    const set = this.byKey.get(w.start);
    if (!set?.delete(w)) return false;
    if (set.size === 0) this.byKey.delete(w.start);
    this.singles--;
    return true;
  }

  /** Every watcher held (a copy: the caller may change the index while it iterates). */
  all(): Watcher[] {
    const out = this.ranges.values();
    for (const set of this.byKey.values()) out.push(...set);
    return out;
  }

  /** The watchers of `key` alone; each must still check the event (`accepts`). */
  ofKey(key: KeyString): ReadonlySet<Watcher> {
    return this.byKey.get(key) ?? NONE;
  }

  /** Calls `fn` for each watcher whose key or range holds `key`; each must still check the event's type (`accepts`). */
  forEachHolding(key: KeyString, fn: (w: Watcher) => void): void {
    for (const w of this.ofKey(key)) fn(w);
    this.ranges.forEachHolding(key, fn);
  }
}
