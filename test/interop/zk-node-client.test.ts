/**
 * node-zookeeper-client (npm) against Coracle's ZooKeeper port: CRUD, sequential and ephemeral
 * nodes, transactions, one-shot watches, ACLs, and — unlike kazoo — SetWatches after a
 * reconnect: the client re-registers its watches and receives the events it missed
 * (zk-protocol.md §2.3 "SetWatches uses current state").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './zk-harness';
import { callNodeZk, connectNodeZk, nodeZk } from '../support/node-zk-client';

test('node-zookeeper-client: CRUD, transactions, watches, SetWatches after reconnect', { timeout: 60_000 }, async () => {
  const h = await startHarness();
  const a = await connectNodeZk(h.connect);
  const b = await connectNodeZk(h.connect);
  try {
    const p = await callNodeZk<string>((cb) => a.create('/n', Buffer.from('v0'), cb));
    assert.equal(p, '/n');
    const seq = await callNodeZk<string>((cb) => a.create('/n/s-', Buffer.alloc(0), nodeZk.CreateMode.EPHEMERAL_SEQUENTIAL, cb));
    assert.equal(seq, '/n/s-0000000000');
    const [data, stat] = await new Promise<[Buffer, any]>((resolve, reject) =>
      a.getData('/n', (e: unknown, d: Buffer, s: any) => (e ? reject(e) : resolve([d, s]))));
    assert.equal(data.toString(), 'v0');
    assert.equal(stat.version, 0);
    const results = await callNodeZk<any[]>((cb) => a.transaction().create('/t', Buffer.from('x')).setData('/t', Buffer.from('y'), 0).check('/n', 0).commit(cb));
    assert.equal(results.length, 3);
    const failed = await new Promise<any>((resolve) => a.transaction().create('/t2').check('/n', 5).commit((e: any, r: any) => resolve({ e, r })));
    assert.equal(failed.e.getCode(), nodeZk.Exception.BAD_VERSION);

    // One-shot data watch.
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => b.getData('/n', (ev: any) => events.push(`${ev.getName()} ${ev.getPath()}`), (e: unknown) => (e ? reject(e) : resolve())));
    await callNodeZk((cb) => a.setData('/n', Buffer.from('v1'), -1, cb));
    await callNodeZk((cb) => a.setData('/n', Buffer.from('v2'), -1, cb));
    await callNodeZk((cb) => b.exists('/n', cb));
    assert.deepEqual(events, ['NODE_DATA_CHANGED /n'], 'one event, then the watch is gone');

    // Arm a child watch and an exists watch, cut every TCP connection, change state while b
    // reconnects: its SetWatches must bring the missed events.
    await new Promise<void>((resolve, reject) => b.getChildren('/n', (ev: any) => events.push(`${ev.getName()} ${ev.getPath()}`), (e: unknown) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve, reject) => b.exists('/later', (ev: any) => events.push(`${ev.getName()} ${ev.getPath()}`), (e: unknown) => (e ? reject(e) : resolve())));
    h.proxy.dropConnections();
    await callNodeZk((cb) => {
      const retry = (): void => a.create('/later', Buffer.alloc(0), (e: any) => (e && e.getCode && e.getCode() === nodeZk.Exception.CONNECTION_LOSS ? setTimeout(retry, 100) : cb(e, undefined)));
      retry();
    });
    await callNodeZk((cb) => a.create('/n/c', Buffer.alloc(0), cb));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && events.length < 3) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events.slice(1).sort(), ['NODE_CHILDREN_CHANGED /n', 'NODE_CREATED /later']);
    const kids = await callNodeZk<string[]>((cb) => b.getChildren('/n', cb));
    assert.deepEqual(kids.sort(), ['c', 's-0000000000']);
  } finally {
    a.close();
    b.close();
    await new Promise((r) => setTimeout(r, 200));
    await h.stop();
  }
});
