/**
 * zkproxy over the in-process core (zkproxy/backend/local-backend.ts adapting a running core
 * member: LMDB, Raft, MVCC, leases): the KvBackend contract, then the ZooKeeper cross-check
 * workload against a real ZooKeeper 3.8 — the same mapping as over etcd (DESIGN §4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLocalBackend } from './zk-local-member';
import { CrossChecker } from '../../zkproxy/dispatch/crosscheck-handler';
import { requirePeer } from '../support/peers';
import { startZookeeper } from '../support/zookeeper-peer';
import { CHECKS } from './zk-kv-backend-conformance';
import { startHarness } from './zk-harness';
import { runEdgeWorkload } from './zk-edge-workload';
import { runWorkload } from './zk-workload';
import { ZkErr, ZkRequest } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

test('KvBackend contract: LocalBackend over the in-process core', { timeout: 60_000 }, async (t) => {
  await withLocalBackend(async (kv) => {
    for (const [i, c] of CHECKS.entries()) await t.test(c.name, () => c.run(kv, `/t${i}/`));
  });
});

test('grantThenTxn: the txn attaches keys to the new lease; a failed txn leaves no lease behind', { timeout: 60_000 }, async () => {
  await withLocalBackend(async (kv) => {
    const key = Buffer.from('/gt/record');
    const out = await kv.grantThenTxn(30, (id) => ({ compare: [], success: [{ type: 'put', key, value: Buffer.from('v'), lease: id }], failure: [] }));
    assert.ok(out.lease.id > 0n);
    assert.equal(out.lease.ttl, 30);
    assert.equal(out.txn.succeeded, true);
    const got = await kv.range(key);
    assert.equal(got.kvs[0]?.lease, out.lease.id);
    assert.equal(got.kvs[0]?.modRevision, out.txn.revision);
    assert.deepEqual((await kv.leaseTimeToLive(out.lease.id, true)).keys.map((k) => k.toString()), ['/gt/record']);
    await kv.leaseRevoke(out.lease.id);
    assert.equal((await kv.range(key)).kvs.length, 0, 'the key went with its lease');

    // The txn names a lease nobody granted: it fails, and the lease granted for it is revoked.
    let granted = 0n;
    await assert.rejects(kv.grantThenTxn(30, (id) => {
      granted = id;
      return { compare: [], success: [{ type: 'put', key, value: Buffer.alloc(0), lease: id + 1n }], failure: [] };
    }), (e: Error & { code?: string }) => e.code === 'lease-not-found');
    assert.equal((await kv.leaseTimeToLive(granted)).ttl, -1, 'no lease left behind');
  });
});

test('the cross-check workload over the in-process core matches ZooKeeper 3.8', { timeout: 180_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  await withLocalBackend(async (backend) => {
    const zk = await startZookeeper({ jvmArgs: ['-Dzookeeper.extendedTypesEnabled=true'], logLevel: 'warn' });
    const checker = new CrossChecker({ oracleHost: zk.host, oraclePort: zk.port });
    const h = await startHarness({ backend, decorate: (inner) => checker.wrap(inner), containerCheckIntervalMs: 600_000 });
    try {
      await runWorkload(h.host, h.port);
      await runEdgeWorkload(h.host, h.port);
      const mismatches = await checker.finish();
      t.diagnostic(`compared ${checker.compared.replies} replies and ${checker.compared.events} notifications`);
      assert.deepEqual(mismatches.map((m) => `${m.op} ${m.field}: oracle=${String(m.oracle)} candidate=${String(m.candidate)}`), []);
    } finally {
      await checker.close();
      await h.stop();
      await zk.stop();
    }
  });
});

test('over the in-process core a multi is not limited to etcd\'s 128 txn ops', { timeout: 60_000 }, async () => {
  await withLocalBackend(async (backend) => {
    const h = await startHarness({ backend });
    const c = await ZkWireClient.connect({ host: h.host, port: h.port });
    try {
      await c.send({ op: 'create', path: '/big', data: null, acl: OPEN, flags: 0 });
      const creates: ZkRequest[] = Array.from({ length: 1000 }, (_, i) => ({ op: 'create', path: `/big/${i}`, data: Buffer.from(`v${i}`), acl: OPEN, flags: 0 }));
      // Fails on its last op: ZooKeeper applies nothing and answers per op.
      const failing = await c.send({ op: 'multi', ops: [...creates, { op: 'check', path: '/big', version: 7 }] });
      assert.equal(failing.header.err, 0, 'a failed multi is answered with per-op results');
      const rs = failing.body?.op === 'multi' ? failing.body.results : [];
      assert.equal(rs.length, 1001);
      assert.ok(rs.slice(0, 1000).every((r) => r.type === 'error' && r.err === ZkErr.OK), 'earlier ops report OK (rolled back)');
      assert.deepEqual(rs[1000], { type: 'error', err: ZkErr.BADVERSION });
      const none = await c.send({ op: 'getChildren', path: '/big', watch: false });
      assert.deepEqual(none.body?.op === 'getChildren' && none.body.children, [], 'nothing applied');
      const ok = await c.send({ op: 'multi', ops: creates });
      assert.equal(ok.header.err, 0);
      assert.equal(ok.body?.op === 'multi' && ok.body.results.length, 1000);
      const stat = await c.send({ op: 'exists', path: '/big', watch: false });
      assert.equal(stat.body?.op === 'stat' && stat.body.stat.numChildren, 1000);
      const last = await c.send({ op: 'getData', path: '/big/999', watch: false });
      assert.equal(last.body?.op === 'getData' && last.body.data?.toString(), 'v999');
    } finally {
      await c.close();
      await h.stop();
    }
  });
});
