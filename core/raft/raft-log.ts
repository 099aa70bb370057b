/**
 * The node's view of the replicated log (etcd-io/raft `raftLog`): durable entries read through
 * {@link RaftStorage} followed by the {@link Unstable} tail, plus the commit and applied
 * cursors.
 *
 * Invariants: applied ≤ committed ≤ lastIndex(); firstIndex()-1 ≤ committed (a snapshot is
 * always of committed state).
 */
import { assert, assertFailed } from '../util/assert';
import { limitSize } from './entry-size';
import { CompactedError, ErrCompacted, UnavailableError } from './errors';
import { Unstable } from './log-unstable';
import { NO_LIMIT, type RaftStorage } from './storage';
import type { Entry, Snapshot } from './types';

/** The replicated log: storage + unstable tail + commit/applied cursors. */
export class RaftLog {
  readonly storage: RaftStorage;
  readonly unstable: Unstable;
  /** Highest index known to be committed (Raft thesis §3.6). */
  committed: number;
  /** Highest index the application has applied (as reported through `advance`). */
  applied: number;
  /** Cap on the encoded size of committed entries handed out in one Ready. */
  readonly maxNextEntsSize: number;

  constructor(storage: RaftStorage, maxNextEntsSize = NO_LIMIT) {
    this.storage = storage;
    this.maxNextEntsSize = maxNextEntsSize;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    assert(first >= 1 && last >= first - 1, `storage bounds first=${first} last=${last}`);
    this.unstable = new Unstable(last + 1);
    // Everything up to the snapshot is committed and applied by definition.
    this.committed = first - 1;
    this.applied = first - 1;
  }

  /** A one-line summary for logs. */
  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, unstable.offset=${this.unstable.offset}, len(unstable.Entries)=${this.unstable.entries.length}`;
  }

  /**
   * Follower append (Raft thesis §3.5): if our entry at `index` has term `logTerm`, append
   * `ents` after it (truncating a conflicting suffix), advance commit to
   * min(committed, index+len) and return the new last index it vouches for. Returns undefined
   * when the logs do not match at `index`.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      // Never truncate committed entries: that would mean two different entries committed at
      // one index, a Log Matching violation (Raft thesis §3.6.3).
      assert(ci > this.committed, `entry ${ci} conflict with committed entry [committed(${this.committed})]`);
      const start = ci - (index + 1);
      assert(start >= 0 && start < ents.length, `conflict index ${ci} outside appended range`);
      this.append(ents.slice(start));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Appends entries (leader path, or after conflict resolution) and returns the last index. */
  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    assert(after >= this.committed, `after(${after}) is out of range [committed(${this.committed})]`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry in `ents` whose term differs from ours (or that we lack), or 0
   * if all of `ents` is already in our log with matching terms.
   */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest (index, term) at or below `index` whose term is ≤ `term`: the highest point at
   * which our log may match a log whose entry at `index` has term `term`. Used for the fast
   * rejection backoff (etcd-io/raft findConflictByTerm). An unreadable term (compacted) is
   * returned as term 0 ("unknown, assume a possible match").
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      let ourTerm: number;
      try {
        ourTerm = this.term(index);
      } catch (e) {
        if (e instanceof CompactedError || e instanceof UnavailableError) return { index, term: 0 };
        throw e;
      }
      if (ourTerm <= term) return { index, term: ourTerm };
    }
    return { index: 0, term: 0 };
  }

  /** Entries not yet handed to the application for persistence. */
  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  /**
   * Committed entries not yet applied, up to `maxNextEntsSize` bytes. They may include unstable
   * entries (single voter; etcd #14370): the driver must persist a Ready's entries before
   * applying its committed entries.
   */
  nextCommittedEntries(): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 > off) return this.slice(off, this.committed + 1, this.maxNextEntsSize);
    return [];
  }

  /** True when there are committed entries not yet applied. */
  hasNextCommittedEntries(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  /** True when an incoming snapshot has not yet been handed out and made durable. */
  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined && this.unstable.snapshot.metadata.index > 0;
  }

  /** The newest snapshot: a pending incoming one, else storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Advances the commit index (never backwards). */
  commitTo(toCommit: number): void {
    if (this.committed < toCommit) {
      assert(
        this.lastIndex() >= toCommit,
        `tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`,
      );
      this.committed = toCommit;
    }
  }

  /** Records that the application applied up to `i`. */
  appliedTo(i: number): void {
    if (i === 0) return;
    assert(
      this.committed >= i && i >= this.applied,
      `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`,
    );
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /**
   * The term of entry i. Returns 0 for an index outside [firstIndex()-1, lastIndex()] (as
   * etcd-io/raft does); throws `ErrCompacted`/`ErrUnavailable` when storage cannot answer.
   */
  term(i: number): number {
    const dummyIndex = this.firstIndex() - 1;
    if (i < dummyIndex || i > this.lastIndex()) return 0;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    return this.storage.term(i);
  }

  /** {@link term}, with compaction/unavailability mapped to 0. */
  termOrZero(i: number): number {
    try {
      return this.term(i);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return 0;
      throw e;
    }
  }

  /** Entries from i to the end, up to maxSize bytes. Throws `ErrCompacted` below firstIndex. */
  entries(i: number, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  /** Every entry in the log (tests and debugging only). */
  allEntries(): Entry[] {
    return this.entries(this.firstIndex(), NO_LIMIT);
  }

  /**
   * Election restriction (Raft thesis §3.6.1): a candidate whose last entry is (lasti, term) is
   * at least as up to date as we are.
   */
  isUpToDate(lasti: number, term: number): boolean {
    const lastTerm = this.lastTerm();
    return term > lastTerm || (term === lastTerm && lasti >= this.lastIndex());
  }

  /** True when our entry at i has term t (false if unknown). */
  matchTerm(i: number, t: number): boolean {
    try {
      return this.term(i) === t;
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return false;
      throw e;
    }
  }

  /**
   * Commits up to `maxIndex` only if that entry is from `term`, the leader's current term:
   * entries of earlier terms are committed indirectly (Raft thesis §3.6.2, figure 3.7).
   */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** Replaces the log with an incoming snapshot (the snapshot index becomes committed). */
  restore(s: Snapshot): void {
    assert(s.metadata.index >= this.committed, 'restoring a snapshot older than the commit index');
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /**
   * Entries [lo, hi), limited to maxSize bytes (at least one entry). Reads storage for the part
   * below the unstable offset. Throws `ErrCompacted` if lo < firstIndex().
   */
  slice(lo: number, hi: number, maxSize: number): Entry[] {
    this.checkOutOfBounds(lo, hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const off = this.unstable.offset;
    if (lo < off) {
      const upper = Math.min(hi, off);
      let stored: Entry[];
      try {
        stored = this.storage.entries(lo, upper, maxSize);
      } catch (e) {
        // Unavailable here means storage lost entries we were told are durable.
        assert(!(e instanceof UnavailableError), `entries[${lo}:${upper}) is unavailable from storage`);
        throw e;
      }
      // Storage cut the result short because of the size limit: stop there.
      if (stored.length < upper - lo) return stored;
      ents = stored;
    }
    if (hi > off) {
      const fromUnstable = this.unstable.slice(Math.max(lo, off), hi);
      ents = ents.length > 0 ? ents.concat(fromUnstable) : fromUnstable;
    }
    return limitSize(ents, maxSize);
  }

  private checkOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) assertFailed(`invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw ErrCompacted;
    const last = this.lastIndex();
    if (hi > last + 1) assertFailed(`slice[${lo},${hi}) out of bound [${fi},${last}]`);
  }
}
