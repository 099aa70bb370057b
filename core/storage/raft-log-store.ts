/**
 * Raft state kept in LMDB: the conf state (written by the applier in the same transaction as
 * the applied index it belongs to) and, for data dirs from before the WAL and for the initial
 * configuration of a first boot, log entries and hard state in the `raft_log` sub-database and
 * `meta`. The live log is the WAL (storage/wal.ts, server/raft-persistence.ts), which moves any
 * entries found here into itself when it is created.
 */
import { ConfState, Entry, HardState } from '../raft/types';
import { decodeConfState, decodeEntry, decodeHardState, encodeConfState, encodeEntry, encodeHardState } from '../raft/codec';
import { asBuffer } from '../util/bytes';
import { ReadTxn, WriteTxn } from './backend';
import { DB, META, decodeIndex, encodeIndex } from './schema';

/** What a member restarts from. */
export interface LoadedRaftLog {
  hardState?: HardState;
  confState?: ConfState;
  /** Index and term of the last log compaction (entries up to it are gone). */
  compacted: { index: number; term: number };
  /** Retained entries, ascending, contiguous after `compacted.index`. */
  entries: Entry[];
  /** Index of the last applied entry (the consistent index). */
  appliedIndex: number;
}

/** Reads and writes the durable log. Stateless apart from the last written index. */
export class RaftLogStore {
  private lastIndex = 0;

  /** Loads everything needed to restart. */
  load(txn: ReadTxn): LoadedRaftLog {
    const hs = txn.get(DB.meta, META.raftHardState);
    const cs = txn.get(DB.meta, META.raftConfState);
    const comp = txn.get(DB.meta, META.raftLogCompacted);
    const applied = txn.get(DB.meta, META.consistentIndex);
    const entries: Entry[] = [];
    for (const { value } of txn.iterate(DB.raftLog)) entries.push(decodeEntry(value));
    this.lastIndex = entries.length ? entries[entries.length - 1]!.index : 0;
    return {
      hardState: hs ? decodeHardState(hs) : undefined,
      confState: cs ? decodeConfState(cs) : undefined,
      compacted: comp ? { index: comp.readUIntBE(2, 6), term: comp.readUIntBE(10, 6) } : { index: 0, term: 0 },
      entries,
      appliedIndex: applied ? decodeIndex(applied) : 0,
    };
  }

  /**
   * Appends entries. An entry at index i replaces what was at i and everything after it
   * (Raft log matching: a follower truncates a conflicting suffix).
   */
  append(txn: WriteTxn, entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const last = entries[entries.length - 1]!.index;
    for (let i = last + 1; i <= this.lastIndex; i++) txn.del(DB.raftLog, encodeIndex(i));
    for (const e of entries) txn.put(DB.raftLog, encodeIndex(e.index), asBuffer(encodeEntry(e)));
    if (first <= this.lastIndex || last > this.lastIndex) this.lastIndex = last;
  }

  /** Saves the hard state. */
  setHardState(txn: WriteTxn, hs: HardState): void {
    txn.put(DB.meta, META.raftHardState, asBuffer(encodeHardState(hs)));
  }

  /** Saves the conf state (after a conf change or snapshot is applied). */
  setConfState(txn: WriteTxn, cs: ConfState): void {
    txn.put(DB.meta, META.raftConfState, asBuffer(encodeConfState(cs)));
  }
}
