/**
 * The in-memory index of every key's revision history (etcd's `treeIndex` of `keyIndex`es).
 *
 * Each key maps to a {@link KeyHistory}: its revisions in ascending order, each flagged as a
 * put or a tombstone. Values live in the backend, keyed by revision; the index says which
 * revision of a key is visible at a given store revision. It is rebuilt from the backend at
 * start (the backend is the truth; the index is a cache of its shape).
 *
 * Visibility: writers add revisions above the readable revision while readers keep reading at
 * the last durable revision, so every query takes an explicit `atRev` and ignores anything
 * newer. Removing revisions (compaction) must only happen for revisions no reader can ask for.
 *
 * Example (after etcd's keyIndex doc): key "foo" put at 2, put at 4, deleted at 6, put at 9 has
 * history [2, 4, 6t, 9]. At rev 5 the visible revision is 4; at 7 the key is absent; at 9 it is 9.
 * Compacting at 7 keeps nothing ≤ 7 (the newest is a tombstone) and leaves [9].
 */
import { assert, assertFailed } from '../util/assert';
import { KeyString } from '../util/bytes';
import { OrderedMap } from '../util/ordered-map';

const NO_LEASE = 0n;

/** One key's history plus the facts about its newest revision that writers need. */
export class KeyHistory {
  /** Pairs [main, sub*2 + tombstoneBit], ascending by (main, sub). */
  revs: number[] = [];
  /** Create revision of the newest generation (0 when the newest revision is a tombstone). */
  createRevision = 0;
  /** Version of the newest revision (0 when deleted). */
  version = 0;
  /** Lease of the newest revision (0n when none or deleted). */
  lease = NO_LEASE;

  /** True when the key exists at the newest revision. */
  get live(): boolean {
    return this.version > 0;
  }

  /** The newest main revision, or 0 when there is none. */
  get lastMain(): number {
    return this.revs.length ? this.revs[this.revs.length - 2]! : 0;
  }

  /**
   * Index (into revs, even) of the newest revision with main ≤ atRev, or -1.
   * Scans from the end: the common query is "current or nearly current".
   */
  indexAt(atRev: number): number {
    for (let i = this.revs.length - 2; i >= 0; i -= 2) {
      if (this.revs[i]! <= atRev) return i;
    }
    return -1;
  }
}

/** A visible revision of a key. */
export interface VisibleRevision {
  main: number;
  sub: number;
}

/** The index over all keys. */
export class KeyIndex {
  private keys = new OrderedMap<KeyHistory>();

  /** Forgets every key (the store is being reloaded from a replaced backend). */
  clear(): void {
    this.keys = new OrderedMap<KeyHistory>();
  }

  /** Number of keys with any retained history. */
  get size(): number {
    return this.keys.size;
  }

  /** The history of `key`, or undefined; for writers deciding create vs update. */
  history(key: KeyString): KeyHistory | undefined {
    return this.keys.get(key);
  }

  /** Records a put of `key` at (main, sub) with its resulting create revision, version and lease. */
  put(key: KeyString, main: number, sub: number, createRevision: number, version: number, lease: bigint): void {
    let h = this.keys.get(key);
    if (!h) {
      h = new KeyHistory();
      // A literal has exactly the room it needs; a push onto [] reserves 17 slots (≈ 150 bytes
      // per key, and most keys are written once).
      h.revs = [main, sub * 2];
      this.keys.set(key, h);
    } else {
      if (h.lastMain > main) assertFailed(`put revision ${main} below history ${h.lastMain}`);
      h.revs.push(main, sub * 2);
    }
    h.createRevision = createRevision;
    h.version = version;
    // One shared zero instead of each request's own (a bigint is a heap object).
    h.lease = lease === 0n ? NO_LEASE : lease;
  }

  /** Records the deletion of a live `key` at (main, sub). */
  tombstone(key: KeyString, main: number, sub: number): void {
    const h = this.keys.get(key);
    assert(h && h.live, 'tombstone of a key that is not live');
    h.revs.push(main, sub * 2 + 1);
    h.createRevision = 0;
    h.version = 0;
    h.lease = NO_LEASE;
  }

  /** The revision of `key` visible at `atRev`, or null when absent (never written, deleted, or only newer). */
  visibleAt(key: KeyString, atRev: number): VisibleRevision | null {
    const h = this.keys.get(key);
    return h ? visible(h, atRev) : null;
  }

  /**
   * Visible revisions of keys in [start, end) at `atRev`, in key order (or reverse).
   * `end` undefined = to the last key. The index must not change while iterating.
   */
  *rangeAt(start: KeyString, end: KeyString | undefined, atRev: number, reverse = false): IterableIterator<[KeyString, VisibleRevision]> {
    const it = reverse ? this.keys.rangeReverse(start, end) : this.keys.range(start, end);
    for (const [key, h] of it) {
      const v = visible(h, atRev);
      if (v) yield [key, v];
    }
  }

  /**
   * Drops history no reader at a revision ≥ `atRev` can see: per key, everything below the
   * newest revision ≤ atRev, and that one too when it is a tombstone. Returns the dropped
   * revisions so the caller can delete their records. Callers guarantee no read below atRev.
   */
  compact(atRev: number): VisibleRevision[] {
    const dropped: VisibleRevision[] = [];
    const emptied: KeyString[] = [];
    for (const [key, h] of this.keys.range('')) {
      const i = h.indexAt(atRev);
      if (i < 0) continue;
      const tomb = (h.revs[i + 1]! & 1) === 1;
      const cut = tomb ? i + 2 : i;
      for (let j = 0; j < cut; j += 2) dropped.push({ main: h.revs[j]!, sub: h.revs[j + 1]! >> 1 });
      // A fresh array rather than splice: the old one keeps its capacity.
      if (cut > 0) h.revs = h.revs.slice(cut);
      if (h.revs.length === 0) emptied.push(key);
    }
    for (const key of emptied) this.keys.delete(key);
    return dropped;
  }
}

function visible(h: KeyHistory, atRev: number): VisibleRevision | null {
  const i = h.indexAt(atRev);
  if (i < 0) return null;
  const tag = h.revs[i + 1]!;
  if (tag & 1) return null;
  return { main: h.revs[i]!, sub: tag >> 1 };
}
