/**
 * zkproxy over a 3-member etcd 3.4 cluster (zetcd#115: clients failed once etcd had 3
 * members): the proxy keeps serving while the member it talks to is killed — the gRPC channel
 * fails over, the change feed restarts from its revision, and a watch armed before the failure
 * still fires. Acknowledged writes are all there afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatcherEvent, ZkErr } from '../../protocol/jute';
import { RemoteBackend } from '../../zkproxy/backend/remote-backend';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { startEtcd } from '../support/etcd-peer';
import { requirePeer } from '../support/peers';
import { startHarness } from '../interop/zk-harness';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

test('zkproxy rides out the loss of an etcd member', { timeout: 180_000 }, async (t) => {
  const skip = requirePeer('etcd');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd({ members: 3 });
  const backend = new RemoteBackend({ endpoints: etcd.endpoints, callTimeoutMs: 5000 });
  const h = await startHarness({ backend });
  const events: WatcherEvent[] = [];
  const watcher = await ZkWireClient.connect({ host: h.host, port: h.port, timeoutMs: 30_000, onNotification: (e) => events.push(e) });
  const writer = await ZkWireClient.connect({ host: h.host, port: h.port, timeoutMs: 30_000 });
  try {
    assert.equal((await writer.send({ op: 'create', path: '/f', data: null, acl: OPEN, flags: 0 })).header.err, 0);
    await watcher.send({ op: 'exists', path: '/f/after', watch: true });
    const acked: string[] = [];
    const write = async (name: string): Promise<void> => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const r = await writer.send({ op: 'create', path: `/f/${name}`, data: null, acl: OPEN, flags: 0 });
        if (r.header.err === 0 || r.header.err === ZkErr.NODEEXISTS) {
          acked.push(name);
          return;
        }
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error(`write ${name} never succeeded`);
    };
    for (let i = 0; i < 5; i++) await write(`before-${i}`);
    await etcd.killMember(0);
    for (let i = 0; i < 5; i++) await write(`during-${i}`);
    await write('after');
    const end = Date.now() + 10_000;
    while (events.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events.map((e) => `${e.type} ${e.path}`), ['1 /f/after'], 'the watch armed before the failure fired');
    await etcd.restartMember(0);
    await writer.send({ op: 'sync', path: '/' });
    const kids = await writer.send({ op: 'getChildren', path: '/f', watch: false });
    assert.deepEqual(kids.body?.op === 'getChildren' && kids.body.children.sort(), acked.sort(), 'every acknowledged create is there');
  } finally {
    watcher.drop();
    writer.drop();
    await h.stop();
    await backend.close();
    await etcd.stop();
  }
});
