/**
 * The Lease service over real gRPC against an in-process member: server-chosen ids, the minimum
 * and maximum TTL rules, keep-alive streams (answers in request order, TTL 0 for an unknown
 * lease, OK status on half-close), TimeToLive and Leases, and a revoke deleting attached keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../../../../protocol/etcd/generated/rpc';
import { Member, MEMBER_DEFAULTS } from '../../../../core/server/member';
import { nullLogger } from '../../../../core/util/logger';
import { GrpcServer } from '../../../../core/server/grpc/grpc-server';
import { ClientListener } from '../../../../core/server/grpc/client-listener';
import { registerLeaseService } from '../../../../core/server/services/lease-service';
import { createTempDir, removeTempDir } from '../../../support/temp-dir';
import { freePorts } from '../../../support/ports';
import { pollUntil } from '../../../support/poll';

type Outcome<T> = { ok: true; r: T } | { ok: false; code: number; details: string };

test('Lease service over gRPC', async () => {
  const dir = createTempDir('lease-service-');
  const member = await Member.start({ ...MEMBER_DEFAULTS, checkOwnEntries: true, name: 'l', dataDir: path.join(dir, 'data'), logger: nullLogger });
  const server = new GrpcServer();
  registerLeaseService(server, member);
  const [port] = await freePorts(1);
  const listener = await ClientListener.listen({ host: '127.0.0.1', port: port!, grpc: server });
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = <Req, Res>(method: string, req: { encode(m: Req): Buffer }, res: { decode(b: Buffer): Res }, msg: Req): Promise<Outcome<Res>> =>
    new Promise((resolve) => {
      client.makeUnaryRequest(`/etcdserverpb.Lease/${method}`, (m: Req) => req.encode(m), (b: Buffer) => res.decode(b), msg, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, r) =>
        resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true, r: r as Res }),
      );
    });
  const grant = (TTL: bigint, ID = 0n) => call('LeaseGrant', pb.LeaseGrantRequest, pb.LeaseGrantResponse, { TTL, ID });
  const ttl = (ID: bigint) => call('LeaseTimeToLive', pb.LeaseTimeToLiveRequest, pb.LeaseTimeToLiveResponse, { ID, keys: true });
  try {
    await pollUntil('leader', async () => (member.lessor.isPrimary ? true : undefined), 5000, 20);
    const auto = await grant(1n);
    assert.ok(auto.ok && auto.r.ID > 0n && auto.r.TTL === 2n, 'server-chosen positive id; TTL raised to the 2 s minimum');
    assert.deepEqual(await grant(9_000_000_001n, 5n), { ok: false, code: 11, details: 'etcdserver: too large lease TTL' });
    assert.ok((await grant(30n, 5n)).ok);
    assert.deepEqual(await grant(30n, 5n), { ok: false, code: 9, details: 'etcdserver: lease already exists' });

    const stream = client.makeBidiStreamRequest('/etcdserverpb.Lease/LeaseKeepAlive', (m: pb.LeaseKeepAliveRequest) => pb.LeaseKeepAliveRequest.encode(m), (b: Buffer) => pb.LeaseKeepAliveResponse.decode(b));
    const answers: Array<[bigint, bigint]> = [];
    stream.on('data', (r: pb.LeaseKeepAliveResponse) => answers.push([r.ID, r.TTL]));
    const status = new Promise<number>((resolve) => stream.on('status', (s: grpc.StatusObject) => resolve(s.code)));
    stream.on('error', () => {});
    for (const ID of [5n, 77n, 5n]) stream.write({ ID });
    stream.end();
    assert.equal(await status, grpc.status.OK, 'a half-close ends the keep-alive call with OK');
    assert.deepEqual(answers, [[5n, 30n], [77n, 0n], [5n, 30n]]);

    await member.propose({ type: 'put', put: { key: Buffer.from('k2'), value: Buffer.from('v'), lease: 5n, prevKv: false, ignoreValue: false, ignoreLease: false } });
    await member.propose({ type: 'put', put: { key: Buffer.from('k1'), value: Buffer.from('v'), lease: 5n, prevKv: false, ignoreValue: false, ignoreLease: false } });
    const t = await ttl(5n);
    assert.ok(t.ok && t.r.grantedTTL === 30n && t.r.TTL <= 30n && t.r.TTL >= 28n);
    assert.deepEqual(t.ok && t.r.keys.map(String), ['k1', 'k2']);
    const unknown = await ttl(77n);
    assert.ok(unknown.ok && unknown.r.TTL === -1n, 'unknown lease: TTL -1, no error');
    const leases = await call('LeaseLeases', pb.LeaseLeasesRequest, pb.LeaseLeasesResponse, {});
    assert.deepEqual(leases.ok && leases.r.leases.map((l) => l.ID).sort(), [5n, auto.ok ? auto.r.ID : 0n].sort());

    const before = member.kv.readRevision;
    const revoked = await call('LeaseRevoke', pb.LeaseRevokeRequest, pb.LeaseRevokeResponse, { ID: 5n });
    assert.ok(revoked.ok && revoked.r.header?.revision === BigInt(before + 1), 'both keys deleted in one revision');
    assert.equal(member.kv.range({ ...rangeAll() }).count, 0);
    assert.deepEqual(await call('LeaseRevoke', pb.LeaseRevokeRequest, pb.LeaseRevokeResponse, { ID: 5n }), { ok: false, code: 5, details: 'etcdserver: requested lease not found' });
  } finally {
    client.close();
    server.stop();
    await listener.close();
    await member.stop();
    removeTempDir(dir);
  }
});

function rangeAll() {
  return {
    key: Buffer.from([0]), rangeEnd: Buffer.from([0]), limit: 0, revision: 0, sortOrder: 0, sortTarget: 0, serializable: true,
    keysOnly: false, countOnly: true, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0,
  };
}
