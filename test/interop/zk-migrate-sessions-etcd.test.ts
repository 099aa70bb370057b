/**
 * Sessions carried over by `coracle zk-migrate --from-data-dir` into the etcd 3.4 cluster a
 * zk-proxy serves: etcd grants each lease with the session's id, and the proxy, running before
 * the copy, adopts the sessions as their records arrive through its watch. Two sessions of a real
 * ZooKeeper 3.8 are open when it stops, each holding an ephemeral: one client comes back with the
 * id and password ZooKeeper gave it and finds its session and ephemeral; the other never does,
 * and the proxy expires it after its timeout (the ephemeral deleted, the parent's cversion moved,
 * which etcd's own lease expiry would not do).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { requirePeer } from '../support/peers';
import { startZookeeper } from '../support/zookeeper-peer';
import { startEtcd } from '../support/etcd-peer';
import { CORACLE_BIN } from '../support/coracle-server';
import { pollUntil } from '../support/poll';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { RemoteBackend } from '../../zkproxy/backend/remote-backend';
import { Acl, CreateMode, type Stat } from '../../protocol/jute';
import { startHarness } from './zk-harness';

const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

async function create(c: ZkWireClient, path: string, flags: number): Promise<void> {
  assert.equal((await c.send({ op: 'create', path, data: Buffer.from(path), acl: OPEN, flags })).header.err, 0, path);
}

async function stat(c: ZkWireClient, path: string): Promise<Stat | undefined> {
  const r = await c.send({ op: 'exists', path, watch: false });
  return r.body?.op === 'stat' ? r.body.stat : undefined;
}

test('sessions carried into the etcd 3.4 cluster a zk-proxy serves: one resumed, one expired by the proxy', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zookeeper', 'etcd');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ logLevel: 'warn' });
  const etcd = await startEtcd();
  const backend = new RemoteBackend({ endpoints: etcd.endpoints });
  const clients: ZkWireClient[] = [];
  let h: Awaited<ReturnType<typeof startHarness>> | undefined;
  try {
    const stays = await ZkWireClient.connect({ host: '127.0.0.1', port: zk.port, timeoutMs: 30_000 });
    // 4 s, ZooKeeper's least with its default tickTime: its expiry comes quickly.
    const leaves = await ZkWireClient.connect({ host: '127.0.0.1', port: zk.port, timeoutMs: 4000 });
    clients.push(stays, leaves);
    await create(stays, '/svc', CreateMode.PERSISTENT);
    await create(stays, '/svc/stays', CreateMode.EPHEMERAL);
    await create(leaves, '/gone', CreateMode.PERSISTENT);
    await create(leaves, '/gone/leaves', CreateMode.EPHEMERAL);
    await zk.process.stop();
    stays.drop();
    leaves.drop();

    h = await startHarness({ backend });
    const r = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', '--from-data-dir', zk.dataDir, '--endpoints', etcd.endpoints[0]!], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /; 2 sessions carried over with 2 ephemerals\n$/, r.stdout);
    assert.equal((await backend.leaseTimeToLive(stays.session.sessionId)).grantedTtl > 0, true, 'etcd holds a lease with the session id');

    const watcher = await ZkWireClient.connect({ host: h.host, port: h.port, timeoutMs: 30_000 });
    clients.push(watcher);
    const gone = await stat(watcher, '/gone');
    assert.equal((await stat(watcher, '/gone/leaves'))?.ephemeralOwner, leaves.session.sessionId);

    const back = await ZkWireClient.connect({ host: h.host, port: h.port, timeoutMs: 30_000, sessionId: stays.session.sessionId, passwd: stays.session.passwd });
    clients.push(back);
    assert.deepEqual([back.session.sessionId, back.session.passwd], [stays.session.sessionId, stays.session.passwd], 'the same session, with its password');
    assert.ok(back.session.timeOut > 0);
    assert.equal((await stat(back, '/svc/stays'))?.ephemeralOwner, stays.session.sessionId, 'its ephemeral is there');

    const after = await pollUntil('the session that never came back expired', async () => {
      const s = await stat(watcher, '/gone');
      return s && s.numChildren === 0 ? s : undefined;
    }, 30_000);
    assert.equal(after.cversion, gone!.cversion + 1, "the parent's cversion moved with the expiry");
    assert.equal((await stat(back, '/svc/stays'))?.ephemeralOwner, stays.session.sessionId, 'the resumed session keeps its ephemeral');
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    await h?.stop();
    await backend.close();
    await etcd.stop();
    await zk.stop();
  }
});
