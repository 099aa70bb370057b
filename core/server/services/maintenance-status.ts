/**
 * The Maintenance Status answer (etcd.md §2.9): served from local state with no Raft round, so
 * it answers even without a leader. `errors` holds `etcdserver: no leader` when leaderless, then
 * one line per active alarm in Go's compact proto text form.
 */
import * as pb from '../../../protocol/etcd/generated/rpc';
import { AlarmMember } from '../../apply/alarm-store';
import { etcdMessage } from '../../errors/grpc-error-table';
import { Member } from '../member';
import { CLAIMED_VERSION } from '../http-routes';
import { pbHeader } from './pb-mapping';

/**
 * One alarm as etcd prints it in Status errors and `etcdctl alarm list`:
 * `memberID:<decimal id> alarm:<NAME> ` — gogoproto's compact text, trailing space included
 * (checked against etcd 3.4.23).
 */
export function alarmText(a: AlarmMember): string {
  const name = pb.AlarmType[a.alarm as number] ?? String(a.alarm);
  return `memberID:${BigInt.asUintN(64, a.memberId)} alarm:${name} `;
}

/** The StatusResponse of `member` now. */
export function statusResponse(member: Member): pb.StatusResponse {
  const raft = member.raftStatus();
  const size = member.backend.stats();
  const errors: string[] = [];
  if (raft.leader === 0n) errors.push(etcdMessage('no-leader'));
  for (const a of member.alarms.list()) errors.push(alarmText(a));
  const self = member.members().find((m) => m.id === member.memberId);
  return {
    header: pbHeader(member.header()),
    version: CLAIMED_VERSION,
    dbSize: BigInt(size.sizeBytes),
    leader: raft.leader,
    raftIndex: BigInt(raft.commit),
    raftTerm: BigInt(raft.term),
    raftAppliedIndex: BigInt(raft.applied),
    errors,
    dbSizeInUse: BigInt(size.sizeInUseBytes),
    isLearner: self?.isLearner ?? false,
  };
}
