/** Fewest deletions before a {@link ChurnMap} moves to a fresh Map (small maps copy cheaply). */
export const CHURN_MAP_MIN_DELETES = 64;

/**
 * A `Map` for long-lived registries whose entries come and go all the time: the proposals in
 * flight, the pending writes of a buffer.
 *
 * Why not a plain `Map`: V8 replaces a Map's hash table as entries are added and deleted, and
 * the table it replaces keeps a pointer to its successor and to the entries it held (so that
 * live iterators can follow). While the tables are young that costs nothing. But a full GC moves
 * the current table of a live Map to the old generation, and once that table is replaced it is
 * garbage that only the next full GC can free: until then the young-generation GC treats its
 * pointers as roots, so its successor survives and is promoted too, which keeps the next one,
 * and so on. Every table of the chain, and every value any of them held (a proposal's promise,
 * and through it the whole request), then survives the scavenges and fills the old generation:
 * in the ZooKeeper write benchmark a scavenge promoted 1.3–1.8 MB after the first full GC under
 * load, against 50–200 KB before it (bench/RESULTS.md, session 28).
 *
 * This map moves its entries to a fresh `Map` once it has seen as many deletions as it holds
 * entries (at least {@link CHURN_MAP_MIN_DELETES}): a fresh Map's table has no predecessor, so
 * a chain ends within one such period. The copy costs O(size) per at least max(64, size)
 * deletions.
 *
 * Iteration order is insertion order as with `Map`, and deleting entries while iterating is
 * safe as with a Map (a move happens only in `set`). Entries set while an iterator is open may
 * not be seen by it (they can land in the fresh Map).
 */
export class ChurnMap<K, V> implements Iterable<[K, V]> {
  private map = new Map<K, V>();
  private deletes = 0;

  /** Number of entries. */
  get size(): number {
    return this.map.size;
  }

  /** The value for `key`, if any. */
  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Whether `key` has a value. */
  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Sets `key` (replacing its value if present); may move the entries to a fresh Map first. */
  set(key: K, value: V): this {
    if (this.deletes >= CHURN_MAP_MIN_DELETES && this.deletes >= this.map.size) {
      this.map = new Map(this.map);
      this.deletes = 0;
    }
    this.map.set(key, value);
    return this;
  }

  /** Removes `key`; true when it was present. */
  delete(key: K): boolean {
    if (!this.map.delete(key)) return false;
    this.deletes++;
    return true;
  }

  /** Removes every entry (into a fresh Map, for the same reason as above). */
  clear(): void {
    this.map = new Map();
    this.deletes = 0;
  }

  /** The values in insertion order. */
  values(): IterableIterator<V> {
    return this.map.values();
  }

  /** The keys in insertion order. */
  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  /** The entries in insertion order. */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.map.entries();
  }
}
