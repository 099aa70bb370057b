/**
 * A core member's role as ZooKeeper's monitoring words report a quorum server's (`srvr` Mode,
 * `mntr` zk_server_state and the leader's zk_learners / zk_synced_followers): a one-member
 * cluster is standalone; otherwise leader or follower, and a leader counts the members it
 * replicates to. A follower is "synced" when Raft streams the log to it (Replicate state) and it
 * answered recently: what ZooKeeper's leader means by a follower that finished its sync.
 */
import { KvServerRole } from './kv-backend';

/** The role of a proxy over a store it is no member of, or of a one-member cluster's member. */
export const STANDALONE_ROLE: KvServerRole = { mode: 'standalone', quorumSize: 1, learners: 0, syncedFollowers: 0, syncedNonVoting: 0 };

/** The role reported while the proxy serves read-only clients (ZooKeeper's `Mode: read-only`). */
export const READ_ONLY_ROLE: KvServerRole = { ...STANDALONE_ROLE, mode: 'read-only' };

/** Raft's Replicate progress state (etcd-io/raft StateReplicate). */
const REPLICATE = 1;

/** The slice of the core's member the role is read from (its own names; structural). */
export interface RoleSource {
  readonly memberId: bigint;
  readonly isLeader: boolean;
  /** The leader's id, 0n while none is known. */
  readonly leader: bigint;
  members(): { id: bigint; isLearner: boolean; peerUrls: readonly string[] }[];
  /** The leader's view of each member's replication (empty on a follower). */
  progress(): ReadonlyMap<bigint, { state?: number; recentActive?: boolean }>;
}

/** The role of `m` now. */
export function serverRoleOf(m: RoleSource): KvServerRole {
  const members = m.members();
  const quorumSize = members.filter((x) => !x.isLearner).length;
  if (members.length <= 1) return { ...STANDALONE_ROLE, quorumSize };
  const cluster = {
    memberId: m.memberId,
    leaderId: m.leader,
    members: members.map((x) => ({ id: x.id, peerUrl: x.peerUrls[0] ?? '', voter: !x.isLearner })),
  };
  if (!m.isLeader) return { ...STANDALONE_ROLE, mode: 'follower', quorumSize, ...cluster };
  const progress = m.progress();
  let syncedFollowers = 0;
  let syncedNonVoting = 0;
  for (const x of members) {
    if (x.id === m.memberId) continue;
    const p = progress.get(x.id);
    if (p?.state !== REPLICATE || p.recentActive === false) continue;
    if (x.isLearner) syncedNonVoting++;
    else syncedFollowers++;
  }
  return { mode: 'leader', quorumSize, learners: members.length - 1, syncedFollowers, syncedNonVoting, ...cluster };
}
