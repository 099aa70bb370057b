/**
 * Writes racing through two proxies of one store (the guarded-transaction design, ops/txn-plan.ts):
 * sequential names stay unique and gap-free, compare-and-set increments (setData with a
 * version, as kazoo's Counter does) lose no update, and a parent's cversion/numChildren stay
 * exact under concurrent creates and deletes of its children.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMode, ZkErr } from '../../protocol/jute';
import { KvBackend } from '../../zkproxy/backend/kv-backend';
import { MemoryBackend } from '../../zkproxy/backend/memory-backend';
import { RemoteBackend } from '../../zkproxy/backend/remote-backend';
import { startEtcd } from '../support/etcd-peer';
import { requirePeer } from '../support/peers';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startHarness } from './zk-harness';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const CLIENTS = 8;
const OPS = 40;

async function race(backends: KvBackend[]): Promise<void> {
  const proxies = [await startHarness({ backend: backends[0]! }), await startHarness({ backend: backends[1]! })];
  const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => {
    const h = proxies[i % 2]!;
    return ZkWireClient.connect({ host: h.host, port: h.port });
  }));
  try {
    const c0 = clients[0]!;
    for (const p of ['/q', '/p', '/counter']) await c0.send({ op: 'create', path: p, data: Buffer.from('0'), acl: OPEN, flags: 0 });
    await Promise.all(clients.map(async (c, i) => {
      for (let k = 0; k < OPS; k++) {
        const seq = await c.send({ op: 'create', path: '/q/n-', data: null, acl: OPEN, flags: CreateMode.PERSISTENT_SEQUENTIAL });
        assert.equal(seq.header.err, 0);
        const mine = `/p/c-${i}-${k}`;
        assert.equal((await c.send({ op: 'create', path: mine, data: null, acl: OPEN, flags: 0 })).header.err, 0);
        if (k % 2 === 0) assert.equal((await c.send({ op: 'delete', path: mine, version: -1 })).header.err, 0);
        for (let attempt = 0; ; attempt++) {
          assert.ok(attempt < 500, 'CAS increment starved');
          const r = await c.send({ op: 'getData', path: '/counter', watch: false });
          if (r.body?.op !== 'getData') throw new Error('getData failed');
          const next = Buffer.from(String(Number(r.body.data!.toString()) + 1));
          const w = await c.send({ op: 'setData', path: '/counter', data: next, version: r.body.stat.version });
          if (w.header.err === 0) break;
          assert.equal(w.header.err, ZkErr.BADVERSION);
        }
      }
    }));
    await c0.send({ op: 'sync', path: '/' });
    const q = await c0.send({ op: 'getChildren2', path: '/q', watch: false });
    if (q.body?.op !== 'getChildren2') throw new Error('getChildren2 failed');
    const names = q.body.children.sort();
    assert.equal(names.length, CLIENTS * OPS);
    assert.deepEqual(names, Array.from({ length: CLIENTS * OPS }, (_, i) => `n-${String(i).padStart(10, '0')}`), 'unique, gap-free sequence');
    assert.equal(q.body.stat.cversion, CLIENTS * OPS);
    const counter = await c0.send({ op: 'getData', path: '/counter', watch: false });
    assert.equal(counter.body?.op === 'getData' && counter.body.data?.toString(), String(CLIENTS * OPS), 'no lost increment');
    const p = await c0.send({ op: 'exists', path: '/p', watch: false });
    const st = p.body?.op === 'stat' ? p.body.stat : undefined;
    assert.equal(st?.numChildren, (CLIENTS * OPS) / 2);
    assert.equal(st?.cversion, CLIENTS * OPS + (CLIENTS * OPS) / 2, 'cversion = creates + deletes');
    const mntr = proxies.map((h) => h.proxy.services.runner.conflicts);
    assert.ok(mntr.every((n) => n >= 0));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    for (const h of proxies) await h.stop();
  }
}

test('concurrent writes through two proxies over one in-memory store stay exact', { timeout: 120_000 }, async () => {
  const backend = new MemoryBackend();
  try {
    await race([backend, backend]);
  } finally {
    await backend.close();
  }
});

test('concurrent writes through two proxies over a real etcd 3.4 stay exact', { timeout: 180_000 }, async (t) => {
  const skip = requirePeer('etcd');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd();
  const backends = [new RemoteBackend({ endpoints: etcd.endpoints }), new RemoteBackend({ endpoints: etcd.endpoints })];
  try {
    await race(backends);
  } finally {
    for (const b of backends) await b.close();
    await etcd.stop();
  }
});
