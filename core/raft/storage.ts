/**
 * The storage contract raft reads its durable log through (etcd-io/raft `Storage`). The
 * application owns persistence: it appends the entries and hard state handed out in a `Ready`
 * to durable storage and then makes them visible here. Raft only reads.
 *
 * Any error other than the documented sentinels makes the node inoperable: raft lets it
 * propagate and the application must stop the node and recover from durable state.
 */
import type { ConfState, Entry, HardState, Snapshot } from './types';

/** The durable state a node restarts from. */
export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

/** Read access to the durable raft log. Every method is synchronous and side-effect free. */
export interface RaftStorage {
  /**
   * The saved hard state, and the configuration the node starts with: the snapshot's ConfState
   * with every conf change up to the applied index (`RaftConfig.applied`) already applied.
   */
  initialState(): InitialState;
  /**
   * Entries in [lo, hi). The result is limited to about `maxSize` bytes (entry encoded size,
   * codec `entrySize`) but always holds at least one entry when lo < hi. Throws `ErrCompacted`
   * if lo ≤ the snapshot index, `ErrUnavailable` if the range is beyond the log. The returned
   * array is the caller's; the entries in it are shared and must not be mutated.
   */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  /**
   * The term of entry i, for i in [firstIndex()-1, lastIndex()] (the term of firstIndex()-1 is
   * the snapshot's term, kept for log matching). Throws `ErrCompacted` below that range and
   * `ErrUnavailable` above it.
   */
  term(i: number): number;
  /** The index of the last entry (the snapshot index if the log is empty). */
  lastIndex(): number;
  /** The index of the first entry that may still be read with `entries` (snapshot index + 1). */
  firstIndex(): number;
  /**
   * The most recent snapshot. Throws `ErrSnapshotTemporarilyUnavailable` if one is being made;
   * raft then retries later.
   */
  snapshot(): Snapshot;
}

/** Infinite size limit for `entries`. */
export const NO_LIMIT = Number.POSITIVE_INFINITY;
