/**
 * The notification header's zxid (zk-protocol.md §1.5): ZooKeeper 3.8 sends -1; 3.9
 * (ZOOKEEPER-4655) sends the zxid of the change that fired the event, and -1 for the events
 * SetWatches raises on reconnect. `--zk-notification-zxid` (`notificationZxid`) picks 3.9's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyHeader, WatcherEvent } from '../../protocol/jute';
import { WireReply, ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { waitUntil } from '../support/poll';
import { Harness, startHarness } from './zk-harness';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const EPHEMERAL = 1;
const WAIT_MS = 3000;
const NONODE = -101;

/** A client that keeps every notification with its header zxid. */
async function watcher(h: Harness): Promise<{ c: ZkWireClient; events: { e: WatcherEvent; zxid: bigint }[] }> {
  const events: { e: WatcherEvent; zxid: bigint }[] = [];
  const c = await ZkWireClient.connect({ host: h.host, port: h.port, onNotification: (e, _f, hdr: ReplyHeader) => events.push({ e, zxid: hdr.zxid }) });
  return { c, events };
}

/** Waits (bounded) until `events` holds `n` entries, and checks there are no more. */
async function awaitCount(events: unknown[], n: number): Promise<void> {
  await waitUntil(`${n} notifications`, () => events.length >= n, WAIT_MS);
  assert.equal(events.length, n, `expected ${n} notifications`);
}

function ok(r: WireReply): bigint {
  assert.equal(r.header.err, 0);
  return r.header.zxid;
}

test('with notificationZxid each event carries the zxid of its change; SetWatches catch-up carries -1', { timeout: 30_000 }, async () => {
  const h = await startHarness({ notificationZxid: true });
  const w = await watcher(h);
  const writer = await ZkWireClient.connect({ host: h.host, port: h.port });
  try {
    ok(await writer.send({ op: 'create', path: '/n', data: Buffer.from('a'), acl: OPEN, flags: 0 }));
    ok(await w.c.send({ op: 'getData', path: '/n', watch: true }));
    ok(await w.c.send({ op: 'getChildren', path: '/n', watch: true }));
    assert.equal((await w.c.send({ op: 'exists', path: '/later', watch: true })).header.err, NONODE);

    const set = ok(await writer.send({ op: 'setData', path: '/n', data: Buffer.from('b'), version: -1 }));
    await awaitCount(w.events, 1);
    assert.deepEqual(w.events[0], { e: { type: 3, state: 3, path: '/n' }, zxid: set });

    const child = ok(await writer.send({ op: 'create', path: '/n/c', data: null, acl: OPEN, flags: 0 }));
    await awaitCount(w.events, 2);
    assert.deepEqual(w.events[1], { e: { type: 4, state: 3, path: '/n' }, zxid: child });

    const created = ok(await writer.send({ op: 'create', path: '/later', data: null, acl: OPEN, flags: 0 }));
    await awaitCount(w.events, 3);
    assert.deepEqual(w.events[2], { e: { type: 1, state: 3, path: '/later' }, zxid: created });

    // An ephemeral removed by its session's close: the close's zxid.
    const owner = await ZkWireClient.connect({ host: h.host, port: h.port });
    ok(await owner.send({ op: 'create', path: '/eph', data: null, acl: OPEN, flags: EPHEMERAL }));
    ok(await w.c.send({ op: 'exists', path: '/eph', watch: true }));
    const closed = ok(await owner.send({ op: 'closeSession' }));
    owner.drop();
    await awaitCount(w.events, 4);
    assert.deepEqual(w.events[3], { e: { type: 2, state: 3, path: '/eph' }, zxid: closed });
    assert.ok(set < child && child < created && created < closed, 'zxids grow with the changes');

    // A reconnecting client's SetWatches fires for what changed after its last zxid: no zxid.
    const r = await watcher(h);
    ok(await r.c.send({ op: 'setWatches', relativeZxid: set, dataWatches: ['/n'], existWatches: [], childWatches: ['/n'], persistentWatches: [], persistentRecursiveWatches: [] }));
    await awaitCount(r.events, 1);
    assert.deepEqual(r.events[0], { e: { type: 4, state: 3, path: '/n' }, zxid: -1n });
    await r.c.close();
  } finally {
    await w.c.close();
    await writer.close();
    await h.stop();
  }
});

test('by default notifications carry zxid -1, as ZooKeeper 3.8 sends', { timeout: 30_000 }, async () => {
  const h = await startHarness();
  const w = await watcher(h);
  try {
    ok(await w.c.send({ op: 'create', path: '/d', data: null, acl: OPEN, flags: 0 }));
    ok(await w.c.send({ op: 'getData', path: '/d', watch: true }));
    ok(await w.c.send({ op: 'delete', path: '/d', version: -1 }));
    await awaitCount(w.events, 1);
    assert.deepEqual(w.events[0], { e: { type: 2, state: 3, path: '/d' }, zxid: -1n });
  } finally {
    await w.c.close();
    await h.stop();
  }
});
