/**
 * The etcd Maintenance service (`/etcdserverpb.Maintenance/*`, etcd.md §2.9): Status, Hash,
 * HashKV, Alarm, Defragment, Snapshot, MoveLeader. Status, Hash and HashKV are served from
 * local state; Alarm goes through the log (every member applies the same alarms); Snapshot
 * streams a consistent copy of the backend. Errors leave through the one table.
 *
 * Response shapes follow etcd 3.4/3.5 byte for byte where clients see them: Alarm, Defragment
 * and MoveLeader answer without a header (etcdctl `alarm list -w json` prints `{}` on etcd),
 * the Snapshot messages carry none either.
 */
import * as pb from '../../../protocol/etcd/generated/rpc';
import { AlarmAction, AlarmType } from '../../apply/apply-request';
import { CoreError } from '../../util/core-error';
import { GrpcServer } from '../grpc/grpc-server';
import { Member } from '../member';
import { hashKvResponse, hashResponse } from './maintenance-hash';
import { transferLeadership } from './maintenance-leader-transfer';
import { statusResponse } from './maintenance-status';
import { grpcError, guarded } from './kv-service';
import { sendSnapshot } from './snapshot-stream';

const SERVICE = '/etcdserverpb.Maintenance/';

/** Registers the Maintenance service. */
export function registerMaintenanceService(server: GrpcServer, member: Member): void {
  server.unary(SERVICE + 'Status', pb.StatusRequest.decode, pb.StatusResponse.encode, () => guarded(() => statusResponse(member)));
  server.unary(SERVICE + 'Hash', pb.HashRequest.decode, pb.HashResponse.encode, () => guarded(() => hashResponse(member)));
  server.unary(SERVICE + 'HashKV', pb.HashKVRequest.decode, pb.HashKVResponse.encode, (req) =>
    guarded(() => hashKvResponse(member, req.revision)),
  );
  server.unary(SERVICE + 'Alarm', pb.AlarmRequest.decode, pb.AlarmResponse.encode, (req) => guarded(() => alarm(member, req)));
  server.unary(SERVICE + 'Defragment', pb.DefragmentRequest.decode, pb.DefragmentResponse.encode, () =>
    guarded(async (): Promise<pb.DefragmentResponse> => {
      await member.backend.compactFile();
      return {};
    }),
  );
  server.unary(SERVICE + 'MoveLeader', pb.MoveLeaderRequest.decode, pb.MoveLeaderResponse.encode, (req) =>
    guarded(async (): Promise<pb.MoveLeaderResponse> => {
      if (member.raftStatus().leader !== member.memberId) throw new CoreError('not-leader');
      await transferLeadership(member, req.targetID);
      return {};
    }),
  );
  server.serverStream(SERVICE + 'Snapshot', pb.SnapshotRequest.decode, pb.SnapshotResponse.encode, async (_req, out, ctx) => {
    try {
      await sendSnapshot(member.backend, member.config.dataDir, out, ctx);
    } catch (err) {
      throw grpcError(err);
    }
  });
}

/**
 * Alarm GET / ACTIVATE / DEACTIVATE, all through the log as etcd does (so a GET is
 * linearizable). Activating the NONE alarm is a no-op with an empty answer (etcd 3.5).
 */
async function alarm(member: Member, req: pb.AlarmRequest): Promise<pb.AlarmResponse> {
  const action = req.action as number as AlarmAction;
  const type = req.alarm as number as AlarmType;
  if (action === AlarmAction.Activate && type === AlarmType.None) return { alarms: [] };
  if (action !== AlarmAction.Get && action !== AlarmAction.Activate && action !== AlarmAction.Deactivate) {
    return { alarms: [] };
  }
  const out = await member.propose({ type: 'alarm', action, memberId: req.memberID, alarm: type });
  const alarms = out.result?.type === 'alarm' ? out.result.alarms : [];
  // Member ids are uint64 on the wire; the log codec hands them back as signed int64.
  return { alarms: alarms.map((a) => ({ memberID: BigInt.asUintN(64, a.memberId), alarm: a.alarm as number as pb.AlarmType })) };
}
