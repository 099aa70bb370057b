/**
 * `coracle zk-migrate` from a real Apache ZooKeeper 3.8 into a running `coracle`: every
 * persistent znode arrives with its data (binary and null included), ACL, version, aversion,
 * cversion, ctime and mtime, so that a sequential create on the copy gives the name the source
 * gives; ephemerals stay behind (their parents' cversion as the source reports it once they
 * go); a digest-protected node is read with --from-auth; a second run keeps what is there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { requirePeer } from '../support/peers';
import { startZookeeper } from '../support/zookeeper-peer';
import { CORACLE_BIN, startCoracle } from '../support/coracle-server';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { RemoteBackend } from '../../zkproxy/backend/remote-backend';
import { startEtcd } from '../support/etcd-peer';
import { startHarness } from './zk-harness';
import { znodeView } from '../support/znode-view';
import { Acl } from '../../protocol/jute';

const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const ALICE: Acl[] = [{ perms: 31, id: { scheme: 'digest', id: `alice:${createHash('sha1').update('alice:pw').digest('base64')}` } }];
const PERSISTENT = 0;
const EPHEMERAL = 1;
const SEQUENTIAL = 2;

async function ok(c: ZkWireClient, req: Parameters<ZkWireClient['send']>[0]): Promise<void> {
  const r = await c.send(req);
  assert.equal(r.header.err, 0, `${req.op} ${'path' in req ? req.path : ''}`);
}

/** The fields of a znode a client sees (zxids left out), with its ACL and children; it must exist. */
async function view(c: ZkWireClient, path: string): Promise<Record<string, unknown>> {
  const v = await znodeView(c, path, true);
  assert.ok(v, `${path} exists`);
  return v;
}

function migrate(zkPort: number, clientPort: number, endpoint = `http://127.0.0.1:${clientPort}`): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', '--from', `127.0.0.1:${zkPort}`, '--from-auth', 'digest:alice:pw', '--endpoints', endpoint], { encoding: 'utf8', timeout: 60_000 });
}

test('zk-migrate copies a ZooKeeper tree as clients see it', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ logLevel: 'warn' });
  const coracle = await startCoracle();
  const src = await ZkWireClient.connect({ host: '127.0.0.1', port: zk.port, timeoutMs: 30_000 });
  let dst: ZkWireClient | undefined;
  try {
    await ok(src, { op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('alice:pw') });
    await ok(src, { op: 'setData', path: '/', data: Buffer.from('root data'), version: -1 });
    await ok(src, { op: 'create', path: '/app', data: Buffer.from('cfg'), acl: OPEN, flags: PERSISTENT });
    for (let i = 1; i <= 3; i++) await ok(src, { op: 'setData', path: '/app', data: Buffer.from(`cfg${i}`), version: i - 1 });
    await ok(src, { op: 'create', path: '/app/a', data: null, acl: OPEN, flags: PERSISTENT });
    await ok(src, { op: 'create', path: '/app/b', data: Buffer.from([0, 255, 1, 254]), acl: OPEN, flags: PERSISTENT });
    await ok(src, { op: 'create', path: '/app/b/deep', data: Buffer.alloc(5000, 7), acl: OPEN, flags: PERSISTENT });
    await ok(src, { op: 'create', path: '/secure', data: Buffer.from('secret'), acl: ALICE, flags: PERSISTENT });
    await ok(src, { op: 'setACL', path: '/secure', acl: ALICE, version: 0 });
    await ok(src, { op: 'create', path: '/q', data: null, acl: OPEN, flags: PERSISTENT });
    for (let i = 0; i < 5; i++) await ok(src, { op: 'create', path: '/q/job-', data: null, acl: OPEN, flags: SEQUENTIAL });
    await ok(src, { op: 'delete', path: '/q/job-0000000001', version: -1 });
    await ok(src, { op: 'delete', path: '/q/job-0000000003', version: -1 });
    await ok(src, { op: 'create', path: '/q/lock-', data: null, acl: OPEN, flags: EPHEMERAL | SEQUENTIAL });
    await ok(src, { op: 'create', path: '/q/lock-', data: null, acl: OPEN, flags: EPHEMERAL | SEQUENTIAL });
    await ok(src, { op: 'create', path: '/eph', data: Buffer.from('mine'), acl: OPEN, flags: EPHEMERAL });
    // What zkCli's `setquota -n 10 /app` creates.
    await ok(src, { op: 'create', path: '/zookeeper/quota/app', data: null, acl: OPEN, flags: PERSISTENT });
    await ok(src, { op: 'create', path: '/zookeeper/quota/app/zookeeper_limits', data: Buffer.from('count=10,bytes=-1'), acl: OPEN, flags: PERSISTENT });
    await ok(src, { op: 'create', path: '/zookeeper/quota/app/zookeeper_stats', data: Buffer.from('count=4,bytes=13'), acl: OPEN, flags: PERSISTENT });

    const orphan = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', '--from', `127.0.0.1:${zk.port}`, '--path', '/app/b', '--endpoints', `http://127.0.0.1:${coracle.clientPort}`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(orphan.status, 1, 'a subtree whose parent is not there yet');
    assert.match(orphan.stderr, /\/app is not in the store: copy it \(or a subtree holding it\) before \/app\/b/);

    const dry = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', '--dry-run', '--from', `127.0.0.1:${zk.port}`, '--from-auth', 'digest:alice:pw', '--endpoints', `http://127.0.0.1:${coracle.clientPort}`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /^would copy 13 znodes \(5058 bytes of data\); 0 already there, kept; 3 ephemerals not copied\n$/);

    const first = migrate(zk.port, coracle.clientPort);
    assert.equal(first.status, 0, first.stderr);
    // The root, /app, a, b, deep, /secure, /q and its three persistent children.
    assert.match(first.stdout, /^copied 13 znodes \(5058 bytes of data\); 0 already there, kept; 3 ephemerals not copied\n$/);

    dst = await ZkWireClient.connect({ host: '127.0.0.1', port: coracle.zkPort, timeoutMs: 30_000 });
    await ok(dst, { op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('alice:pw') });
    for (const path of ['/app', '/app/a', '/app/b', '/app/b/deep', '/secure', '/q/job-0000000000', '/q/job-0000000004']) {
      assert.deepEqual(await view(dst, path), await view(src, path), path);
    }
    // The quota carries over; its stats are the server's own count of the subtree, as ZooKeeper keeps them.
    assert.deepEqual(await view(dst, '/zookeeper/quota/app/zookeeper_limits'), await view(src, '/zookeeper/quota/app/zookeeper_limits'));
    const stats = await dst.send({ op: 'getData', path: '/zookeeper/quota/app/zookeeper_stats', watch: false });
    assert.equal((stats.body as { data: Buffer }).data.toString(), 'count=4,bytes=5008', '/app, a, b and deep: 4 + 0 + 4 + 5000 bytes');
    assert.equal((await view(src, '/zookeeper/quota/app/zookeeper_stats')).data, Buffer.from('count=4,bytes=5008').toString('hex'), 'as the source counts them');
    // Ephemerals stay behind; their parents read as the source will once their sessions end.
    assert.equal((await dst.send({ op: 'exists', path: '/eph', watch: false })).header.err, -101);
    const [sq, dq] = [await view(src, '/q'), await view(dst, '/q')];
    assert.deepEqual([dq.cversion, dq.numChildren, dq.children], [Number(sq.cversion) + 2, Number(sq.numChildren) - 2, ['job-0000000000', 'job-0000000002', 'job-0000000004']]);
    const [sr, dr] = [await view(src, '/'), await view(dst, '/')];
    assert.deepEqual([dr.data, dr.version, dr.cversion], [sr.data, sr.version, Number(sr.cversion) + 1], 'the root');

    // Run again: everything is there already and kept.
    const second = migrate(zk.port, coracle.clientPort);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /^copied 0 znodes \(0 bytes of data\); 13 already there, kept; 3 ephemerals not copied\n$/);

    // Versioned writes and sequential names carry on where the source left them.
    await ok(dst, { op: 'setData', path: '/app', data: Buffer.from('cfg4'), version: 3 });
    await ok(dst, { op: 'setACL', path: '/secure', acl: ALICE, version: 1 });
    const next = async (c: ZkWireClient, parent: string): Promise<string> => {
      const r = await c.send({ op: 'create', path: `${parent}/n-`, data: null, acl: OPEN, flags: SEQUENTIAL });
      assert.equal(r.header.err, 0);
      return (r.body as { path: string }).path;
    };
    assert.equal(await next(dst, '/q'), await next(src, '/q'));
    assert.equal(await next(dst, ''), await next(src, ''), 'sequential names under the root');
  } finally {
    await src.close();
    await dst?.close();
    await coracle.stop();
    await zk.stop();
  }
});

test('zk-migrate into the etcd 3.4 cluster a zk-proxy serves', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zookeeper', 'etcd');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ logLevel: 'warn' });
  const etcd = await startEtcd();
  const src = await ZkWireClient.connect({ host: '127.0.0.1', port: zk.port, timeoutMs: 30_000 });
  const backend = new RemoteBackend({ endpoints: etcd.endpoints });
  let h: Awaited<ReturnType<typeof startHarness>> | undefined;
  let dst: ZkWireClient | undefined;
  try {
    await ok(src, { op: 'create', path: '/svc', data: Buffer.from('v0'), acl: OPEN, flags: PERSISTENT });
    await ok(src, { op: 'setData', path: '/svc', data: Buffer.from('v1'), version: 0 });
    for (let i = 0; i < 3; i++) await ok(src, { op: 'create', path: '/svc/member-', data: Buffer.from(`m${i}`), acl: OPEN, flags: SEQUENTIAL });
    const r = migrate(zk.port, 0, etcd.endpoints[0]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^copied 5 znodes/, 'the root, /svc and its three children');
    h = await startHarness({ backend });
    dst = await ZkWireClient.connect({ host: h.host, port: h.port, timeoutMs: 30_000 });
    for (const path of ['/svc', '/svc/member-0000000001']) assert.deepEqual(await view(dst, path), await view(src, path), path);
    const next = async (c: ZkWireClient): Promise<unknown> => (await c.send({ op: 'create', path: '/svc/member-', data: null, acl: OPEN, flags: SEQUENTIAL })).body;
    assert.deepEqual(await next(dst), await next(src));
  } finally {
    await src.close();
    await dst?.close();
    await h?.stop();
    await backend.close();
    await etcd.stop();
    await zk.stop();
  }
});

test('zk-migrate fits its txns to a store with a small --max-txn-ops', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ logLevel: 'warn' });
  const coracle = await startCoracle(['--max-txn-ops', '8']);
  const src = await ZkWireClient.connect({ host: '127.0.0.1', port: zk.port, timeoutMs: 30_000 });
  let dst: ZkWireClient | undefined;
  try {
    await ok(src, { op: 'create', path: '/many', data: null, acl: OPEN, flags: PERSISTENT });
    await Promise.all(Array.from({ length: 40 }, (_, i) => ok(src, { op: 'create', path: `/many/c${i}`, data: Buffer.from([i]), acl: OPEN, flags: PERSISTENT })));
    const r = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', '--from', `127.0.0.1:${zk.port}`, '--endpoints', `http://127.0.0.1:${coracle.clientPort}`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^copied 42 znodes \(40 bytes of data\)/);
    dst = await ZkWireClient.connect({ host: '127.0.0.1', port: coracle.zkPort, timeoutMs: 30_000 });
    assert.deepEqual(await view(dst, '/many'), await view(src, '/many'));
    assert.deepEqual(await view(dst, '/many/c39'), await view(src, '/many/c39'));
  } finally {
    await src.close();
    await dst?.close();
    await coracle.stop();
    await zk.stop();
  }
});

test('zk-migrate says what is wrong', { timeout: 60_000 }, () => {
  const usage = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /give --from=HOST:PORT \(a live ZooKeeper\) or --from-data-dir=DIR/);
  const unreachable = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', '--from', '127.0.0.1:1'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(unreachable.status, 1);
  assert.match(unreachable.stderr, /cannot connect to the source ZooKeeper at 127\.0\.0\.1:1/);
  const badCa = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', '--from', '127.0.0.1:1', '--cacert', '/nonexistent/ca.pem'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(badCa.status, 1);
  assert.match(badCa.stderr, /cannot read --cacert \/nonexistent\/ca\.pem/, 'etcd TLS files are read before anything connects');
});
