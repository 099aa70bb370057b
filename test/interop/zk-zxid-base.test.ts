/**
 * The zxid base (zkproxy/mapping/zxid-base.ts) at the wire, over the memory backend: once the key
 * space holds a base, every zxid a client sees (reply headers, every Stat of every reply kind,
 * srvr) is the revision plus the base, zero zxids stay zero, and the zxids clients send
 * (lastZxidSeen, SetWatches' relativeZxid) are read back as revisions: a client that saw only
 * zxids below the base (another ZooKeeper's) is served and its watches fire for what the store
 * holds, and a client ahead of the store is still refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateMode, Stat, WatcherEvent } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { KeySchema } from '../../zkproxy/mapping/key-schema';
import { encodeZxidBase } from '../../zkproxy/mapping/zxid-base';
import { fourLetterWord } from '../support/zookeeper-peer';
import { startHarness } from './zk-harness';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
/** Epoch 5's first zxid: what a copy from a ZooKeeper in epoch 4 sets. */
const BASE = 5n << 32n;

test('with a zxid base, clients see revision + base and are read back in revisions', { timeout: 60_000 }, async () => {
  const h = await startHarness();
  const clients: ZkWireClient[] = [];
  const connect = async (o: Partial<Parameters<typeof ZkWireClient.connect>[0]> = {}): Promise<ZkWireClient> => {
    const c = await ZkWireClient.connect({ host: h.host, port: h.port, timeoutMs: 10_000, ...o });
    clients.push(c);
    return c;
  };
  try {
    const c = await connect();
    const made = await c.send({ op: 'create', path: '/a', data: Buffer.from('x'), acl: OPEN, flags: CreateMode.PERSISTENT });
    assert.equal(made.header.err, 0);
    const rev = made.header.zxid;
    assert.ok(rev > 0n && rev < 1000n, `without a base a zxid is the revision: ${rev}`);

    const keys = new KeySchema();
    await h.backend.txn({ compare: [], success: [{ type: 'put', key: keys.zxidBaseKey(), value: encodeZxidBase(BASE) }], failure: [] });
    const synced = await c.send({ op: 'sync', path: '/' });
    assert.ok(synced.header.zxid > BASE, `the reply header is past the base: 0x${synced.header.zxid.toString(16)}`);

    const got = await c.send({ op: 'getData', path: '/a', watch: false });
    const stat = (got.body as { stat: Stat }).stat;
    assert.equal(stat.czxid, rev + BASE, 'czxid');
    assert.equal(stat.mzxid, rev + BASE, 'mzxid');
    assert.equal(stat.pzxid, rev + BASE, 'pzxid');
    const root = await c.send({ op: 'exists', path: '/zookeeper', watch: false });
    assert.deepEqual([(root.body as { stat: Stat }).stat.czxid, (root.body as { stat: Stat }).stat.mzxid], [0n, 0n], "a system node's zero zxids stay zero");

    const made2 = await c.send({ op: 'create2', path: '/b', data: null, acl: OPEN, flags: CreateMode.PERSISTENT });
    assert.equal((made2.body as { stat: Stat }).stat.czxid, made2.header.zxid, 'create2: the Stat and the header agree');
    const multi = await c.send({ op: 'multi', ops: [{ op: 'setData', path: '/b', data: Buffer.from('y'), version: -1 }] });
    const results = (multi.body as { results: { type: string; stat?: Stat }[] }).results;
    assert.equal(results[0]!.stat!.mzxid, multi.header.zxid, "a multi's setData result is shifted too");
    const acl = await c.send({ op: 'getACL', path: '/a' });
    assert.equal((acl.body as { stat: Stat }).stat.czxid, rev + BASE, 'getACL');
    const kids = await c.send({ op: 'getChildren2', path: '/', watch: false });
    assert.equal((kids.body as { stat: Stat }).stat.pzxid, made2.header.zxid, "getChildren2: the root's pzxid is /b's create");

    const srvr = await fourLetterWord(h.host, h.port, 'srvr');
    assert.match(srvr, new RegExp(`Zxid: 0x${multi.header.zxid.toString(16)}\\n`), srvr);

    // A client of the ZooKeeper the data came from: its lastZxidSeen is below the base.
    const moved = await connect({ lastZxidSeen: BASE - 7n });
    assert.ok(moved.session.timeOut > 0, 'served');
    // Its data watch, re-sent from a zxid below the base: /a changed since, as far as it can know.
    const events: WatcherEvent[] = [];
    const watcher = await connect({ onNotification: (e) => events.push(e) });
    const set = await watcher.send({ op: 'setWatches', relativeZxid: BASE - 7n, dataWatches: ['/a'], existWatches: [], childWatches: [], persistentWatches: [], persistentRecursiveWatches: [] });
    assert.equal(set.header.err, 0);
    // From the current zxid nothing changed: no event.
    const quiet = await watcher.send({ op: 'setWatches', relativeZxid: multi.header.zxid, dataWatches: ['/b'], existWatches: [], childWatches: [], persistentWatches: [], persistentRecursiveWatches: [] });
    assert.equal(quiet.header.err, 0);
    await watcher.send({ op: 'sync', path: '/' });
    assert.deepEqual(events.map((e) => [e.type, e.path]), [[3, '/a']], 'NodeDataChanged for /a only');

    // Seen the current zxid: served; ahead of it: refused, as without a base.
    await connect({ lastZxidSeen: multi.header.zxid });
    await assert.rejects(connect({ lastZxidSeen: multi.header.zxid + 1000n }), /closed during handshake/);

    // A lower base is not taken: zxids never go back.
    await h.backend.txn({ compare: [], success: [{ type: 'put', key: keys.zxidBaseKey(), value: encodeZxidBase(1n << 32n) }], failure: [] });
    const after = await c.send({ op: 'getData', path: '/a', watch: false });
    assert.equal((after.body as { stat: Stat }).stat.czxid, rev + BASE, 'still the higher base');
    assert.ok(after.header.zxid > multi.header.zxid, 'the header zxid kept rising');
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    await h.stop();
  }
});
