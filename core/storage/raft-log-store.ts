/**
 * The durable Raft log in the `raft_log` sub-database, plus the hard state and conf state in
 * `meta`. The driver writes here in the same backend transaction as it applies committed entries,
 * so one fsync covers both (the Ready's entries and hard state are durable before any message is
 * acknowledged or any client answered: DESIGN §4, etcd #14370). At start the whole retained log
 * is loaded into the in-memory raft storage, as etcd replays its WAL into MemoryStorage.
 */
import { ConfState, Entry, EntryType, HardState } from '../raft/types';
import { ByteReader, ByteWriter } from '../util/byte-codec';
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
    for (const e of entries) txn.put(DB.raftLog, encodeIndex(e.index), encodeEntry(e));
    if (first <= this.lastIndex || last > this.lastIndex) this.lastIndex = last;
  }

  /** Saves the hard state. */
  setHardState(txn: WriteTxn, hs: HardState): void {
    txn.put(DB.meta, META.raftHardState, encodeHardState(hs));
  }

  /** Saves the conf state (after a conf change or snapshot is applied). */
  setConfState(txn: WriteTxn, cs: ConfState): void {
    txn.put(DB.meta, META.raftConfState, encodeConfState(cs));
  }

  /** Deletes entries ≤ index (they are covered by the applied state) and records the compaction point. */
  compact(txn: WriteTxn, index: number, term: number, firstRetained: number): void {
    for (let i = firstRetained; i <= index; i++) txn.del(DB.raftLog, encodeIndex(i));
    const v = Buffer.alloc(16);
    v.writeUIntBE(index, 2, 6);
    v.writeUIntBE(term, 10, 6);
    txn.put(DB.meta, META.raftLogCompacted, v);
  }
}

function encodeEntry(e: Entry): Buffer {
  return new ByteWriter(e.data.length + 24).uvar(e.term).uvar(e.index).u8(e.type).bytes(e.data).finish();
}

function decodeEntry(b: Buffer): Entry {
  const r = new ByteReader(b);
  return { term: r.uvar(), index: r.uvar(), type: r.u8() as EntryType, data: r.bytes() };
}

function encodeHardState(hs: HardState): Buffer {
  return new ByteWriter(32).uvar(hs.term).i64(hs.vote).uvar(hs.commit).finish();
}

function decodeHardState(b: Buffer): HardState {
  const r = new ByteReader(b);
  return { term: r.uvar(), vote: BigInt.asUintN(64, r.i64()), commit: r.uvar() };
}

function writeIds(w: ByteWriter, ids: bigint[]): void {
  w.uvar(ids.length);
  for (const id of ids) w.i64(id);
}

function readIds(r: ByteReader): bigint[] {
  const n = r.uvar();
  const ids: bigint[] = [];
  for (let i = 0; i < n; i++) ids.push(BigInt.asUintN(64, r.i64()));
  return ids;
}

function encodeConfState(cs: ConfState): Buffer {
  const w = new ByteWriter(64);
  writeIds(w, cs.voters);
  writeIds(w, cs.learners);
  writeIds(w, cs.votersOutgoing);
  writeIds(w, cs.learnersNext);
  return w.bool(cs.autoLeave).finish();
}

function decodeConfState(b: Buffer): ConfState {
  const r = new ByteReader(b);
  return { voters: readIds(r), learners: readIds(r), votersOutgoing: readIds(r), learnersNext: readIds(r), autoLeave: r.bool() };
}
