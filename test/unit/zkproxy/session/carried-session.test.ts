/**
 * Sessions `zk-migrate` carries over from a ZooKeeper's files (zkproxy/migrate/session-carrier.ts)
 * under a real proxy on the memory store: ZooKeeper's password for them (and only for them), the
 * proxy adopting a carried session while it runs and expiring it when its client never comes back
 * (the ephemeral deleted and the parent's cversion moved, which the store's lease expiry would
 * not do), and a second copy finding its sessions there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBackend } from '../../../../zkproxy/backend/memory-backend';
import { ZkWireClient } from '../../../../zkproxy/dispatch/zk-wire-client';
import { silentLogger } from '../../../../zkproxy/logger';
import { startZkProxy } from '../../../../zkproxy';
import { KeySchema } from '../../../../zkproxy/mapping/key-schema';
import { decodeSessionRecord, encodeSessionRecord } from '../../../../zkproxy/mapping/session-record';
import { SessionCarrier } from '../../../../zkproxy/migrate/session-carrier';
import { writeNodes } from '../../../../zkproxy/migrate/node-writer';
import { zooKeeperPassword, zooKeeperPasswordMatches } from '../../../../zkproxy/session/zookeeper-password';
import { Stat } from '../../../../protocol/jute';
import { pollUntil } from '../../../support/poll';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
/** The carried session's timeout: short, so its expiry comes quickly. */
const SESSION_MS = 1500;
const CARRIED = 0x10004ace0920000n;

test("ZooKeeper's password: java.util.Random seeded with id ^ 0xB3415C00, 16 bytes", () => {
  // Each computed with OpenJDK 17 as ZooKeeperServer.generatePasswd does.
  const vectors: [bigint, string][] = [
    [0x100000b2c9a0000n, 'b438d5eb310e4025b2dc32a4622caa01'],
    [0xffffffffffffffffn, '20f62cb5648dc2d771471c8a2486a9ee'],
    [0n, 'f22acd4a97e69d6d20a49bb638eadb38'],
    [1n, '054cc74a37327db215e702e20c73f005'],
    [0x8100012345678901n, 'da1700ba9f6dfabfdbb8dae9d73cb0b6'],
  ];
  for (const [id, hex] of vectors) assert.equal(zooKeeperPassword(id).toString('hex'), hex, `0x${id.toString(16)}`);
  assert.ok(zooKeeperPasswordMatches(1n, Buffer.from('054cc74a37327db215e702e20c73f005', 'hex')));
  assert.ok(!zooKeeperPasswordMatches(2n, Buffer.from('054cc74a37327db215e702e20c73f005', 'hex')));
  assert.ok(!zooKeeperPasswordMatches(1n, Buffer.from('054cc74a37327db215e702e20c73f0', 'hex')), 'a short password');
});

test('a session record says whose password the session has; an unreadable one is a Coracle session of 10 s', () => {
  const carried = encodeSessionRecord({ timeoutMs: 4000, origin: 'zookeeper' });
  assert.equal(carried.toString(), '{"timeoutMs":4000,"origin":"zookeeper"}');
  assert.deepEqual(decodeSessionRecord(carried), { timeoutMs: 4000, origin: 'zookeeper' });
  assert.equal(encodeSessionRecord({ timeoutMs: 4000, origin: 'coracle' }).toString(), '{"timeoutMs":4000}', 'as Coracle always wrote it');
  for (const bad of ['', 'null', '{"timeoutMs":-1}', '{"origin":"elsewhere"}']) {
    assert.deepEqual(decodeSessionRecord(Buffer.from(bad)), { timeoutMs: 10_000, origin: 'coracle' }, bad);
  }
});

/**
 * Runs `fn` under a proxy on a memory store where `c`, a client of the proxy, made /held and
 * CARRIED was carried over holding /held/e.
 */
async function withCarried(fn: (backend: MemoryBackend, port: number, c: ZkWireClient, keys: KeySchema) => Promise<void>): Promise<void> {
  const backend = new MemoryBackend();
  // tickTime 100: timeouts down to 200 ms are accepted.
  const proxy = await startZkProxy({ backend, port: 0, tickTime: 100, logger: silentLogger });
  const keys = new KeySchema();
  let c: ZkWireClient | undefined;
  try {
    c = await connect(proxy.address.port);
    assert.equal((await c.send({ op: 'create', path: '/held', data: null, acl: OPEN, flags: 0 })).header.err, 0);
    assert.deepEqual(await carry(backend, keys, CARRIED), []);
    await fn(backend, proxy.address.port, c, keys);
  } finally {
    c?.drop();
    await proxy.close();
    await backend.close();
  }
}

const connect = (port: number, o: { sessionId?: bigint; passwd?: Buffer } = {}): Promise<ZkWireClient> =>
  ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: SESSION_MS, ...o });

/** What zk-migrate does for one session holding /held/e: lease, ephemeral, record. */
async function carry(backend: MemoryBackend, keys: KeySchema, id: bigint): Promise<string[]> {
  const carrier = await SessionCarrier.start(backend, keys, new Map([[id, SESSION_MS]]), false);
  if (carrier.carries(id)) {
    const stat = { czxid: 1n, mzxid: 1n, ctime: 5n, mtime: 5n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: id, dataLength: 0, numChildren: 0, pzxid: 1n };
    await writeNodes(backend, keys, [{ path: '/held/e', stat, data: null, acl: OPEN, cversion: 0, kind: 'plain', ttl: 0n, lease: id }]);
  }
  const done = await carrier.finish();
  return done.carried === 1 ? [] : done.left;
}

test('a carried session resumes with its ZooKeeper password; a wrong one, or a Coracle session with ZooKeeper\'s, is told expired', async () => {
  await withCarried(async (_backend, port, setup) => {
    const back = await connect(port, { sessionId: CARRIED, passwd: zooKeeperPassword(CARRIED) });
    assert.ok(back.session.timeOut > 0, 'resumed');
    assert.deepEqual([back.session.sessionId, back.session.passwd], [CARRIED, zooKeeperPassword(CARRIED)]);
    const e = await back.send({ op: 'exists', path: '/held/e', watch: false });
    assert.equal((e.body as { stat: Stat }).stat.ephemeralOwner, CARRIED);

    const wrong = await connect(port, { sessionId: CARRIED, passwd: Buffer.alloc(16, 1) });
    assert.equal(wrong.session.timeOut, 0, 'a wrong password');
    // A session this proxy opened answers only to the password it gave.
    const own = setup.session.sessionId;
    const guessed = await connect(port, { sessionId: own, passwd: zooKeeperPassword(own) });
    assert.equal(guessed.session.timeOut, 0, "ZooKeeper's password for a Coracle session");
    for (const c of [back, wrong, guessed]) c.drop();
  });
});

test('a carried session whose client never comes back is adopted and expired by the proxy', async () => {
  await withCarried(async (backend, _port, c) => {
    const before = ((await c.send({ op: 'exists', path: '/held', watch: false })).body as { stat: Stat }).stat;
    assert.equal(before.numChildren, 1);
    // The lease would outlive the session by far (timeout × 4/3 + 3 s): the proxy must end it first.
    const after = await pollUntil('the carried session expired', async () => {
      const s = ((await c.send({ op: 'exists', path: '/held', watch: false })).body as { stat: Stat }).stat;
      return s.numChildren === 0 ? s : undefined;
    }, 3 * SESSION_MS);
    assert.equal(after.cversion, before.cversion + 1, "the parent's cversion moved");
    assert.ok(after.pzxid > before.pzxid);
    assert.equal((await backend.leaseTimeToLive(CARRIED)).ttl, -1, 'the lease is revoked');
  });
});

test('a second copy finds its sessions carried already; a Coracle session of the same id is left alone', async () => {
  await withCarried(async (backend, _port, c, keys) => {
    assert.deepEqual(await carry(backend, keys, CARRIED), [], 'carried again');
    const own = c.session.sessionId;
    const left = await carry(backend, keys, own);
    assert.equal(left.length, 1);
    assert.match(left[0]!, /the store has a session of that id already/);
    const record = (await backend.range(keys.sessionKey(own))).kvs[0]!;
    assert.equal(decodeSessionRecord(record.value).origin, 'coracle', "the proxy's own record is kept");
    const negative = await SessionCarrier.start(backend, keys, new Map([[-5n, SESSION_MS]]), false);
    assert.match((await negative.finish()).left[0]!, /no valid lease id/);
  });
});
