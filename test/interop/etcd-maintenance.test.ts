/**
 * The Maintenance service of the real `coracle` binary over gRPC (grpc-js with our codecs):
 * Status, Hash, HashKV (revisions, compaction and future errors), Alarm (NOSPACE blocks writes
 * and shows in Status and /health until disarmed), Defragment, MoveLeader, and the Snapshot
 * stream's framing (32 KiB chunks, remaining_bytes, SHA-256 trailer, size % 512 == 32) whose
 * payload is a real LMDB copy holding the data (etcd.md §2.9, §2.10); the gRPC health service;
 * and `etcdctl move-leader` across a 3-member cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../../protocol/etcd/generated/rpc';
import * as health from '../../protocol/etcd/generated/health';
import type { MessageCodec } from '../../protocol/etcd/wire/message-codec';
import { LmdbBackend } from '../../core/storage/lmdb-backend';
import { DB } from '../../core/storage/schema';
import { httpGet, startCoracle, type CoracleServer } from '../support/coracle-server';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { CoracleCluster, endpointStatus } from '../support/cluster';
import { etcdctl } from '../support/etcdctl';
import { requirePeer } from '../support/peers';

const M = '/etcdserverpb.Maintenance/';

/** A gRPC error as the test sees it. */
interface CallError {
  code: number;
  details: string;
}

/** A unary call with our codecs; rejects with {@link CallError}. */
function unary<Req, Res>(client: grpc.Client, method: string, req: Partial<Req>, reqCodec: MessageCodec<Req>, resCodec: MessageCodec<Res>): Promise<Res> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      method,
      (m: Partial<Req>) => Buffer.from(reqCodec.encode(m as Parameters<typeof reqCodec.encode>[0])),
      (b: Buffer) => resCodec.decode(b),
      req,
      new grpc.Metadata(),
      { deadline: Date.now() + 10_000 },
      (err, res) => (err ? reject({ code: err.code, details: err.details } satisfies CallError) : resolve(res as Res)),
    );
  });
}

/** Collects a Snapshot stream's messages (bounded by a deadline). */
function snapshot(client: grpc.Client): Promise<pb.SnapshotResponse[]> {
  return new Promise((resolve, reject) => {
    const msgs: pb.SnapshotResponse[] = [];
    const call = client.makeServerStreamRequest(
      M + 'Snapshot',
      () => Buffer.alloc(0),
      (b: Buffer) => pb.SnapshotResponse.decode(b),
      {},
      new grpc.Metadata(),
      { deadline: Date.now() + 20_000 },
    );
    call.on('data', (m: pb.SnapshotResponse) => msgs.push(m));
    call.on('error', reject);
    call.on('end', () => resolve(msgs));
  });
}

async function rejected(p: Promise<unknown>): Promise<CallError> {
  try {
    await p;
  } catch (err) {
    return err as CallError;
  }
  assert.fail('expected the call to fail');
}

const put = (c: grpc.Client, key: string, value: string) => unary(c, '/etcdserverpb.KV/Put', { key: Buffer.from(key), value: Buffer.from(value) }, pb.PutRequest, pb.PutResponse);
const status = (c: grpc.Client) => unary(c, M + 'Status', {}, pb.StatusRequest, pb.StatusResponse);
const hashKv = (c: grpc.Client, revision: bigint) => unary(c, M + 'HashKV', { revision }, pb.HashKVRequest, pb.HashKVResponse);
const alarm = (c: grpc.Client, action: pb.AlarmRequest_AlarmAction, memberID: bigint, type: pb.AlarmType) =>
  unary(c, M + 'Alarm', { action, memberID, alarm: type }, pb.AlarmRequest, pb.AlarmResponse);

async function withCoracle(body: (c: grpc.Client, server: CoracleServer) => Promise<void>): Promise<void> {
  const server = await startCoracle(['--zk-listen', '']);
  const client = new grpc.Client(server.endpoint, grpc.credentials.createInsecure());
  try {
    await body(client, server);
  } finally {
    client.close();
    await server.stop();
  }
}

test('Status, Hash and HashKV', async () => {
  await withCoracle(async (c) => {
    await put(c, 'a', '1');
    await put(c, 'b', '2');
    const st = await status(c);
    assert.equal(st.version, '3.5.0');
    assert.equal(st.leader, st.header?.memberId, 'a single member leads');
    assert.ok(st.raftIndex >= st.raftAppliedIndex && st.raftAppliedIndex > 0n);
    assert.ok(st.dbSize > 0n && st.dbSizeInUse > 0n && st.dbSizeInUse <= st.dbSize);
    assert.deepEqual(st.errors, []);
    assert.equal(st.header?.revision, 3n);

    const h3 = await hashKv(c, 0n);
    assert.equal(h3.header?.revision, 3n);
    assert.equal(h3.compactRevision, -1n, 'etcd reports -1 before any compaction');
    assert.equal((await hashKv(c, 3n)).hash, h3.hash);
    const h2 = await hashKv(c, 2n);
    assert.notEqual(h2.hash, h3.hash);
    await put(c, 'c', '3');
    assert.equal((await hashKv(c, 3n)).hash, h3.hash, 'a past revision hashes the same after new writes');
    const future = await rejected(hashKv(c, 99n));
    assert.deepEqual(future, { code: grpc.status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision is a future revision' });

    await unary(c, '/etcdserverpb.KV/Compact', { revision: 3n, physical: true }, pb.CompactionRequest, pb.CompactionResponse);
    const compacted = await rejected(hashKv(c, 3n));
    assert.deepEqual(compacted, { code: grpc.status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision has been compacted' });
    assert.equal((await hashKv(c, 4n)).compactRevision, 3n);

    const hash = (await unary(c, M + 'Hash', {}, pb.HashRequest, pb.HashResponse)).hash;
    assert.equal((await unary(c, M + 'Hash', {}, pb.HashRequest, pb.HashResponse)).hash, hash);
    await put(c, 'd', '4');
    assert.notEqual((await unary(c, M + 'Hash', {}, pb.HashRequest, pb.HashResponse)).hash, hash);
  });
});

test('Alarm NOSPACE blocks writes, shows in Status and /health, and disarms', async () => {
  await withCoracle(async (c, server) => {
    await put(c, 'keep', 'v');
    const id = (await status(c)).header!.memberId;
    const { ACTIVATE, DEACTIVATE, GET } = pb.AlarmRequest_AlarmAction;
    const activated = await alarm(c, ACTIVATE, id, pb.AlarmType.NOSPACE);
    assert.equal(activated.header, undefined, 'no header, as etcd');
    assert.deepEqual(activated.alarms, [{ memberID: id, alarm: pb.AlarmType.NOSPACE }]);
    assert.deepEqual((await alarm(c, GET, 0n, pb.AlarmType.NONE)).alarms, [{ memberID: id, alarm: pb.AlarmType.NOSPACE }]);
    assert.deepEqual((await alarm(c, ACTIVATE, id, pb.AlarmType.NONE)).alarms, [], 'activating NONE is a no-op');

    assert.deepEqual((await status(c)).errors, [`memberID:${id} alarm:NOSPACE `]);
    const refused = await rejected(put(c, 'x', 'y'));
    assert.deepEqual(refused, { code: grpc.status.RESOURCE_EXHAUSTED, details: 'etcdserver: mvcc: database space exceeded' });
    const health = await httpGet(server.clientPort, '/health');
    assert.equal(health?.status, 503);
    assert.deepEqual(JSON.parse(health!.body), { health: 'false', reason: 'ALARM NOSPACE' });
    // Deletes are still allowed while NOSPACE is active (the way out).
    await unary(c, '/etcdserverpb.KV/DeleteRange', { key: Buffer.from('keep') }, pb.DeleteRangeRequest, pb.DeleteRangeResponse);

    assert.deepEqual((await alarm(c, DEACTIVATE, id, pb.AlarmType.NOSPACE)).alarms, [{ memberID: id, alarm: pb.AlarmType.NOSPACE }]);
    assert.deepEqual((await alarm(c, GET, 0n, pb.AlarmType.NONE)).alarms, []);
    await put(c, 'x', 'y');
    assert.deepEqual((await status(c)).errors, []);
  });
});

test('Defragment and MoveLeader answer as a single etcd member does', async () => {
  await withCoracle(async (c) => {
    // etcd answers both without a header.
    assert.equal((await unary(c, M + 'Defragment', {}, pb.DefragmentRequest, pb.DefragmentResponse)).header, undefined);
    const id = (await status(c)).header!.memberId;
    assert.equal((await unary(c, M + 'MoveLeader', { targetID: id }, pb.MoveLeaderRequest, pb.MoveLeaderResponse)).header, undefined);
    const bad = await rejected(unary(c, M + 'MoveLeader', { targetID: 0x1234n }, pb.MoveLeaderRequest, pb.MoveLeaderResponse));
    assert.deepEqual(bad, { code: grpc.status.FAILED_PRECONDITION, details: 'etcdserver: bad leader transferee' });
  });
});

test('Snapshot streams an LMDB copy in etcd framing', async () => {
  await withCoracle(async (c) => {
    for (let i = 0; i < 200; i++) await put(c, `k${String(i).padStart(3, '0')}`, 'v'.repeat(500));
    const msgs = await snapshot(c);
    assert.ok(msgs.length >= 3, 'a 100 kB+ database takes several 32 KiB chunks');
    const payload = msgs.slice(0, -1);
    const trailer = msgs[msgs.length - 1]!;
    const total = payload.reduce((n, m) => n + m.blob.length, 0);
    let remaining = total;
    for (const m of payload) {
      assert.ok(m.blob.length > 0 && m.blob.length <= 32 * 1024);
      remaining -= m.blob.length;
      assert.equal(m.remainingBytes, BigInt(remaining));
      assert.equal(m.header, undefined);
    }
    assert.equal(trailer.remainingBytes, 0n);
    assert.equal((total + trailer.blob.length) % 512, 32, 'etcdctl detects the checksum by size % 512 == 32');
    const data = Buffer.concat(payload.map((m) => m.blob));
    assert.deepEqual(trailer.blob, createHash('sha256').update(data).digest());

    // The payload (padding included) opens as an LMDB environment holding the keys.
    const dir = createTempDir('coracle-snapshot-');
    try {
      mkdirSync(path.join(dir, 'env'));
      writeFileSync(path.join(dir, 'env', 'data.mdb'), data);
      const backend = LmdbBackend.open({ path: path.join(dir, 'env') });
      try {
        const records = backend.read((txn) => [...txn.iterate(DB.kv)].length);
        assert.equal(records, 200);
      } finally {
        await backend.close();
      }
    } finally {
      removeTempDir(dir);
    }
  });
});

test('grpc.health.v1.Health: Check and Watch', async () => {
  await withCoracle(async (c) => {
    const check = (service: string) =>
      unary(c, health.HealthService.Check.path, { service }, health.HealthCheckRequest, health.HealthCheckResponse);
    assert.equal((await check('')).status, health.HealthCheckResponse_ServingStatus.SERVING);
    assert.deepEqual(await rejected(check('no.such.Service')), { code: grpc.status.NOT_FOUND, details: 'unknown service' });
    const first = await new Promise<health.HealthCheckResponse>((resolve, reject) => {
      const call = c.makeServerStreamRequest(
        health.HealthService.Watch.path,
        (m: health.HealthCheckRequest) => health.HealthCheckRequest.encode(m),
        (b: Buffer) => health.HealthCheckResponse.decode(b),
        { service: '' },
        new grpc.Metadata(),
        { deadline: Date.now() + 10_000 },
      );
      call.on('data', (m: health.HealthCheckResponse) => {
        resolve(m);
        call.cancel();
      });
      call.on('error', (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED ? undefined : reject(err)));
    });
    assert.equal(first.status, health.HealthCheckResponse_ServingStatus.SERVING);
  });
});

test('etcdctl move-leader hands leadership to a follower of a 3-member cluster', async (t) => {
  const skip = requirePeer('etcdctl');
  if (skip) return t.skip(skip);
  const cluster = await CoracleCluster.start({ size: 3 });
  try {
    const endpoints = cluster.members.map((m) => m.endpoint);
    const statuses = await Promise.all(endpoints.map((e) => endpointStatus(e)));
    const leader = statuses[0]!.leader;
    const follower = statuses.find((s) => s!.memberId !== leader)!.memberId;
    const target = BigInt(follower).toString(16);
    const moved = await etcdctl(endpoints, ['move-leader', target], { timeoutMs: 15_000 });
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(moved.stdout.trim(), `Leadership transferred from ${BigInt(leader).toString(16)} to ${target}`);
    const after = await endpointStatus(endpoints[0]!);
    assert.equal(after?.leader, follower);
  } finally {
    await cluster.close();
  }
});
