/**
 * A layer of pending writes over a backend: per sub-database, key → new value or a tombstone
 * (delete). Used twice by the WriteBuffer: for one batch being written, and for the overlay of
 * all batches applied but not yet committed by the inner backend (there each change remembers
 * the batch that made it, so a commit can drop exactly what it made durable).
 *
 * Keys are held as latin1 strings (one char per byte: string order is byte order, see
 * core/util/bytes.ts) next to their Buffer, so iteration hands out keys without converting back.
 *
 * A hash map, not an ordered one: every write sets and every commit drops each changed key
 * (an ordered map's insert and delete were 4% of a ZooKeeper create's main-thread time), while
 * only a range scan needs key order, and scans of pending writes are rare (loading at start,
 * maintenance). A scan sorts the keys of its sub-database once and keeps them until the next
 * new key or drop.
 */
import { ChurnMap } from '../util/churn-map';
import { lowerBound } from '../util/lower-bound';

/** One pending change. `value` null is a delete. Buffers are owned by the layer (handed over by WriteTxn.put). */
export interface LayerChange {
  key: Buffer;
  value: Buffer | null;
  /** The batch that made this change (overlay only; 0 in a batch's own layer). */
  seq: number;
}

/** Bytes a change is charged for in the memory bound (key, value, and map overhead). */
export function changeBytes(c: LayerChange): number {
  return c.key.length + (c.value?.length ?? 0) + 64;
}

/** One sub-database's changes, and its keys in order once a scan asked for them. */
interface DbChanges {
  /** A ChurnMap: each commit deletes what each write set (see churn-map.ts for why not a Map). */
  changes: ChurnMap<string, LayerChange>;
  sorted: string[] | undefined;
}

/** Pending changes per sub-database. */
export class WriteLayer {
  private readonly dbs = new Map<string, DbChanges>();

  /** The change to `key` in `db`, if any. */
  get(db: string, key: string): LayerChange | undefined {
    return this.dbs.get(db)?.changes.get(key);
  }

  /** Records a change (replacing an earlier one to the same key). */
  set(db: string, key: string, change: LayerChange): void {
    let d = this.dbs.get(db);
    if (!d) this.dbs.set(db, (d = { changes: new ChurnMap(), sorted: undefined }));
    if (d.sorted && !d.changes.has(key)) d.sorted = undefined;
    d.changes.set(key, change);
  }

  /** Removes the change to `key` if it was made by a batch ≤ `seq` (a newer one stays). */
  dropIfUpTo(db: string, key: string, seq: number): void {
    const d = this.dbs.get(db);
    const c = d?.changes.get(key);
    if (c && c.seq <= seq) {
      d!.changes.delete(key);
      d!.sorted = undefined;
      if (d!.changes.size === 0) this.dbs.delete(db);
    }
  }

  /** Whether the layer holds any change to `db`. */
  holds(db: string): boolean {
    return this.dbs.has(db);
  }

  /** Whether the layer holds any change. */
  get empty(): boolean {
    return this.dbs.size === 0;
  }

  /**
   * Calls `fn` for every change, grouped by sub-database, each key once, in the order keys were
   * first set (no allocation per change: a flush walks every change of every batch three
   * times). `fn` must not modify the layer.
   */
  forEach(fn: (db: string, key: string, change: LayerChange) => void): void {
    for (const [db, d] of this.dbs) for (const [k, c] of d.changes) fn(db, k, c);
  }

  /**
   * Changes of `db` with start ≤ key < end, ascending or descending. Lazy: the layer must not
   * change while the iterator is in use (see {@link snapshotRange} for a layer that may).
   */
  range(db: string, start: string, end: string | undefined, reverse: boolean): Iterator<[string, LayerChange]> {
    const d = this.dbs.get(db);
    if (!d) return [][Symbol.iterator]();
    return inRange(d, start, end, reverse);
  }

  /** Like {@link range} but copied first, for a layer written to during the iteration. */
  snapshotRange(db: string, start: string, end: string | undefined, reverse: boolean): Iterator<[string, LayerChange]> {
    const d = this.dbs.get(db);
    if (!d) return [][Symbol.iterator]();
    return [...inRange(d, start, end, reverse)][Symbol.iterator]();
  }
}

function* inRange(d: DbChanges, start: string, end: string | undefined, reverse: boolean): Generator<[string, LayerChange]> {
  const keys = (d.sorted ??= [...d.changes.keys()].sort());
  const from = lowerBound(keys, start);
  const to = end === undefined ? keys.length : lowerBound(keys, end);
  if (!reverse) {
    for (let i = from; i < to; i++) yield [keys[i]!, d.changes.get(keys[i]!)!];
  } else {
    for (let i = to - 1; i >= from; i--) yield [keys[i]!, d.changes.get(keys[i]!)!];
  }
}
