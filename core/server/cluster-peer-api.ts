/**
 * The member's side of the peer HTTP API (served by {@link PeerServer}) and the client side of
 * the requests a member forwards to the leader:
 *
 * - raft messages → the driver;
 * - `GET /members` → this member's view of the cluster;
 * - `POST /lease/keepalive {id}` → renew on the leader's lessor (etcd forwards keep-alives to
 *   the leader: only the primary lessor tracks expiry);
 * - `POST /lease/ttl {id}` → the remaining TTL on the leader's lessor (LeaseTimeToLive on a
 *   follower, as etcd forwards it);
 * - `POST /cluster/{add,remove,update,promote}` → the membership change with etcd's checks, run
 *   on the leader, which has the replication progress and the link health those checks need.
 *
 * Ids travel as decimal strings (JSON has no 64-bit integers). Expected failures travel as their
 * core error code and are rethrown as the same `CoreError` on the forwarding member, so the
 * client sees etcd's exact error wherever it connected.
 */
import { CoreError, CoreErrorCode } from '../util/core-error';
import { Message } from '../raft/types';
import { MemberRecord } from '../cluster/member-table';
import type { Member } from './member';
import { PeerHandler } from './peer-server';
import { encodeRemoteCluster } from './cluster-bootstrap';

/** Wire form of a member in peer JSON. */
interface WireMember {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** The peer API of one member. */
export class ClusterPeerApi implements PeerHandler {
  constructor(private readonly member: Member) {}

  localId(): bigint {
    return this.member.memberId;
  }

  clusterId(): bigint {
    return this.member.clusterId;
  }

  isRemoved(id: bigint): boolean {
    return this.member.table.isRemoved(id);
  }

  onMessage(m: Message): void {
    this.member.stepPeerMessage(m);
  }

  members(): unknown {
    return encodeRemoteCluster(this.member.clusterId, this.member.members());
  }

  snapshot(stream: Parameters<PeerHandler['snapshot']>[0]): void {
    this.member.snapshotReceiver.handle(stream);
  }

  raftLog(): unknown {
    return this.member.raftLogStatus();
  }

  async rpc(path: string, body: unknown): Promise<unknown> {
    const b = (body ?? {}) as { id?: string; peerUrls?: string[]; isLearner?: boolean };
    if (path === '/lease/keepalive') {
      if (!this.member.lessor.isPrimary) throw new CoreError('not-leader');
      return { ttl: this.member.lessor.renew(BigInt(b.id ?? '0')) };
    }
    if (path === '/lease/ttl') {
      if (!this.member.lessor.isPrimary) throw new CoreError('not-leader');
      return { ttl: this.member.lessor.timeToLive(BigInt(b.id ?? '0')).ttl };
    }
    if (!this.member.isLeader) throw new CoreError('not-leader');
    const m = this.member.membership;
    switch (path) {
      case '/cluster/add':
        return wireMember(await m.add(strings(b.peerUrls), b.isLearner === true));
      case '/cluster/remove':
        await m.remove(BigInt(b.id ?? '0'));
        return {};
      case '/cluster/update':
        await m.update(BigInt(b.id ?? '0'), strings(b.peerUrls));
        return {};
      case '/cluster/promote':
        await m.promote(BigInt(b.id ?? '0'));
        return {};
      default:
        throw new Error(`unknown peer path ${path}`);
    }
  }

  /**
   * Runs a membership operation on the leader: here when this member leads, else over the peer
   * link. Resolves with the operation's answer (the new member for `add`).
   */
  async onLeader<T>(path: string, body: Record<string, unknown>): Promise<T> {
    if (this.member.isLeader) {
      const answer = await this.rpc(path, body);
      return (path === '/cluster/add' ? fromWire(answer as WireMember) : undefined) as T;
    }
    const answer = await this.forward<WireMember>(path, body);
    return (path === '/cluster/add' ? fromWire(answer) : undefined) as T;
  }

  /** Sends a JSON request to the leader and decodes its answer or its core error. */
  async forward<T>(path: string, body: unknown): Promise<T> {
    const leader = this.member.leader;
    if (leader === 0n) throw new CoreError('no-leader');
    let r;
    try {
      r = await this.member.transport.request(leader, path, body, this.member.requestTimeoutMs());
    } catch {
      throw new CoreError('timeout');
    }
    if (r.status === 200) return r.body as T;
    const err = r.body as { error?: string };
    if (r.status === 409 && typeof err?.error === 'string') throw new CoreError(err.error as CoreErrorCode);
    throw new Error(`leader answered ${path} with status ${r.status}: ${err?.error ?? ''}`);
  }
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function wireMember(m: MemberRecord): WireMember {
  return { id: m.id.toString(), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner };
}

function fromWire(w: WireMember): MemberRecord {
  return { id: BigInt(w.id), name: w.name, peerUrls: w.peerURLs, clientUrls: w.clientURLs, isLearner: w.isLearner };
}
