/**
 * The backend quota seen from the ZooKeeper port of the `coracle` binary: ZooKeeper writes count
 * against `--quota-backend-bytes` like etcd writes. A create past the quota fails with
 * QUOTAEXCEEDED and raises etcd's NOSPACE alarm (visible to `etcdctl alarm list`); reads keep
 * working; after etcd's runbook (compact, defrag, `alarm disarm`) a ZooKeeper client can delete
 * its nodes, and once that space is compacted away, creates succeed again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkErr } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startCoracle } from '../support/coracle-server';
import { etcdctl } from '../support/etcdctl';
import { requirePeer } from '../support/peers';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const QUOTA = 2 * 1024 * 1024;
/** 64 KiB per node: about 32 of them fill the quota. */
const DATA = Buffer.alloc(64 * 1024, 'z');
/** Bound on creates before the quota must have been hit. */
const MAX_CREATES = 100;

async function compactAll(endpoint: string): Promise<void> {
  const status = await etcdctl(endpoint, ['endpoint', 'status', '-w', 'json']);
  const rev = Number(/"revision":(\d+)/.exec(status.stdout)?.[1]);
  assert.ok(rev > 0, status.stdout);
  const c = await etcdctl(endpoint, ['compaction', '--physical', String(rev)]);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((await etcdctl(endpoint, ['defrag'])).code, 0);
}

test('ZooKeeper creates past the quota get QUOTAEXCEEDED and raise NOSPACE; the runbook recovers', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('etcdctl');
  if (skip) return t.skip(skip);
  const c = await startCoracle(['--quota-backend-bytes', String(QUOTA)]);
  const zk = await ZkWireClient.connect({ host: '127.0.0.1', port: c.zkPort, timeoutMs: 20_000 });
  try {
    assert.equal((await zk.send({ op: 'create', path: '/q', data: null, acl: OPEN, flags: 0 })).header.err, 0);
    let refused = -1;
    let created = 0;
    for (let i = 0; i < MAX_CREATES && refused < 0; i++) {
      const r = await zk.send({ op: 'create', path: `/q/n${i}`, data: DATA, acl: OPEN, flags: 0 });
      if (r.header.err === 0) created++;
      else refused = r.header.err;
    }
    assert.equal(refused, ZkErr.QUOTAEXCEEDED, `no create was refused within ${MAX_CREATES} creates of 64 KiB under a 2 MiB quota`);
    assert.ok(created > 5, `refused too early (after ${created} creates)`);

    const alarms = await etcdctl(c.endpoint, ['alarm', 'list']);
    assert.match(alarms.stdout, /^memberID:\d+ alarm:NOSPACE $/m, 'the ZooKeeper write raised the cluster alarm');
    const tiny = await zk.send({ op: 'create', path: '/tiny', data: Buffer.from('x'), acl: OPEN, flags: 0 });
    assert.equal(tiny.header.err, ZkErr.QUOTAEXCEEDED, 'a write went through while NOSPACE was armed');
    const read = await zk.send({ op: 'getData', path: '/q/n0', watch: false });
    assert.equal(read.header.err, 0, 'reads must keep working');
    assert.equal(read.body?.op === 'getData' ? read.body.data?.length : -1, DATA.length);

    await compactAll(c.endpoint);
    assert.equal((await etcdctl(c.endpoint, ['alarm', 'disarm'])).code, 0);
    for (let i = 0; i < created; i++) {
      const d = await zk.send({ op: 'delete', path: `/q/n${i}`, version: -1 });
      assert.equal(d.header.err, 0, `delete /q/n${i} after the runbook: ${d.header.err}`);
    }
    await compactAll(c.endpoint);
    const after = await zk.send({ op: 'create', path: '/q/after', data: DATA, acl: OPEN, flags: 0 });
    assert.equal(after.header.err, 0, 'creates came back once the deleted space was compacted');
    assert.equal((await etcdctl(c.endpoint, ['alarm', 'list'])).stdout.trim(), '');
  } finally {
    await zk.close().catch(() => undefined);
    await c.stop();
  }
});
