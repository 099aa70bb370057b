/**
 * node-zookeeper-client (npm) against Coracle's ZooKeeper port: CRUD, sequential and ephemeral
 * nodes, transactions, one-shot watches, ACLs, and — unlike kazoo — SetWatches after a
 * reconnect: the client re-registers its watches and receives the events it missed
 * (zk-protocol.md §2.3 "SetWatches uses current state").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness } from './zk-harness';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const zookeeper = require('node-zookeeper-client') as any;

type Cb<T> = (err: unknown, v: T) => void;
function call<T>(fn: (cb: Cb<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

function connect(connect: string): Promise<any> {
  const c = zookeeper.createClient(connect, { sessionTimeout: 10_000, spinDelay: 100, retries: 2 });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('connect timeout')), 10_000);
    c.once('connected', () => {
      clearTimeout(t);
      resolve(c);
    });
    c.connect();
  });
}

test('node-zookeeper-client: CRUD, transactions, watches, SetWatches after reconnect', { timeout: 60_000 }, async () => {
  const h = await startHarness();
  const a = await connect(h.connect);
  const b = await connect(h.connect);
  try {
    const p = await call<string>((cb) => a.create('/n', Buffer.from('v0'), cb));
    assert.equal(p, '/n');
    const seq = await call<string>((cb) => a.create('/n/s-', Buffer.alloc(0), zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, cb));
    assert.equal(seq, '/n/s-0000000000');
    const [data, stat] = await new Promise<[Buffer, any]>((resolve, reject) =>
      a.getData('/n', (e: unknown, d: Buffer, s: any) => (e ? reject(e) : resolve([d, s]))));
    assert.equal(data.toString(), 'v0');
    assert.equal(stat.version, 0);
    const results = await call<any[]>((cb) => a.transaction().create('/t', Buffer.from('x')).setData('/t', Buffer.from('y'), 0).check('/n', 0).commit(cb));
    assert.equal(results.length, 3);
    const failed = await new Promise<any>((resolve) => a.transaction().create('/t2').check('/n', 5).commit((e: any, r: any) => resolve({ e, r })));
    assert.equal(failed.e.getCode(), zookeeper.Exception.BAD_VERSION);

    // One-shot data watch.
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => b.getData('/n', (ev: any) => events.push(`${ev.getName()} ${ev.getPath()}`), (e: unknown) => (e ? reject(e) : resolve())));
    await call((cb) => a.setData('/n', Buffer.from('v1'), -1, cb));
    await call((cb) => a.setData('/n', Buffer.from('v2'), -1, cb));
    await call((cb) => b.exists('/n', cb));
    assert.deepEqual(events, ['NODE_DATA_CHANGED /n'], 'one event, then the watch is gone');

    // Arm a child watch and an exists watch, cut every TCP connection, change state while b
    // reconnects: its SetWatches must bring the missed events.
    await new Promise<void>((resolve, reject) => b.getChildren('/n', (ev: any) => events.push(`${ev.getName()} ${ev.getPath()}`), (e: unknown) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve, reject) => b.exists('/later', (ev: any) => events.push(`${ev.getName()} ${ev.getPath()}`), (e: unknown) => (e ? reject(e) : resolve())));
    h.proxy.dropConnections();
    await call((cb) => {
      const retry = (): void => a.create('/later', Buffer.alloc(0), (e: any) => (e && e.getCode && e.getCode() === zookeeper.Exception.CONNECTION_LOSS ? setTimeout(retry, 100) : cb(e, undefined)));
      retry();
    });
    await call((cb) => a.create('/n/c', Buffer.alloc(0), cb));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && events.length < 3) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events.slice(1).sort(), ['NODE_CHILDREN_CHANGED /n', 'NODE_CREATED /later']);
    const kids = await call<string[]>((cb) => b.getChildren('/n', cb));
    assert.deepEqual(kids.sort(), ['c', 's-0000000000']);
  } finally {
    a.close();
    b.close();
    await new Promise((r) => setTimeout(r, 200));
    await h.stop();
  }
});
