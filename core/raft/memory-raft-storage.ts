/**
 * The in-memory reference implementation of {@link RaftStorage} (etcd-io/raft `MemoryStorage`).
 * etcd itself keeps the live log in such a structure in front of its WAL; tests and the
 * simulator use it as the whole "disk".
 *
 * Layout: `ents[0]` is a dummy entry holding the snapshot's (or compaction point's) index and
 * term, so that `term(firstIndex()-1)` works for log matching; real entries follow with
 * consecutive indexes.
 */
import { assert } from '../util/assert';
import { limitSize } from './entry-size';
import { ErrCompacted, ErrSnapOutOfDate, ErrUnavailable } from './errors';
import type { InitialState, RaftStorage } from './storage';
import {
  type ConfState,
  EMPTY_BYTES,
  type Entry,
  EntryType,
  type HardState,
  type Snapshot,
  emptyHardState,
  emptySnapshot,
} from './types';

function dummyEntry(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: EMPTY_BYTES };
}

function copyConfState(cs: ConfState): ConfState {
  return {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
    autoLeave: cs.autoLeave,
  };
}

/** An in-memory raft log, hard state and snapshot. Not durable; not thread-shared. */
export class MemoryRaftStorage implements RaftStorage {
  private hardState: HardState = emptyHardState();
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [dummyEntry(0, 0)];

  /** A fresh storage whose initial configuration is `voters` (and `learners`). */
  static withPeers(voters: bigint[], learners: bigint[] = []): MemoryRaftStorage {
    const s = new MemoryRaftStorage();
    s.snap.metadata.confState.voters = [...voters];
    s.snap.metadata.confState.learners = [...learners];
    return s;
  }

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: copyConfState(this.snap.metadata.confState) };
  }

  /** Replaces the saved hard state. */
  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    assert(lo <= hi, `entries: lo ${lo} > hi ${hi}`);
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw ErrCompacted;
    assert(hi <= this.lastIndex() + 1, `entries: hi ${hi} is out of bound lastindex ${this.lastIndex()}`);
    // Only the dummy entry: nothing has been appended since the snapshot.
    if (this.ents.length === 1) throw ErrUnavailable;
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw ErrCompacted;
    if (i - offset >= this.ents.length) throw ErrUnavailable;
    return this.ents[i - offset]!.term;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /**
   * Replaces the whole contents with `snap` (a follower installing a leader's snapshot). Throws
   * `ErrSnapOutOfDate` if it is not newer than the snapshot already held.
   */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index <= this.snap.metadata.index) throw ErrSnapOutOfDate;
    this.snap = snap;
    this.ents = [dummyEntry(snap.metadata.index, snap.metadata.term)];
  }

  /**
   * Records a snapshot at applied index `i` (≤ lastIndex) with the application's `data` and,
   * if given, the configuration in force at `i`. Does not compact; call {@link compact}.
   * Throws `ErrSnapOutOfDate` if `i` is not newer than the current snapshot.
   */
  createSnapshot(i: number, confState: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw ErrSnapOutOfDate;
    const offset = this.ents[0]!.index;
    assert(i <= this.lastIndex(), `snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    const cs = confState ? copyConfState(confState) : copyConfState(this.snap.metadata.confState);
    this.snap = { data, metadata: { index: i, term: this.ents[i - offset]!.term, confState: cs } };
    return this.snap;
  }

  /**
   * Discards entries up to and including `compactIndex` (which must be ≤ the applied index; the
   * application guarantees that). Throws `ErrCompacted` if already compacted that far.
   */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) throw ErrCompacted;
    assert(compactIndex <= this.lastIndex(), `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    const i = compactIndex - offset;
    const rest = this.ents.slice(i + 1);
    this.ents = [dummyEntry(this.ents[i]!.index, this.ents[i]!.term), ...rest];
  }

  /**
   * Appends entries, which must be contiguous and start no later than lastIndex()+1. Entries at
   * or below the compaction point are ignored; an entry at index i replaces the stored suffix
   * from i on (a new leader overwriting an uncommitted tail, Raft thesis §3.5).
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    // Skip the part that is already compacted.
    const toAppend = first > entries[0]!.index ? entries.slice(first - entries[0]!.index) : entries;
    const offset = toAppend[0]!.index - this.ents[0]!.index;
    assert(offset <= this.ents.length, `missing log entry [last: ${this.lastIndex()}, append at: ${toAppend[0]!.index}]`);
    for (let k = 1; k < toAppend.length; k++) {
      assert(toAppend[k]!.index === toAppend[k - 1]!.index + 1, 'appended entries not contiguous');
    }
    // In place: `ents` is never handed out (entries() returns slices), so truncating and
    // pushing is safe and keeps appends O(batch) rather than O(log).
    this.ents.length = offset;
    for (const e of toAppend) this.ents.push(e);
    assert(this.ents[offset - 1]!.index + 1 === toAppend[0]!.index, 'append leaves a gap');
  }
}
