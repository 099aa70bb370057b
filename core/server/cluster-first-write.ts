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
import { DB, META, decodeU64, encodeIndex, encodeU64 } from '../storage/schema';
import { RaftLogStore } from '../storage/raft-log-store';
import { encodeConfChange } from '../raft/codec';
import { ConfChangeType, Entry, EntryType, emptyConfState } from '../raft/types';
import { MemberRecord, MemberTable, encodeMemberContext } from '../cluster/member-table';
import { parseInitialCluster, verifyInitialCluster } from '../cluster/initial-cluster';
import { firstBoot, FirstBoot } from './cluster-bootstrap';
import { MemberConfig } from './member-config';

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

/**
 * A member's ids: from the data dir on restart (the --initial-* flags are ignored then, as in
 * etcd), else from a first boot, whose result is written durably before anything runs.
 */
export async function loadOrBootIdentity(config: MemberConfig, backend: Backend): Promise<{ memberId: bigint; clusterId: bigint; remoteMembers: MemberRecord[] }> {
  const stored = backend.read((txn) => ({ m: txn.get(DB.meta, META.memberId), c: txn.get(DB.meta, META.clusterId) }));
  if (stored.m && stored.c) return { memberId: decodeU64(stored.m), clusterId: decodeU64(stored.c), remoteMembers: [] };
  const state = config.initialClusterState ?? 'new';
  const cluster = parseInitialCluster(config.initialCluster ?? '', config.name, config.peerUrls);
  verifyInitialCluster(cluster, config.name, config.peerUrls, state === 'existing');
  const boot: FirstBoot = await firstBoot({ name: config.name, cluster, state, token: config.clusterToken, advertisePeerUrls: config.peerUrls, logger: config.logger });
  if (boot.initialMembers) await writeBootstrap(backend, boot.memberId, boot.clusterId, boot.initialMembers);
  else await writeJoinIdentity(backend, boot.memberId, boot.clusterId);
  return boot;
}
