/**
 * MoveLeader's server side (etcd `EtcdServer.MoveLeader`, etcd.md §2.9), kept in one function
 * so that wiring it to Raft's leader transfer is a small, local change.
 */
import { CoreError } from '../../util/core-error';
import { Member } from '../member';

/**
 * Makes `target` the leader; resolves once it is. The caller has checked that this member is
 * the leader (etcd answers `etcdserver: not leader` before getting here).
 *
 * - A target that is not a member, or is a learner → `bad-leader-transferee`.
 * - The current leader as target → done at once (etcd polls until `Lead() == target`, which
 *   already holds).
 * - Another voter: Raft's leader transfer through the member, which waits (polling every
 *   heartbeat, as etcd polls every tick) until the target leads, or fails after the request
 *   timeout with `etcdserver: request timed out, leader transfer took too long` (code Unknown).
 */
export async function transferLeadership(member: Member, target: bigint): Promise<void> {
  const transferee = member.members().find((m) => m.id === target);
  if (transferee === undefined || transferee.isLearner) throw new CoreError('bad-leader-transferee');
  if (member.raftStatus().leader === target) return;
  await member.transferLeader(target);
}
