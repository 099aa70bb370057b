/**
 * The logical content of a WAL, built by applying its records in order: Raft's rules for what an
 * append and a snapshot marker do to a log. The same class serves replay (collecting the entries
 * themselves) and the live WAL (keeping only what it needs to validate appends and to write a
 * segment header: the last index and the term of each index, as runs of equal terms, which stay
 * tiny because terms change only on elections).
 *
 * Rules (etcd-io/raft `raftLog.append` / `restore`, Raft thesis §3.5, §5.1):
 * - an entry at index i replaces i and everything after it;
 * - entries at or below the compaction point are gone and ignored if appended again;
 * - a batch must start at most one past the last index (no gaps);
 * - a snapshot marker (index, term) newer than the compaction point compacts the log up to it
 *   when the log holds that index with that term (the suffix agrees with the snapshot: log
 *   matching), and otherwise replaces the whole log (a follower restored from a snapshot).
 */
import { ConfState, Entry, HardState, SnapshotMetadata } from '../raft/types';

/** An index and its term. */
export interface IndexTerm {
  index: number;
  term: number;
}

/** A run of consecutive indexes from `index` up to the next run's start, all with `term`. */
interface TermRun {
  index: number;
  term: number;
}

/**
 * The log as the WAL's records describe it. `E` is what a retained entry is kept as: the entry
 * itself, or (a replay's first pass, wal-replay.ts) where its bytes are.
 */
export class WalLogState<E extends IndexTerm = Entry> {
  /** Entries at or below this are gone (snapshot marker or deleted segments). */
  compacted: IndexTerm = { index: 0, term: 0 };
  lastIndex = 0;
  hardState: HardState | undefined;
  /** The latest snapshot marker. */
  snapshot: SnapshotMetadata | undefined;
  /** The latest conf state, from a ConfState record or a snapshot marker, whichever came last. */
  confState: ConfState | undefined;
  private runs: TermRun[] = [];

  /**
   * @param entries when given, the retained entries are kept here (replay); the live WAL passes
   *   nothing and keeps only terms.
   */
  constructor(private readonly entries?: E[]) {}

  /** The retained entries (replay only). */
  retained(): E[] {
    return this.entries ?? [];
  }

  /**
   * Starts the log at a base: everything up to `base.index` is gone, the next entry is
   * `base.index + 1` (the first segment of a replay whose predecessors were released).
   */
  resetBase(base: IndexTerm): void {
    this.compacted = { ...base };
    this.lastIndex = base.index;
    this.runs = [];
    if (this.entries) this.entries.length = 0;
  }

  /** Term of `index`, or undefined when the log does not hold it. */
  termAt(index: number): number | undefined {
    if (index === this.compacted.index) return this.compacted.term;
    if (index < this.compacted.index || index > this.lastIndex) return undefined;
    for (let i = this.runs.length - 1; i >= 0; i--) if (this.runs[i]!.index <= index) return this.runs[i]!.term;
    return undefined;
  }

  /**
   * Why `batch` cannot be appended, or undefined if it can: entries must be consecutive and
   * start at most one past the last index.
   */
  checkAppend(batch: readonly IndexTerm[]): string | undefined {
    for (let i = 1; i < batch.length; i++) {
      if (batch[i]!.index !== batch[i - 1]!.index + 1) return `entries not consecutive: ${batch[i - 1]!.index} then ${batch[i]!.index}`;
    }
    if (batch.length > 0 && batch[0]!.index > this.lastIndex + 1) return `gap: entry ${batch[0]!.index} after last index ${this.lastIndex}`;
    return undefined;
  }

  /**
   * Like {@link checkAppend} for a batch that first applies `snapshot` (a Ready that restores a
   * snapshot and appends after it), without changing anything.
   */
  checkBatch(batch: readonly IndexTerm[], snapshot: SnapshotMetadata | undefined): string | undefined {
    if (!snapshot || snapshot.index <= this.compacted.index || this.termAt(snapshot.index) === snapshot.term) return this.checkAppend(batch);
    const saved = this.lastIndex;
    this.lastIndex = snapshot.index;
    try {
      return this.checkAppend(batch);
    } finally {
      this.lastIndex = saved;
    }
  }

  /**
   * Applies an entries batch (checked with {@link checkAppend} first). Entries at or below the
   * compaction point cannot be kept, but they still replace what follows them; and one exactly
   * at the compaction point gives it its term. That case arises only where the compaction point
   * came from released segments: a segment's header names the term its first index followed
   * when it was cut, and a later record in it may have overwritten that uncommitted entry (it was
   * then committed and applied before the release).
   */
  append(batch: readonly E[]): void {
    if (batch.length === 0) return;
    let from = 0;
    while (from < batch.length && batch[from]!.index <= this.compacted.index) {
      if (batch[from]!.index === this.compacted.index) this.compacted = { index: this.compacted.index, term: batch[from]!.term };
      from++;
    }
    this.truncateFrom(Math.max(batch[0]!.index, this.compacted.index + 1));
    for (let i = from; i < batch.length; i++) {
      const e = batch[i]!;
      const lastRun = this.runs[this.runs.length - 1];
      if (!lastRun || lastRun.term !== e.term) this.runs.push({ index: e.index, term: e.term });
      this.entries?.push(e);
    }
    this.lastIndex = Math.max(this.compacted.index, batch[batch.length - 1]!.index);
  }

  /** Applies a snapshot marker. */
  applySnapshot(meta: SnapshotMetadata): void {
    this.confState = meta.confState;
    if (!this.snapshot || meta.index >= this.snapshot.index) this.snapshot = meta;
    // Below the compaction point there is nothing left to compact. At it, a different term can
    // only come from a base taken from a segment header written before this marker (released
    // segments): the marker then replaces that base like any conflicting snapshot.
    if (meta.index < this.compacted.index || (meta.index === this.compacted.index && meta.term === this.compacted.term)) return;
    if (meta.index > this.compacted.index && this.termAt(meta.index) === meta.term) {
      this.compactTo(meta.index);
    } else {
      this.runs = [];
      if (this.entries) this.entries.length = 0;
      this.lastIndex = meta.index;
    }
    this.compacted = { index: meta.index, term: meta.term };
  }

  /** Drops entries after `index - 1` (a conflicting suffix). */
  private truncateFrom(index: number): void {
    while (this.runs.length > 0 && this.runs[this.runs.length - 1]!.index >= index) this.runs.pop();
    if (this.entries && this.entries.length > 0) {
      const keep = index - this.entries[0]!.index;
      if (keep < this.entries.length) this.entries.length = Math.max(0, keep);
    }
    this.lastIndex = Math.min(this.lastIndex, index - 1);
  }

  /** Drops entries up to and including `index`, keeping the suffix. */
  private compactTo(index: number): void {
    while (this.runs.length > 1 && this.runs[1]!.index <= index + 1) this.runs.shift();
    if (this.runs.length > 0) {
      if (this.lastIndex <= index) this.runs = [];
      else if (this.runs[0]!.index <= index) this.runs[0] = { index: index + 1, term: this.runs[0]!.term };
    }
    if (this.entries && this.entries.length > 0) {
      const drop = index - this.entries[0]!.index + 1;
      if (drop > 0) this.entries.splice(0, drop);
    }
  }
}
