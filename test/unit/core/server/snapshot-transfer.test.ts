/**
 * The snapshot transfer pieces over a real HTTP/2 socket on 127.0.0.1 and real LMDB files:
 * header round trip; a database sent with postSnapshot arrives byte-identical in
 * `snap/<index>/`, adopted (this member's id); a corrupted checksum, a truncated body, a wrong
 * target and a second concurrent transfer are refused and leave nothing installable; a
 * transfer whose sender falls silent is given up, so that the next one is taken; the
 * startup recovery installs a received snapshot only when the WAL's marker covers it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as path from 'node:path';
import { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { LmdbBackend } from '../../../../core/storage/lmdb-backend';
import { DB, META, decodeU64, encodeIndex, encodeU64 } from '../../../../core/storage/schema';
import { encodeConfState } from '../../../../core/raft/codec';
import { emptyConfState } from '../../../../core/raft/types';
import { Wal } from '../../../../core/storage/wal';
import { nullLogger } from '../../../../core/util/logger';
import { decodeSnapshotHeader, encodeSnapshotHeader, SnapshotHeader } from '../../../../core/server/snapshot-stream';
import { postSnapshot } from '../../../../core/server/snapshot-sender';
import { SnapshotReceiver, snapshotDirName } from '../../../../core/server/snapshot-receiver';
import { readSnapshotDb } from '../../../../core/server/snapshot-db';
import { recoverSnapshotInstall } from '../../../../core/server/snapshot-recovery';
import { createTempDir, removeTempDir } from '../../../support/temp-dir';

const CLUSTER = 0xc1n;
const LEADER = 0xaan;
const FOLLOWER = 0xbbn;
const CONF = { ...emptyConfState(), voters: [LEADER, FOLLOWER] };

/** An LMDB database in `dir` at applied index `index` with `keys` filler keys. */
async function makeDb(dir: string, index: number, keys = 2000): Promise<void> {
  const db = LmdbBackend.open({ path: dir, noSync: true });
  await db.write((txn) => {
    txn.put(DB.meta, META.consistentIndex, encodeIndex(index));
    txn.put(DB.meta, META.consistentTerm, encodeIndex(3));
    txn.put(DB.meta, META.raftConfState, Buffer.from(encodeConfState(CONF)));
    txn.put(DB.meta, META.clusterId, encodeU64(CLUSTER));
    txn.put(DB.meta, META.memberId, encodeU64(LEADER));
    for (let i = 0; i < keys; i++) txn.put(DB.kv, Buffer.from(`key-${i}`), Buffer.alloc(100, i % 251));
  });
  await db.close();
}

function header(size: number, index = 500, to = FOLLOWER): SnapshotHeader {
  return { from: LEADER, to, cluster: CLUSTER, msgTerm: 4, index, term: 3, confState: CONF, size };
}

/** A peer-like server whose only route is the receiver. */
async function serve(receiver: SnapshotReceiver): Promise<{ url: string; close(): Promise<void> }> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream) => receiver.handle(stream as http2.ServerHttp2Stream));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const s of sessions) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** Sends raw body bytes (for malformed streams); resolves with the status. */
function postRaw(url: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': '/raft/snapshot' });
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', () => {});
    req.on('end', () => {
      session.close();
      resolve(status);
    });
    req.on('error', () => resolve(status));
    req.end(body);
  });
}

function setup(timeouts: { idleTimeoutMs?: number; preemptAfterMs?: number } = {}) {
  const root = createTempDir('snapshot-transfer-');
  const src = path.join(root, 'src');
  const snapDir = path.join(root, 'member', 'snap');
  const delivered: SnapshotHeader[] = [];
  const receiver = new SnapshotReceiver({ dir: snapDir, localId: FOLLOWER, clusterId: CLUSTER, deliver: (h) => delivered.push(h), logger: nullLogger, ...timeouts });
  return { root, src, snapDir, delivered, receiver };
}

/** Runs `fn` against `receiver` behind a server and one client session; then tears all down. */
async function withReceiver(root: string, receiver: SnapshotReceiver, fn: (url: string, session: http2.ClientHttp2Session) => Promise<void>): Promise<void> {
  const server = await serve(receiver);
  const session = http2.connect(server.url);
  try {
    await fn(server.url, session);
  } finally {
    session.destroy();
    await server.close();
    removeTempDir(root);
  }
}

/** A transfer that sends its header (and `bytes` of the body) and then stalls, never ending. */
function stalledTransfer(session: http2.ClientHttp2Session, bytes: number): http2.ClientHttp2Stream {
  const stream = session.request({ ':method': 'POST', ':path': '/raft/snapshot' });
  stream.on('error', () => {});
  stream.write(encodeSnapshotHeader(header(1 << 20)));
  if (bytes > 0) stream.write(Buffer.alloc(bytes));
  return stream;
}

test('header round trip keeps 64-bit ids and the conf state', () => {
  const h = header(12345);
  h.from = 0xffff_ffff_ffff_ffffn;
  const frame = encodeSnapshotHeader(h);
  assert.deepEqual(decodeSnapshotHeader(frame.subarray(4, 4 + frame.readUInt32BE(0))), h);
  assert.throws(() => decodeSnapshotHeader(Buffer.from('{"from":"xyz"}')));
});

test('a database sent with postSnapshot arrives identical, verified and adopted', async () => {
  const { root, src, snapDir, delivered, receiver } = setup();
  const server = await serve(receiver);
  try {
    await makeDb(src, 500);
    const file = path.join(src, 'data.mdb');
    const digest = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    await postSnapshot(server.url, header(fs.statSync(file).size), file);
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0]!.index, 500);
    const dir = path.join(snapDir, snapshotDirName(500));
    const meta = await readSnapshotDb(dir);
    assert.equal(meta.index, 500);
    assert.deepEqual(meta.confState?.voters, [LEADER, FOLLOWER]);
    const db = LmdbBackend.open({ path: dir });
    assert.equal(decodeU64(db.read((txn) => txn.get(DB.meta, META.memberId))!), FOLLOWER, 'member id adopted');
    assert.equal(db.read((txn) => [...txn.iterate(DB.kv)].length), 2000);
    await db.close();
    assert.notEqual(digest, '', 'source hashed');
    assert.equal(receiver.received, 1);
  } finally {
    await server.close();
    removeTempDir(root);
  }
});

test('corrupt, truncated, misaddressed and oversized streams are refused and leave nothing', async () => {
  const { root, src, snapDir, delivered, receiver } = setup();
  const server = await serve(receiver);
  try {
    await makeDb(src, 500, 10);
    const data = fs.readFileSync(path.join(src, 'data.mdb'));
    const good = createHash('sha256').update(data).digest();
    const bad = Buffer.from(good);
    bad[0]! ^= 1;
    const cases: Array<[string, Buffer]> = [
      ['checksum', Buffer.concat([encodeSnapshotHeader(header(data.length)), data, bad])],
      ['truncated', Buffer.concat([encodeSnapshotHeader(header(data.length)), data.subarray(0, 100)])],
      ['too long', Buffer.concat([encodeSnapshotHeader(header(data.length)), data, good, Buffer.alloc(1)])],
      ['other member', Buffer.concat([encodeSnapshotHeader(header(data.length, 500, 0x99n)), data, good])],
      ['size lies', Buffer.concat([encodeSnapshotHeader(header(data.length - 8)), data, good])],
    ];
    for (const [name, body] of cases) {
      assert.equal(await postRaw(server.url, body), 400, name);
      assert.deepEqual(fs.readdirSync(snapDir), [], `${name}: nothing left in snap/`);
    }
    assert.equal(delivered.length, 0);
    assert.equal(await postRaw(server.url, Buffer.concat([encodeSnapshotHeader(header(data.length)), data, good])), 200, 'then a good one passes');
    assert.equal(delivered.length, 1);
  } finally {
    await server.close();
    removeTempDir(root);
  }
});

test('a second transfer while one is running is refused with 409', async () => {
  const { root, receiver } = setup();
  await withReceiver(root, receiver, async (url, session) => {
    const first = stalledTransfer(session, 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await postRaw(url, Buffer.alloc(4)), 409);
    first.close();
  });
});

test('a transfer whose sender falls silent is given up after the idle timeout; the next one is taken', async () => {
  const { root, snapDir, receiver } = setup({ idleTimeoutMs: 300 });
  await withReceiver(root, receiver, async (url, session) => {
    // A sender that stops after the header and never ends its stream (a frozen or vanished
    // leader): the receiver resets the stream, and is free for the next transfer.
    const first = stalledTransfer(session, 1000);
    const reset = new Promise<number>((resolve) => first.on('close', () => resolve(first.rstCode ?? 0)));
    const bound = new Promise<string>((resolve) => setTimeout(() => resolve('still open after 5 s'), 5000).unref());
    assert.equal(typeof (await Promise.race([reset, bound])), 'number', 'the silent stream is reset after the idle timeout');
    assert.equal(await postRaw(url, Buffer.alloc(4)), 400, 'the next transfer is read (and refused for its content), not 409');
    assert.deepEqual(fs.readdirSync(snapDir).filter((n) => n.startsWith('recv-')), [], 'the partial file is gone');
  });
});

test('a new transfer replaces one that has been silent for the preempt time (a new leader after a frozen one)', async () => {
  const { root, src, delivered, receiver } = setup({ idleTimeoutMs: 30_000, preemptAfterMs: 300 });
  await withReceiver(root, receiver, async (url, session) => {
    await makeDb(src, 500);
    const file = path.join(src, 'data.mdb');
    const first = stalledTransfer(session, 1000);
    const closed = new Promise<void>((resolve) => first.on('close', () => resolve()));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await postRaw(url, Buffer.alloc(4)), 409, 'a transfer silent for less than the preempt time is kept');
    await new Promise((r) => setTimeout(r, 400));
    // Long before the 30 s idle timeout, the new leader's transfer is taken and completes.
    await postSnapshot(url, header(fs.statSync(file).size), file);
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0]!.index, 500);
    await closed;
  });
});

/** A member dir whose live database is at `live` and whose WAL has a marker at `marker` (0 = none). */
async function memberDir(root: string, live: number, marker: number): Promise<string> {
  const dir = path.join(root, 'member');
  await makeDb(dir, live, 1);
  const { wal } = await Wal.open(path.join(dir, 'wal'), { pipeline: false, preallocation: 'sparse', segmentBytes: 1 << 20 });
  if (marker > 0) await wal.append({ snapshot: { index: marker, term: 3, confState: CONF } });
  await wal.close();
  return dir;
}

for (const [name, marker, installed] of [
  ['a crash after the WAL marker finishes the install', 500, 500],
  ['a crash before the WAL marker forgets the snapshot', 0, 0],
  ['a marker below the snapshot (an older local snapshot) forgets it', 400, 0],
] as const) {
  test(`recovery: ${name}`, async () => {
    const root = createTempDir('snapshot-recovery-');
    try {
      const dir = await memberDir(root, 300, marker);
      await makeDb(path.join(dir, 'snap', snapshotDirName(500)), 500, 5);
      fs.mkdirSync(path.join(dir, 'snap', 'recv-partial'));
      assert.equal(await recoverSnapshotInstall(dir, nullLogger), installed);
      assert.equal((await readSnapshotDb(dir)).index, installed || 300);
      assert.equal(fs.existsSync(path.join(dir, 'snap')), false, 'snap/ cleaned');
    } finally {
      removeTempDir(root);
    }
  });
}

test('recovery: a finished install (live database already there) only cleans up', async () => {
  const root = createTempDir('snapshot-recovery-');
  try {
    const dir = await memberDir(root, 520, 500);
    await makeDb(path.join(dir, 'snap', snapshotDirName(500)), 500, 5);
    assert.equal(await recoverSnapshotInstall(dir, nullLogger), 0);
    assert.equal((await readSnapshotDb(dir)).index, 520);
  } finally {
    removeTempDir(root);
  }
});
