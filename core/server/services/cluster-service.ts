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
  server.unary('/etcdserverpb.Cluster/MemberAdd', pb.MemberAddRequest.decode, pb.MemberAddResponse.encode, (req) =>
    guarded(async () => {
      const added = await member.memberAdd(req.peerURLs, req.isLearner);
      return { header: pbHeader(member.header()), member: pbMember(added), members: withMember(member.members(), added).map(pbMember) };
    }),
  );
  server.unary('/etcdserverpb.Cluster/MemberRemove', pb.MemberRemoveRequest.decode, pb.MemberRemoveResponse.encode, (req) =>
    guarded(async () => {
      await member.memberRemove(req.ID);
      return { header: pbHeader(member.header()), members: member.members().filter((m) => m.id !== req.ID).map(pbMember) };
    }),
  );
  server.unary('/etcdserverpb.Cluster/MemberUpdate', pb.MemberUpdateRequest.decode, pb.MemberUpdateResponse.encode, (req) =>
    guarded(async () => {
      await member.memberUpdate(req.ID, req.peerURLs);
      const members = member.members().map((m) => (m.id === req.ID ? { ...m, peerUrls: req.peerURLs } : m));
      return { header: pbHeader(member.header()), members: members.map(pbMember) };
    }),
  );
  server.unary('/etcdserverpb.Cluster/MemberPromote', pb.MemberPromoteRequest.decode, pb.MemberPromoteResponse.encode, (req) =>
    guarded(async () => {
      await member.memberPromote(req.ID);
      const members = member.members().map((m) => (m.id === req.ID ? { ...m, isLearner: false } : m));
      return { header: pbHeader(member.header()), members: members.map(pbMember) };
    }),
  );
}

/**
 * The change was applied on the leader; a follower that forwarded it may not have applied it
 * yet, so the answer shows the member list with the change (etcd answers after its own apply).
 */
function withMember(members: MemberInfo[], added: MemberInfo): MemberInfo[] {
  return members.some((m) => m.id === added.id) ? members : [...members, added];
}
