/**
 * `/metrics` on the client port (etcd.md §4.5): one member's {@link MemberMetrics} plus the
 * process metrics, refreshed from live member state at every scrape and rendered in the
 * Prometheus text format 0.0.4.
 *
 * Where the numbers come from:
 * - scrape time: leader, committed/applied index, db sizes, key count, revisions, quota;
 * - every durable backend write: commit and fsync latencies (Backend.observeCommits), and the
 *   leader again (a new leader's first entry is such a write, so leader changes are counted
 *   between scrapes too);
 * - every finished gRPC call: `grpc_server_handled_total` (GrpcServer.observeCalls);
 * - `/health`: the health counters; the HTTP routes also set `etcd_server_version`;
 * - the proposal path (Member/RaftDriver): pending and failed proposals, through the methods
 *   of MemberMetrics (see its docs). Until they call them those two stay at 0.
 */
import type { ServerResponse } from 'node:http';
import type { GrpcServer } from './grpc/grpc-server';
import type { HttpRequest, HttpResponse } from './grpc/client-listener';
import { Member } from './member';
import { MemberMetrics } from './metrics-member';
import { registerProcessMetrics } from './metrics-process';
import { PROMETHEUS_CONTENT_TYPE } from './metrics-registry';

const byMember = new WeakMap<Member, MemberMetrics>();

/**
 * The metrics of `member`, created with their scrape-time collectors on first use. If the
 * member carries its own `metrics: MemberMetrics` (so that the Raft driver can feed it), that
 * object is used.
 */
export function memberMetricsOf(member: Member): MemberMetrics {
  let m = byMember.get(member);
  if (m !== undefined) return m;
  const own = (member as { metrics?: unknown }).metrics;
  m = own instanceof MemberMetrics ? own : new MemberMetrics();
  byMember.set(member, m);
  attachCollectors(m, member);
  return m;
}

/**
 * Starts the event-driven metrics of `member` served by `server`: backend commit timings and
 * gRPC call outcomes. Call once at start, before serving (what happens earlier is not seen).
 */
export function instrumentMember(server: GrpcServer, member: Member): MemberMetrics {
  const m = memberMetricsOf(member);
  member.backend.observeCommits((t) => {
    m.observeCommit(t.commitSeconds, t.syncSeconds);
    observeLeader(m, member);
  });
  member.observeWalSyncs((seconds) => m.observeWalFsync(seconds));
  server.observeCalls((path, kind, code) => m.observeGrpcCall(path, kind, code));
  return m;
}

/** The Prometheus text of `member` now. */
export function renderMetrics(member: Member): string {
  return memberMetricsOf(member).registry.render();
}

/**
 * Serves `/metrics`: GET and HEAD only (etcd's handler is a plain Go mux entry; other methods
 * get 405 here rather than a body nobody asked for).
 */
export function serveMetrics(member: Member, req: HttpRequest, response: HttpResponse): void {
  // HTTP/1 and HTTP/2 compatibility responses share these calls; one type keeps tsc simple.
  const res = response as ServerResponse;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('Method Not Allowed\n');
    return;
  }
  const body = renderMetrics(member);
  res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(body)) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function observeLeader(m: MemberMetrics, member: Member): void {
  const lead = member.raftStatus().leader;
  m.observeLeader(lead, lead !== 0n && lead === member.memberId);
}

function attachCollectors(m: MemberMetrics, member: Member): void {
  registerProcessMetrics(m.registry);
  m.registry.collect(() => {
    observeLeader(m, member);
    const raft = member.raftStatus();
    m.proposalsCommitted.set(raft.commit);
    m.proposalsApplied.set(raft.applied);
    m.proposalsPending.inc(0); // make the family visible before the driver reports any
    m.proposalsFailed.inc(undefined, 0);
    m.healthSuccess.inc(undefined, 0);
    m.healthFailures.inc(undefined, 0);
    m.leaderChanges.inc(undefined, 0);
    const size = member.backend.stats();
    m.dbTotalSize.set(size.sizeBytes);
    m.dbInUseSize.set(size.sizeInUseBytes);
    m.quotaBytes.set(member.quotaBytes);
    m.keysTotal.set(member.kv.index.size);
    m.currentRevision.set(member.kv.readRevision);
    m.compactRevision.set(member.kv.compactRevision);
  });
}
