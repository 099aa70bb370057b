/**
 * Questions fault tests ask the members of a test cluster through the etcd Maintenance API
 * (Status by the etcd3 client, HashKV by etcdctl), each call bounded by a deadline and each wait by {@link pollUntil}: who
 * leads according to whom, and whether the members hold the same key-value history.
 *
 * Status is answered from the member's own state (no quorum needed), so it works on a member
 * that is cut off, which is what the partition tests need to see it step down. The Raft log's
 * state comes from `GET /raft/log` on the peer port.
 */
import * as http2 from 'node:http2';
import type { ClusterMember } from './cluster';
import { etcdctl, quoteBigInts } from './etcdctl';
import { noRetryClient } from './kv-load';
import { pollUntil } from './poll';

/** A member's view: its id, the leader it knows ('0' = none), its Raft term and its revision. */
export interface MemberView {
  memberId: string;
  leader: string;
  raftTerm: number;
  revision: number;
}

/** The Status of `m`, or undefined when it does not answer within `timeoutMs`. */
export async function memberView(m: ClusterMember, timeoutMs = 2000): Promise<MemberView | undefined> {
  const client = noRetryClient(m.endpoint, timeoutMs);
  try {
    const s = await client.maintenance.status({});
    return { memberId: String(s.header.member_id), leader: String(s.leader), raftTerm: Number(s.raftTerm), revision: Number(s.header.revision) };
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

/**
 * Waits until every member of `group` answers and they agree on one leader that is itself in
 * `group`; resolves with that member and the views.
 */
export function agreedLeader(group: readonly ClusterMember[], timeoutMs: number): Promise<{ leader: ClusterMember; views: MemberView[] }> {
  return pollUntil(`a leader agreed by ${group.map((m) => m.name).join(', ')}`, async () => {
    const views = await Promise.all(group.map((m) => memberView(m)));
    if (views.some((v) => v === undefined)) return undefined;
    const vs = views as MemberView[];
    const leaderId = vs[0]!.leader;
    if (leaderId === '0' || vs.some((v) => v.leader !== leaderId)) return undefined;
    const i = vs.findIndex((v) => v.memberId === leaderId);
    return i < 0 ? undefined : { leader: group[i]!, views: vs };
  }, timeoutMs, 200);
}

/** Waits until `m` answers Status and does not consider itself the leader. */
export function notLeader(m: ClusterMember, timeoutMs: number): Promise<MemberView> {
  return pollUntil(`${m.name} is not the leader`, async () => {
    const v = await memberView(m);
    return v && v.leader !== v.memberId ? v : undefined;
  }, timeoutMs, 200);
}

/**
 * HashKV of `m` at `revision`, or undefined while it has not applied that revision (or is
 * unreachable). Through etcdctl: etcd3 1.1.2's `maintenance.hashKV` calls a method name its
 * gRPC stub does not have (`hashKV` vs the loaded `hashKv`).
 */
async function hashAt(m: ClusterMember, revision: number): Promise<string | undefined> {
  const r = await etcdctl(m.endpoint, ['--write-out=json', 'endpoint', 'hashkv', `--rev=${revision}`], { timeoutMs: 5000 });
  if (r.code !== 0) return undefined;
  const [e] = JSON.parse(quoteBigInts(r.stdout)) as Array<{ HashKV?: { hash?: number | string } }>;
  return e?.HashKV?.hash === undefined ? undefined : String(e.HashKV.hash);
}

/**
 * Waits until every member has applied the revision `from` reports now and all of them hash
 * their key-value history up to it to the same value (etcd's functional tester's KV_HASH
 * check; works under load, as the revision is fixed). Rejects with the hashes seen if they
 * differ, or when some member never reaches the revision.
 */
export async function sameHashKv(members: readonly ClusterMember[], from: ClusterMember, timeoutMs: number): Promise<{ revision: number; hash: string }> {
  const v = await pollUntil(`${from.name} answers Status`, () => memberView(from), timeoutMs, 200);
  const hashes = new Map<string, string>();
  await pollUntil(`every member applies revision ${v.revision}`, async () => {
    for (const m of members) {
      if (hashes.has(m.name)) continue;
      const h = await hashAt(m, v.revision);
      if (h !== undefined) hashes.set(m.name, h);
    }
    return hashes.size === members.length ? true : undefined;
  }, timeoutMs, 250);
  const distinct = new Set(hashes.values());
  if (distinct.size !== 1) throw new Error(`HashKV at revision ${v.revision} differs: ${JSON.stringify(Object.fromEntries(hashes))}`);
  return { revision: v.revision, hash: [...distinct][0]! };
}

/** Waits until every member answers Status with the same revision (no writes in flight); resolves with it. */
export function sameRevision(members: readonly ClusterMember[], timeoutMs: number): Promise<number> {
  return pollUntil('every member at the same revision', async () => {
    const views = await Promise.all(members.map((m) => memberView(m)));
    if (views.some((x) => x === undefined)) return undefined;
    const revs = new Set(views.map((x) => x!.revision));
    return revs.size === 1 ? [...revs][0] : undefined;
  }, timeoutMs, 250);
}

/** The state of a member's Raft log and its snapshot counters (`GET /raft/log` on the peer port). */
export interface RaftLogState {
  firstIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  snapshotsTaken: number;
  snapshotsSent: number;
  snapshotsReceived: number;
  snapshotsInstalled: number;
}

/** `GET /raft/log` of `m`, straight to its peer listener (never through a proxy); rejects after `timeoutMs`. */
export function raftLog(m: ClusterMember, timeoutMs = 3000): Promise<RaftLogState> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(m.listenPeerUrl ?? m.peerUrl);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`GET /raft/log on ${m.name} timed out`)), timeoutMs);
    session.on('error', fail);
    const req = session.request({ ':method': 'GET', ':path': '/raft/log' });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', fail);
    req.on('end', () => {
      clearTimeout(timer);
      session.close();
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as RaftLogState);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}
