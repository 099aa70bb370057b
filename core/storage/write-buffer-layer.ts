/**
 * An ordered layer of pending writes over a backend: per sub-database, key → new value or a
 * tombstone (delete). Used twice by the WriteBuffer: for one batch being written, and for the
 * overlay of all batches applied but not yet committed by the inner backend (there each change
 * remembers the batch that made it, so a commit can drop exactly what it made durable).
 *
 * Keys are held as latin1 strings (one char per byte: string order is byte order, see
 * core/util/bytes.ts) next to their Buffer, so iteration hands out keys without converting back.
 */
import { OrderedMap } from '../util/ordered-map';

/** One pending change. `value` null is a delete. Buffers are owned by the layer (copied in). */
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

/** Ordered pending changes per sub-database. */
export class WriteLayer {
  private readonly dbs = new Map<string, OrderedMap<LayerChange>>();

  /** The change to `key` in `db`, if any. */
  get(db: string, key: string): LayerChange | undefined {
    return this.dbs.get(db)?.get(key);
  }

  /** Records a change (replacing an earlier one to the same key). */
  set(db: string, key: string, change: LayerChange): void {
    let m = this.dbs.get(db);
    if (!m) this.dbs.set(db, (m = new OrderedMap()));
    m.set(key, change);
  }

  /** Removes the change to `key` if it was made by a batch ≤ `seq` (a newer one stays). */
  dropIfUpTo(db: string, key: string, seq: number): void {
    const m = this.dbs.get(db);
    const c = m?.get(key);
    if (c && c.seq <= seq) {
      m!.delete(key);
      if (m!.size === 0) this.dbs.delete(db);
    }
  }

  /** Whether the layer holds any change. */
  get empty(): boolean {
    return this.dbs.size === 0;
  }

  /**
   * Calls `fn` for every change, grouped by sub-database, in key order (no allocation per
   * change: a flush walks every change of every batch three times). `fn` must not modify the layer.
   */
  forEach(fn: (db: string, key: string, change: LayerChange) => void): void {
    for (const [db, m] of this.dbs) m.forEach((k, c) => fn(db, k, c));
  }

  /**
   * Changes of `db` with start ≤ key < end, ascending or descending. Lazy: the layer must not
   * change while the iterator is in use (see {@link snapshotRange} for a layer that may).
   */
  range(db: string, start: string, end: string | undefined, reverse: boolean): Iterator<[string, LayerChange]> {
    const m = this.dbs.get(db);
    if (!m) return [][Symbol.iterator]();
    return reverse ? m.rangeReverse(start, end) : m.range(start, end);
  }

  /** Like {@link range} but copied first, for a layer written to during the iteration. */
  snapshotRange(db: string, start: string, end: string | undefined, reverse: boolean): Iterator<[string, LayerChange]> {
    const m = this.dbs.get(db);
    if (!m) return [][Symbol.iterator]();
    return [...(reverse ? m.rangeReverse(start, end) : m.range(start, end))][Symbol.iterator]();
  }
}
