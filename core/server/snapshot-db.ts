/**
 * A Raft snapshot's data is a whole LMDB database file (a consistent copy of the leader's
 * applied state). Its Raft metadata is read from the file itself, so the two always match: the
 * consistent index and term stored with the state (the applier writes them in the same
 * transaction as the state they describe) and the conf state in force at that index.
 */
import { LmdbBackend } from '../storage/lmdb-backend';
import { DB, META, decodeIndex, decodeU64, encodeU64 } from '../storage/schema';
import { decodeConfState } from '../raft/codec';
import { ConfState } from '../raft/types';

/** What a snapshot database says about itself. */
export interface SnapshotDbMeta {
  /** The applied (consistent) index of the state. */
  index: number;
  /** The term of the entry at `index`. */
  term: number;
  /** The conf state in force at `index` (undefined in data dirs from before clusters). */
  confState: ConfState | undefined;
  /** The cluster the state belongs to (undefined: none recorded). */
  clusterId: bigint | undefined;
}

/** Reads the metadata of the LMDB database in directory `dir` (its `data.mdb`). */
export async function readSnapshotDb(dir: string): Promise<SnapshotDbMeta> {
  const db = LmdbBackend.open({ path: dir });
  try {
    return db.read((txn) => {
      const index = txn.get(DB.meta, META.consistentIndex);
      const term = txn.get(DB.meta, META.consistentTerm);
      const cs = txn.get(DB.meta, META.raftConfState);
      const cluster = txn.get(DB.meta, META.clusterId);
      return {
        index: index ? decodeIndex(index) : 0,
        term: term ? decodeIndex(term) : 0,
        confState: cs ? decodeConfState(cs) : undefined,
        clusterId: cluster ? decodeU64(cluster) : undefined,
      };
    });
  } finally {
    await db.close();
  }
}

/**
 * Makes a received snapshot database this member's own, durably: the leader's copy carries the
 * leader's member id, which identifies the data dir on restart. Raft log leftovers from before
 * the WAL (hard state, entries) are dropped: the receiver's WAL is the log.
 */
export async function adoptSnapshotDb(dir: string, memberId: bigint): Promise<void> {
  const db = LmdbBackend.open({ path: dir });
  try {
    await db.write((txn) => {
      txn.put(DB.meta, META.memberId, encodeU64(memberId));
      txn.del(DB.meta, META.raftHardState);
      txn.del(DB.meta, META.raftLogCompacted);
      const keys = [...txn.iterate(DB.raftLog)].map((e) => e.key);
      for (const k of keys) txn.del(DB.raftLog, k);
    });
  } finally {
    await db.close();
  }
}
