/**
 * Log compaction, etcd's shape (reference/etcd.md §3.3 "Snapshotting"): every
 * `--snapshot-count` applied entries, once LMDB holds the applied state durably up to index i,
 * Raft's in-memory storage records a snapshot at i and drops its log up to
 * i − `catch-up entries` (etcd's SnapshotCatchUpEntries, 5,000: a follower that lags by less
 * still catches up from the log, without a snapshot), and the WAL gets a snapshot marker at i so
 * that a restart replays only what follows it and the segments before it can be released.
 *
 * The snapshot's `data` stays empty: the applied state is LMDB itself, and a follower that needs
 * it gets a consistent copy of the database made when the snapshot is sent (snapshot-sender.ts).
 * Why "durable": a marker at i tells a restart that LMDB already holds everything up to i; a
 * marker ahead of LMDB's durable state would lose the entries in between on a crash.
 */
import { Logger } from '../util/logger';
import { MemoryRaftStorage } from '../raft/memory-raft-storage';
import { SnapshotMetadata } from '../raft/types';
import { DurableState } from './raft-persistence';

/** etcd's default `--snapshot-count`. */
export const SNAPSHOT_COUNT_DEFAULT = 100_000;

/** etcd's SnapshotCatchUpEntries: entries kept in memory behind a snapshot. */
export const SNAPSHOT_CATCH_UP_ENTRIES_DEFAULT = 5_000;

/** What the compactor needs from the WAL side. */
export interface SnapshotMarkerSink {
  /** Writes a snapshot marker durably (LMDB holds the state up to it) and releases what it covers. */
  recordSnapshot(meta: SnapshotMetadata): Promise<void>;
}

/** Options of {@link RaftSnapshotCompactor}. */
export interface RaftSnapshotCompactorOptions {
  storage: MemoryRaftStorage;
  sink: SnapshotMarkerSink;
  /** Applied entries between snapshots (≥ 1). */
  snapshotCount: number;
  /** Entries kept in memory behind a snapshot (≥ 0). */
  catchUpEntries: number;
  logger: Logger;
}

/** Decides when to snapshot and compacts Raft's in-memory log and the WAL. */
export class RaftSnapshotCompactor {
  private taken = 0;

  constructor(private readonly o: RaftSnapshotCompactorOptions) {}

  /** Snapshots taken by this process (metrics, tests). */
  get snapshotsTaken(): number {
    return this.taken;
  }

  /**
   * LMDB now durably holds the applied state `state`: take a snapshot when `snapshotCount`
   * entries have been applied since the last one (which may be a snapshot installed from the
   * leader: its index is the storage's).
   */
  onStateDurable(state: { index: number; confState: DurableState['confState'] }): void {
    const s = this.o.storage;
    const last = s.snapshot().metadata.index;
    // The durable index can trail an installed snapshot, and must lie within the stored log.
    if (state.index - last < this.o.snapshotCount || state.index > s.lastIndex() || state.index < s.firstIndex()) return;
    const snap = s.createSnapshot(state.index, state.confState, new Uint8Array(0));
    const compactTo = state.index - this.o.catchUpEntries;
    if (compactTo >= s.firstIndex()) s.compact(compactTo);
    this.taken++;
    this.o.logger.info({ index: snap.metadata.index, term: snap.metadata.term, firstIndex: s.firstIndex() }, 'raft snapshot taken; log compacted');
    this.o.sink.recordSnapshot(snap.metadata).catch((err: unknown) => {
      // A failed WAL append poisons the WAL: the next Ready fails and the member exits to recover.
      this.o.logger.warn({ err }, 'writing the WAL snapshot marker failed');
    });
  }
}
