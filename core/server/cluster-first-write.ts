/**
 * What a first boot writes to an empty data dir, durably and in one transaction, before the
 * member runs (so a crash leaves either nothing or a complete start):
 *
 * - a new cluster: like etcd-io/raft's bootstrap, one AddNode conf-change entry per initial
 *   member at indexes 1..n, term 1, already committed and applied (hard state commit = n,
 *   consistent index = n), the voters as the conf state, and the member table. Every initial
 *   member writes the same entries, so the logs agree from the start, and a member that joins
 *   later rebuilds the initial configuration by replaying them from the leader.
 * - a joining member: only its ids and an empty conf state. The empty conf state marks "part of
 *   a cluster, configuration still to come from the log" (without it a restart would take the
 *   directory for an old single-member one and let this member elect itself).
 */
import { Backend } from '../storage/backend';
import { DB, META, encodeIndex, encodeU64 } from '../storage/schema';
import { RaftLogStore } from '../storage/raft-log-store';
import { encodeConfChange } from '../raft/codec';
import { ConfChangeType, Entry, EntryType, emptyConfState } from '../raft/types';
import { MemberRecord, MemberTable, encodeMemberContext } from '../cluster/member-table';

/** Writes the bootstrap of a new cluster for `memberId`. */
export async function writeBootstrap(backend: Backend, memberId: bigint, clusterId: bigint, members: MemberRecord[]): Promise<void> {
  const entries: Entry[] = members.map((m, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.ConfChange,
    data: encodeConfChange({ id: 0n, type: ConfChangeType.AddNode, nodeId: m.id, context: encodeMemberContext(m) }),
  }));
  const store = new RaftLogStore();
  const table = new MemberTable();
  await backend.write((txn) => {
    store.append(txn, entries);
    store.setHardState(txn, { term: 1, vote: 0n, commit: entries.length });
    store.setConfState(txn, { ...emptyConfState(), voters: members.map((m) => m.id) });
    for (const m of members) table.put(txn, m);
    txn.put(DB.meta, META.consistentIndex, encodeIndex(entries.length));
    txn.put(DB.meta, META.consistentTerm, encodeIndex(1));
    txn.put(DB.meta, META.memberId, encodeU64(memberId));
    txn.put(DB.meta, META.clusterId, encodeU64(clusterId));
  });
}

/** Writes the identity of a member joining an existing cluster. */
export async function writeJoinIdentity(backend: Backend, memberId: bigint, clusterId: bigint): Promise<void> {
  const store = new RaftLogStore();
  await backend.write((txn) => {
    store.setConfState(txn, emptyConfState());
    txn.put(DB.meta, META.memberId, encodeU64(memberId));
    txn.put(DB.meta, META.clusterId, encodeU64(clusterId));
  });
}
