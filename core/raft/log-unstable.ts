/**
 * The not-yet-durable tail of the log (etcd-io/raft `unstable`): entries raft has accepted but
 * the application has not yet reported as persisted, and possibly an incoming snapshot. The
 * `Ready` hands these out; `advance` marks them stable and they are dropped from here (by then
 * the application has appended them to its `RaftStorage`).
 *
 * Invariant: `entries[i]` has index `offset + i`; if a snapshot is held, `offset` is
 * snapshot.index + 1 or later.
 */
import { assert } from '../util/assert';
import type { Entry, Snapshot } from './types';

/** Unstable entries and snapshot, not yet written to storage. */
export class Unstable {
  /** An incoming snapshot that is not yet durable. */
  snapshot: Snapshot | undefined = undefined;
  /** Entries not yet durable, starting at `offset`. */
  entries: Entry[] = [];
  /** The index of `entries[0]` (or where the next entry will go). */
  offset: number;

  constructor(offset: number) {
    assert(Number.isSafeInteger(offset) && offset >= 1, `bad unstable offset ${offset}`);
    this.offset = offset;
  }

  /** The first index the log has if a snapshot is pending here, else undefined. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  /** The last index held here (entries, else the snapshot's), or undefined if empty. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.metadata.index : undefined;
  }

  /** The term of entry i if this structure knows it, else undefined. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]!.term;
  }

  /**
   * Entries up to (i, t) are durable: drop them. Ignored when entry i is no longer (i, t),
   * which happens when a newer leader overwrote it after the Ready was handed out; the new
   * entry still has to be persisted.
   */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined) return;
    if (gt === t && i >= this.offset) {
      this.entries = this.entries.slice(i + 1 - this.offset);
      this.offset = i + 1;
    }
  }

  /** The snapshot at index i is durable: drop it. */
  stableSnapTo(i: number): void {
    if (this.snapshot && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  /** Replaces everything with an incoming snapshot. */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  /**
   * Appends `ents` (contiguous, non-empty), truncating any held entries at or after
   * `ents[0].index` first (Raft thesis §3.5: a conflicting suffix is replaced).
   */
  truncateAndAppend(ents: Entry[]): void {
    assert(ents.length > 0, 'truncateAndAppend: no entries');
    const first = ents[0]!.index;
    if (first === this.offset + this.entries.length) {
      // The common case: a direct continuation.
      this.entries = this.entries.concat(ents);
    } else if (first <= this.offset) {
      // Replaces everything held here; the storage suffix from `first` on is superseded too
      // (the application's append at `first` truncates it).
      this.offset = first;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, first - this.offset).concat(ents);
    }
  }

  /** Entries [lo, hi) held here; lo must be ≥ offset and hi ≤ last+1. */
  slice(lo: number, hi: number): Entry[] {
    assert(lo <= hi, `invalid unstable.slice ${lo} > ${hi}`);
    const upper = this.offset + this.entries.length;
    assert(lo >= this.offset && hi <= upper, `unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
