/**
 * First boot of a member with an empty data dir (etcd.md §4.3, etcd `bootstrapWithoutWAL`):
 *
 * - `--initial-cluster-state new`: every member computes the same member ids (peer URLs +
 *   token) and cluster id from `--initial-cluster`. Before bootstrapping it asks the other
 *   listed peers for their member list: if one of them already knows this member as started,
 *   the data dir was wiped and the member must not bootstrap a second time (etcd: `member <id>
 *   has already been bootstrapped`) — a voter that forgot its log can break Raft's safety.
 * - `--initial-cluster-state existing`: the member was added with `member add` (its id includes
 *   a timestamp, so it cannot be computed): it fetches the member list from the other listed
 *   peers, finds itself by peer URLs, and takes the cluster id from the answer.
 *
 * With a data dir that already holds a member, none of this runs: the flags are ignored.
 */
import { Logger } from '../util/logger';
import { MemberRecord } from '../cluster/member-table';
import { ClusterConfigError, InitialCluster, initialMembers, sameUrls } from '../cluster/initial-cluster';
import { peerRequestUrl } from './peer-sender';

/** How long a first boot keeps asking peers (etcd's bootstrap timeout is per request; joins retry). */
const JOIN_TIMEOUT_MS = 30_000;
const PROBE_TIMEOUT_MS = 1000;

/** The `/members` answer a peer gives. */
export interface RemoteCluster {
  clusterId: bigint;
  members: MemberRecord[];
}

/** The identity a first boot settles on. */
export interface FirstBoot {
  memberId: bigint;
  clusterId: bigint;
  /** `new`: the initial members to write as the first log entries. `existing`: undefined. */
  initialMembers?: MemberRecord[];
  /** The cluster as the peers know it (existing), to reach them before the log catches up. */
  remoteMembers: MemberRecord[];
}

/** Encodes a member list for `/members` (ids as hex strings: JSON has no 64-bit integers). */
export function encodeRemoteCluster(clusterId: bigint, members: MemberRecord[]): unknown {
  return {
    clusterId: clusterId.toString(16),
    members: members.map((m) => ({ id: m.id.toString(16), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner })),
  };
}

/** Inverse of {@link encodeRemoteCluster}; throws on a malformed answer. */
export function decodeRemoteCluster(body: unknown): RemoteCluster {
  const b = body as { clusterId: string; members: Array<{ id: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean }> };
  if (typeof b?.clusterId !== 'string' || !Array.isArray(b.members)) throw new Error('malformed /members answer');
  return {
    clusterId: BigInt('0x' + b.clusterId),
    members: b.members.map((m) => ({ id: BigInt('0x' + m.id), name: m.name, peerUrls: m.peerURLs, clientUrls: m.clientURLs, isLearner: m.isLearner })),
  };
}

/** Decides the identity of a member booting with an empty data dir. */
export async function firstBoot(options: {
  name: string;
  cluster: InitialCluster;
  state: 'new' | 'existing';
  token: string;
  advertisePeerUrls: string[];
  logger: Logger;
}): Promise<FirstBoot> {
  const others = otherPeerUrls(options.cluster, options.name);
  if (options.state === 'new') {
    const { members, clusterId } = initialMembers(options.cluster, options.token);
    const self = members.find((m) => m.name === options.name)!;
    for (const remote of await probeAll(others, PROBE_TIMEOUT_MS)) {
      // By id, or by peer URLs (a member added at runtime has an id that cannot be recomputed).
      const known = remote.members.find((m) => m.id === self.id || sameUrls(m.peerUrls, options.advertisePeerUrls));
      if (known && known.clientUrls.length > 0) {
        throw new ClusterConfigError(`member ${known.id.toString(16)} has already been bootstrapped`);
      }
    }
    return { memberId: self.id, clusterId, initialMembers: members, remoteMembers: members };
  }
  return join(options, others);
}

async function join(options: { name: string; advertisePeerUrls: string[]; logger: Logger }, others: string[]): Promise<FirstBoot> {
  if (others.length === 0) throw new ClusterConfigError('--initial-cluster-state existing needs the other members in --initial-cluster');
  const deadline = Date.now() + JOIN_TIMEOUT_MS;
  while (Date.now() < deadline) {
    for (const remote of await probeAll(others, PROBE_TIMEOUT_MS)) {
      const self = remote.members.find((m) => sameUrls(m.peerUrls, options.advertisePeerUrls));
      if (!self) {
        throw new ClusterConfigError(`error validating peerURLs: member with peer URLs ${options.advertisePeerUrls.join(',')} is not in the cluster (add it with 'etcdctl member add' first)`);
      }
      if (self.name !== '' && self.name !== options.name) {
        throw new ClusterConfigError(`member ${self.id.toString(16)} with these peer URLs already started as "${self.name}"`);
      }
      if (self.name !== '') throw new ClusterConfigError(`member ${self.id.toString(16)} has already been bootstrapped`);
      return { memberId: self.id, clusterId: remote.clusterId, remoteMembers: remote.members };
    }
    options.logger.warn({ peers: others }, 'could not reach any peer to join; retrying');
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new ClusterConfigError(`could not fetch the cluster's member list from ${others.join(',')} to join it`);
}

function otherPeerUrls(cluster: InitialCluster, name: string): string[] {
  const out: string[] = [];
  for (const [n, urls] of cluster) if (n !== name) out.push(...urls);
  return out;
}

/** The `/members` answers of every peer that answers within the timeout. */
async function probeAll(urls: string[], timeoutMs: number): Promise<RemoteCluster[]> {
  const answers = await Promise.all(urls.map(async (u) => {
    try {
      const r = await peerRequestUrl(u, '/members', undefined, timeoutMs);
      return r.status === 200 ? decodeRemoteCluster(r.body) : undefined;
    } catch {
      return undefined;
    }
  }));
  return answers.filter((a): a is RemoteCluster => a !== undefined);
}
