/**
 * The etcd Lease service (`/etcdserverpb.Lease/*`): LeaseGrant, LeaseRevoke, LeaseKeepAlive,
 * LeaseTimeToLive, LeaseLeases (etcd.md §2.7).
 *
 * Grants and revokes go through the log, so every member holds the same leases and a revoke
 * deletes the attached keys in one revision (watchers see the DELETE events). Renewal and
 * TimeToLive are answered by the primary's lessor and are not logged. Expiry is not this file's
 * business: the member's revoke loop proposes revokes of expired leases through the same path.
 *
 * etcd's quirks kept on purpose (clients depend on them):
 * - ID 0 asks the server to choose a (positive, 63-bit) id.
 * - A TTL below the minimum is raised to it, and the response shows the raised value.
 * - KeepAlive answers an unknown or expired lease with TTL 0, not an error; the Go client
 *   then closes its keep-alive channel.
 * - TimeToLive answers an unknown lease with TTL −1, not an error.
 */
import * as pb from '../../../protocol/etcd/generated/rpc';
import { GrpcServer } from '../grpc/grpc-server';
import type { BidiStream } from '../grpc/grpc-method';
import { CoreError } from '../../util/core-error';
import { keyBytes } from '../../util/bytes';
import { Member } from '../member';
import { grpcError, guarded, limitedDecoder } from './kv-service';
import { pbHeader } from './pb-mapping';
import { checkQuota, QUOTA_LEASE_OVERHEAD } from '../quota';

/** A request over --max-request-bytes decodes to this marker (see {@link limitedDecoder}). */
function notTooLarge<T>(req: T): Exclude<T, symbol> {
  if (typeof req === 'symbol') throw new CoreError('request-too-large');
  return req as Exclude<T, symbol>;
}

/**
 * The TTL to log for a grant: etcd refuses TTLs over its maximum (`too large lease TTL`) and
 * lets the lessor raise anything below the minimum, negative values included.
 */
function grantTtl(member: Member, ttl: bigint): number {
  const n = ttl <= 0n ? 0 : Number(ttl);
  member.lessor.checkGrantTtl(n);
  return n;
}

/** Registers the Lease service of `member` on `server`. */
export function registerLeaseService(server: GrpcServer, member: Member): void {
  const max = member.config.maxRequestBytes;
  server.unary('/etcdserverpb.Lease/LeaseGrant', limitedDecoder(pb.LeaseGrantRequest.decode, max), pb.LeaseGrantResponse.encode, (req) =>
    guarded(() => leaseGrant(member, notTooLarge(req))),
  );
  server.unary('/etcdserverpb.Lease/LeaseRevoke', limitedDecoder(pb.LeaseRevokeRequest.decode, max), pb.LeaseRevokeResponse.encode, (req) =>
    guarded(async () => {
      const out = await member.propose({ type: 'leaseRevoke', id: notTooLarge(req).ID });
      return { header: pbHeader(member.header(out.revision)) };
    }),
  );
  server.unary('/etcdserverpb.Lease/LeaseTimeToLive', limitedDecoder(pb.LeaseTimeToLiveRequest.decode, max), pb.LeaseTimeToLiveResponse.encode, (req) =>
    guarded(() => leaseTimeToLive(member, notTooLarge(req))),
  );
  server.unary('/etcdserverpb.Lease/LeaseLeases', limitedDecoder(pb.LeaseLeasesRequest.decode, max), pb.LeaseLeasesResponse.encode, (req) =>
    guarded(() => {
      notTooLarge(req);
      return { header: pbHeader(member.header()), leases: member.lessor.ids().map((ID) => ({ ID })) };
    }),
  );
  server.bidi('/etcdserverpb.Lease/LeaseKeepAlive', limitedDecoder(pb.LeaseKeepAliveRequest.decode, max), pb.LeaseKeepAliveResponse.encode, (stream) =>
    serveKeepAlive(member, stream),
  );
}

async function leaseGrant(member: Member, req: pb.LeaseGrantRequest): Promise<pb.LeaseGrantResponse> {
  const ttl = grantTtl(member, req.TTL);
  const id = req.ID === 0n ? member.nextLeaseId() : req.ID;
  await checkQuota(member, QUOTA_LEASE_OVERHEAD);
  const out = await member.propose({ type: 'leaseGrant', id, ttl });
  if (out.result?.type !== 'leaseGrant') throw new CoreError('not-capable', 'lease grant without result');
  return { header: pbHeader(member.header(out.revision)), ID: out.result.id, TTL: BigInt(out.result.ttl), error: '' };
}

async function leaseTimeToLive(member: Member, req: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse> {
  // etcd waits for the applied index first, so a grant acknowledged before is always seen.
  await member.linearize();
  const t = member.lessor.timeToLive(req.ID);
  // Keys and granted TTL are replicated state; the countdown lives on the leader only.
  const ttl = t.ttl < 0 ? t.ttl : await member.leaseRemainingTtl(req.ID);
  return {
    header: pbHeader(member.header()),
    ID: req.ID,
    TTL: BigInt(ttl),
    grantedTTL: BigInt(t.grantedTtl),
    keys: req.keys ? t.keys.map(keyBytes) : [],
  };
}

/** Keep-alive requests of one stream waiting for their answer before reading pauses. */
const MAX_PENDING_KEEPALIVES = 16;

/**
 * One keep-alive stream: each request is answered, in request order, with the lease's renewed
 * TTL. Renewal happens on the leader (the member forwards it from a follower), so it is async;
 * requests are chained to keep the order. The header is taken before the renewal (as etcd
 * does), so a client never sees a successful keep-alive at a revision after the lease's revoke.
 * Reading pauses while too many requests wait or while the send buffer is full (HTTP/2 flow
 * control then slows the client), so a client that never reads cannot grow our memory. A
 * half-close ends the call with OK once every earlier request is answered.
 */
function serveKeepAlive(member: Member, stream: BidiStream<pb.LeaseKeepAliveRequest | symbol, pb.LeaseKeepAliveResponse>): void {
  let chain: Promise<void> = Promise.resolve();
  let pending = 0;
  const renewOne = async (req: pb.LeaseKeepAliveRequest): Promise<void> => {
    const header = pbHeader(member.header());
    const ttl = await member.leaseKeepAlive(req.ID);
    if (!stream.write({ header, ID: req.ID, TTL: BigInt(ttl) })) await stream.drain();
  };
  stream.onMessage((msg) => {
    if (stream.ended) return;
    if (++pending >= MAX_PENDING_KEEPALIVES) stream.pause();
    chain = chain
      .then(() => (stream.ended ? undefined : renewOne(notTooLarge(msg))))
      .catch((err: unknown) => stream.end(grpcError(err)))
      .finally(() => {
        if (pending-- === MAX_PENDING_KEEPALIVES) stream.resume();
      });
  });
  stream.onHalfClose(() => void chain.then(() => stream.end()));
}
