/**
 * Builds a member's RawNode and its in-memory Raft storage from what the WAL replayed, with
 * etcd's settings: PreVote and CheckQuorum on, ReadIndex in safe mode, a removed member steps
 * down, ticks of one heartbeat interval.
 */
import { LoadedRaftLog } from '../storage/raft-log-store';
import { RawNode } from '../raft/raw-node';
import { MemoryRaftStorage } from '../raft/memory-raft-storage';
import { Rand } from '../util/rand';
import { RAFT_MAX_INFLIGHT_MSGS, RAFT_MAX_SIZE_PER_MSG, RAFT_MAX_UNCOMMITTED_BYTES } from '../util/limits';
import { MemberConfig } from './member-config';

/** A RawNode restored from `loaded`, and the storage it reads its log from. */
export function createRaftNode(id: bigint, loaded: LoadedRaftLog, config: MemberConfig, rand: Rand): { node: RawNode; storage: MemoryRaftStorage; applied: number } {
  // No stored configuration: a data dir from before clusters existed, with this member alone.
  const cs = loaded.confState ?? { voters: [id], learners: [] };
  const storage = MemoryRaftStorage.withPeers(cs.voters, cs.learners);
  // The WAL released entries up to its compaction point: the log starts after it.
  if (loaded.compacted.index > 0) {
    storage.applySnapshot({ data: new Uint8Array(0), metadata: { index: loaded.compacted.index, term: loaded.compacted.term, confState: storage.snapshot().metadata.confState } });
  }
  if (loaded.entries.length) storage.append(loaded.entries);
  if (loaded.hardState) storage.setHardState(loaded.hardState);
  const node = new RawNode({
    id,
    electionTick: Math.max(2, Math.round(config.electionMs / config.heartbeatMs)),
    heartbeatTick: 1,
    storage,
    applied: loaded.appliedIndex,
    maxSizePerMsg: RAFT_MAX_SIZE_PER_MSG,
    maxUncommittedEntriesSize: RAFT_MAX_UNCOMMITTED_BYTES,
    maxInflightMsgs: RAFT_MAX_INFLIGHT_MSGS,
    checkQuorum: true,
    preVote: true,
    readOnlyOption: 'safe',
    stepDownOnRemoval: true,
    rand,
    logger: config.logger.child({ component: 'raft' }),
  });
  return { node, storage, applied: loaded.appliedIndex };
}
