/**
 * Ops outside the cross-checked workload: a standalone check (13) — ZooKeeper 3.8 fails to
 * answer it (a null Stat in FinalRequestProcessor), we answer with the node's Stat or the error
 * code —, createTTL with a non-TTL mode (ZooKeeper 3.8 drops the connection or even stops; we
 * answer BADARGUMENTS), and a multi too large for one store transaction, which must fail cleanly (one error
 * code, connection alive) rather than half-apply.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkErr, ZkRequest } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startHarness } from './zk-harness';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

test('standalone check and an oversized multi', { timeout: 30_000 }, async () => {
  const h = await startHarness();
  const c = await ZkWireClient.connect({ host: h.host, port: h.port });
  try {
    await c.send({ op: 'create', path: '/k', data: null, acl: OPEN, flags: 0 });
    const ok = await c.send({ op: 'check', path: '/k', version: 0 });
    assert.equal(ok.header.err, 0);
    assert.equal(ok.body?.op === 'stat' && ok.body.stat.version, 0);
    assert.equal((await c.send({ op: 'check', path: '/k', version: 3 })).header.err, ZkErr.BADVERSION);
    assert.equal((await c.send({ op: 'check', path: '/nope', version: -1 })).header.err, ZkErr.NONODE);

    for (const [flags, ttl] of [[0, -1n], [1, 1000n], [0, 5n]] as const) {
      const r = await c.send({ op: 'createTTL', path: '/ttl-bad', data: null, acl: OPEN, flags, ttl });
      assert.equal(r.header.err, ZkErr.BADARGUMENTS, `createTTL flags=${flags} ttl=${ttl}`);
    }

    const ops: ZkRequest[] = Array.from({ length: 200 }, (_, i) => ({ op: 'create', path: `/k/${i}`, data: null, acl: OPEN, flags: 0 }));
    const big = await c.send({ op: 'multi', ops });
    assert.equal(big.header.err, ZkErr.BADARGUMENTS, 'too many key operations for one store txn');
    const kids = await c.send({ op: 'getChildren', path: '/k', watch: false });
    assert.deepEqual(kids.body?.op === 'getChildren' && kids.body.children, [], 'nothing applied');
    const small = await c.send({ op: 'multi', ops: ops.slice(0, 100) });
    assert.equal(small.header.err, 0);
    assert.equal(small.body?.op === 'multi' && small.body.results.length, 100, 'a 100-create multi fits one store txn');
  } finally {
    await c.close();
    await h.stop();
  }
});
