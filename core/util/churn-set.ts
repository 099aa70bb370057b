import { CHURN_MAP_MIN_DELETES } from './churn-map';

/**
 * A `Set` for long-lived registries whose members come and go all the time (the calls in flight
 * on a server). Same hazard and same remedy as {@link ChurnMap} (see churn-map.ts): a plain Set's
 * replaced hash tables, once one has been through a full GC, keep every later table and the
 * members they held alive through young-generation GCs; this set moves to a fresh Set once it has
 * seen as many deletions as it holds members (at least {@link CHURN_MAP_MIN_DELETES}).
 *
 * Iteration is in insertion order, and deleting members while iterating is safe as with a Set
 * (a move happens only in `add`). Members added while an iterator is open may not be seen by it.
 */
export class ChurnSet<T> implements Iterable<T> {
  private set = new Set<T>();
  private deletes = 0;

  /** Number of members. */
  get size(): number {
    return this.set.size;
  }

  /** Whether `value` is a member. */
  has(value: T): boolean {
    return this.set.has(value);
  }

  /** Adds `value`; may move the members to a fresh Set first. */
  add(value: T): this {
    if (this.deletes >= CHURN_MAP_MIN_DELETES && this.deletes >= this.set.size) {
      this.set = new Set(this.set);
      this.deletes = 0;
    }
    this.set.add(value);
    return this;
  }

  /** Removes `value`; true when it was a member. */
  delete(value: T): boolean {
    if (!this.set.delete(value)) return false;
    this.deletes++;
    return true;
  }

  /** Removes every member (into a fresh Set). */
  clear(): void {
    this.set = new Set();
    this.deletes = 0;
  }

  /** The members in insertion order. */
  [Symbol.iterator](): IterableIterator<T> {
    return this.set.values();
  }
}
