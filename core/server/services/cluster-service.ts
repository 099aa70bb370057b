/**
 * The etcd Cluster service (`/etcdserverpb.Cluster/*`): MemberList, MemberAdd, MemberRemove,
 * MemberUpdate, MemberPromote. Membership changes go through Raft conf-change entries; the
 * checks and error texts are etcd's (etcd.md §2.10, §4.4) and live in the member, which knows
 * the cluster's state. Errors leave through the one table.
 */
import * as pb from '../../../protocol/etcd/generated/rpc';
import { GrpcServer } from '../grpc/grpc-server';
import { Member, MemberInfo } from '../member';
import { guarded } from './kv-service';
import { pbHeader } from './pb-mapping';

/** A member on the wire. */
export function pbMember(m: MemberInfo): pb.Member {
  return { ID: m.id, name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner };
}

/** Registers the Cluster service. */
export function registerClusterService(server: GrpcServer, member: Member): void {
  server.unary('/etcdserverpb.Cluster/MemberList', pb.MemberListRequest.decode, pb.MemberListResponse.encode, (req) =>
    guarded(async () => {
      if (req.linearizable) await member.linearize();
      return { header: pbHeader(member.header()), members: member.members().map(pbMember) };
    }),
  );
}
