/**
 * Writes pipelined on one connection (net/connection.ts, ops/write-chain.ts): a client that sends
 * many creates, setData and deletes before the first reply gets every reply in order, with zxids
 * in request order, and the store holds the effects in that order — also when some of those
 * writes lose a guard race in the middle of the pipeline and are retried (a backend here fails
 * chosen txns as a concurrent writer would make them fail), and with a watcher elsewhere seeing
 * the changes in request order. The chain key goes with the session. A setData or delete of a
 * node that a setData of it has in flight is planned on that one; a write by someone else in
 * between, or a child added meanwhile, comes out as ZooKeeper would decide it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventType, WatcherEvent, type ZkRequest } from '../../protocol/jute';
import { KvBackend, KvTxn, KvWatchHandler, KvWatchOptions } from '../../zkproxy/backend/kv-backend';
import { MemoryBackend } from '../../zkproxy/backend/memory-backend';
import { WireReply, ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { Harness, startHarness } from './zk-harness';
import { fourLetterWord } from '../support/zookeeper-peer';
import { waitUntil } from '../support/poll';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** A memory backend's every call, passed through (subclasses change txn). */
class DelegatingBackend implements KvBackend {
  readonly ordersTxns = true;

  constructor(protected readonly b: MemoryBackend) {}

  range: KvBackend['range'] = (k, o) => this.b.range(k, o);
  leaseGrant: KvBackend['leaseGrant'] = (ttl, id) => this.b.leaseGrant(ttl, id);
  leaseKeepAlive: KvBackend['leaseKeepAlive'] = (id) => this.b.leaseKeepAlive(id);
  leaseRevoke: KvBackend['leaseRevoke'] = (id) => this.b.leaseRevoke(id);
  leaseTimeToLive: KvBackend['leaseTimeToLive'] = (id, k) => this.b.leaseTimeToLive(id, k);
  clusterId: KvBackend['clusterId'] = () => this.b.clusterId();
  watch = (o: KvWatchOptions, h: KvWatchHandler) => this.b.watch(o, h);
  close = async (): Promise<void> => {};
  txn: KvBackend['txn'] = (t) => this.b.txn(t);
}

/** Answers chosen txns (by call number) as lost guard races. */
class RacingBackend extends DelegatingBackend {
  calls = 0;
  lost = 0;
  /** Call numbers to fail; armed by the test. */
  failCalls = new Set<number>();

  override txn: KvBackend['txn'] = async (t) => {
    if (!this.failCalls.has(++this.calls)) return this.b.txn(t);
    this.lost++;
    const now = await this.b.range(Buffer.from('/zk/e'));
    return { succeeded: false, revision: now.revision, results: [] };
  };
}

/**
 * Holds txns while closed, so a test sees how many a proxy has in flight at once and lets them
 * commit in an order of its choosing (in the order released; each is applied when released).
 */
class GatedBackend extends DelegatingBackend {
  readonly held: { txn: KvTxn; go(): void }[] = [];
  closed = false;

  override txn: KvBackend['txn'] = async (t) => {
    if (this.closed) await new Promise<void>((go) => this.held.push({ txn: t, go }));
    return this.b.txn(t);
  };

  /** Lets the held txn at `i` commit (microtasks later, in release order). */
  release(i: number): void {
    const [h] = this.held.splice(i, 1);
    h!.go();
  }

  /** Stops holding: releases every held txn, oldest first. */
  open(): void {
    this.closed = false;
    while (this.held.length > 0) this.release(0);
  }
}

/**
 * Runs `body` with two clients (a, b) on a fresh proxy over a gated memory backend, open at
 * first; stops everything after, releasing whatever is still held.
 */
async function withGate(body: (gate: GatedBackend, a: ZkWireClient, b: ZkWireClient, h: Harness) => Promise<void>): Promise<void> {
  const mem = new MemoryBackend();
  const gate = new GatedBackend(mem);
  const h = await startHarness({ backend: gate });
  const a = await ZkWireClient.connect({ host: h.host, port: h.port });
  const b = await ZkWireClient.connect({ host: h.host, port: h.port });
  try {
    await body(gate, a, b, h);
  } finally {
    gate.open();
    await a.close();
    await b.close();
    await h.stop();
    await mem.close();
  }
}


/** Sends every request before reading any reply (one TCP burst), then awaits them all. */
function burst(c: ZkWireClient, reqs: ZkRequest[]): Promise<WireReply[]> {
  return Promise.all(reqs.map((r) => c.send(r)));
}

/** Runs `body` with one client on a fresh proxy over the memory backend; stops both after. */
async function withClient(body: (c: ZkWireClient) => Promise<void>): Promise<void> {
  const h = await startHarness();
  const c = await ZkWireClient.connect({ host: h.host, port: h.port });
  try {
    await body(c);
  } finally {
    await c.close();
    await h.stop();
  }
}

function assertInOrder(replies: WireReply[]): void {
  const zxids = replies.map((r) => Number(r.header.zxid));
  for (let i = 1; i < zxids.length; i++) assert.ok(zxids[i]! > zxids[i - 1]!, `reply ${i} zxid ${zxids[i]} after ${zxids[i - 1]}`);
  const frames = replies.map((r) => r.frame);
  assert.deepEqual(frames, [...frames].sort((a, b) => a - b), 'replies arrive in request order');
}

test('pipelined writes on one connection commit in request order, through lost races', { timeout: 30_000 }, async () => {
  const mem = new MemoryBackend();
  const racing = new RacingBackend(mem);
  const h = await startHarness({ backend: racing });
  const events: WatcherEvent[] = [];
  const watcher = await ZkWireClient.connect({ host: h.host, port: h.port, onNotification: (e) => events.push(e) });
  const c = await ZkWireClient.connect({ host: h.host, port: h.port });
  try {
    await c.send({ op: 'create', path: '/p', data: null, acl: OPEN, flags: 0 });
    await watcher.send({ op: 'addWatch', path: '/p', mode: 1 });
    const reqs: ZkRequest[] = [];
    for (let i = 0; i < 30; i++) reqs.push({ op: 'create', path: `/p/n${i}`, data: Buffer.from(`${i}`), acl: OPEN, flags: 0 });
    // Writes to one node: each depends on the one before (they run one after another).
    for (let i = 0; i < 5; i++) reqs.push({ op: 'setData', path: '/p/n0', data: Buffer.from(`v${i}`), version: i });
    for (let i = 10; i < 20; i++) reqs.push({ op: 'delete', path: `/p/n${i}`, version: -1 });
    reqs.push({ op: 'create', path: '/p/n1', data: null, acl: OPEN, flags: 0 }); // NODEEXISTS, in its place
    // Lost races early, in the middle and late in the pipeline.
    const first = racing.calls;
    for (const k of [3, 4, 17, 33]) racing.failCalls.add(first + k);
    const replies = await burst(c, reqs);
    assert.ok(racing.lost >= 3, `races were lost (${racing.lost})`);
    assert.deepEqual(replies.map((r) => r.header.err), [...Array(45).fill(0), -110]);
    assertInOrder(replies);
    const n0 = await c.send({ op: 'getData', path: '/p/n0', watch: false });
    assert.equal(n0.body?.op === 'getData' && n0.body.data?.toString(), 'v4');
    assert.equal(n0.body?.op === 'getData' && n0.body.stat.version, 5);
    const kids = await c.send({ op: 'getChildren', path: '/p', watch: false });
    const expected = [...Array(30).keys()].filter((i) => i < 10 || i >= 20).map((i) => `n${i}`).sort();
    assert.deepEqual(kids.body?.op === 'getChildren' && [...kids.body.children].sort(), expected);
    // The watcher saw the creates and deletes in request order.
    await watcher.send({ op: 'sync', path: '/' });
    await watcher.send({ op: 'exists', path: '/', watch: false });
    const seen = events.filter((e) => e.type === EventType.NodeCreated || e.type === EventType.NodeDeleted).map((e) => `${e.type}${e.path}`);
    const want = [...[...Array(30).keys()].map((i) => `${EventType.NodeCreated}/p/n${i}`), ...[...Array(10).keys()].map((i) => `${EventType.NodeDeleted}/p/n${i + 10}`)];
    assert.deepEqual(seen, want);
    // The chain key lives on the session's lease.
    const sessionHex = c.session.sessionId.toString(16).padStart(16, '0');
    await c.close();
    await watcher.send({ op: 'sync', path: '/' });
    assert.equal((await mem.range(Buffer.from(`/zk/q/${sessionHex}`))).kvs.length, 0, 'the chain key went with the session');
  } finally {
    c.drop();
    await watcher.close();
    await h.stop();
    await mem.close();
  }
});

test('a setData pipelined behind a child create returns a Stat that counts the child', { timeout: 30_000 }, () => withClient(async (c) => {
  await c.send({ op: 'create', path: '/s', data: null, acl: OPEN, flags: 0 });
  const replies = await burst(c, [
    { op: 'create', path: '/s/k1', data: null, acl: OPEN, flags: 0 },
    { op: 'create', path: '/s/k2', data: null, acl: OPEN, flags: 0 },
    { op: 'setData', path: '/s', data: Buffer.from('x'), version: -1 },
  ]);
  assertInOrder(replies);
  const stat = replies[2]!.body?.op === 'stat' ? replies[2]!.body.stat : undefined;
  assert.equal(stat?.numChildren, 2);
  assert.equal(stat?.cversion, 2);
  assert.equal(stat?.pzxid, replies[1]!.header.zxid, 'pzxid: the second create');
}));

test('a request that is not a single-node write waits for the pipeline, and sees it', { timeout: 30_000 }, () => withClient(async (c) => {
  const replies = await burst(c, [
    { op: 'create', path: '/r', data: Buffer.from('a'), acl: OPEN, flags: 0 },
    { op: 'create', path: '/r/x', data: null, acl: OPEN, flags: 0 },
    { op: 'getChildren2', path: '/r', watch: false },
    { op: 'multi', ops: [{ op: 'setData', path: '/r', data: Buffer.from('b'), version: 0 }, { op: 'delete', path: '/r/x', version: -1 }] },
    { op: 'getData', path: '/r', watch: false },
  ]);
  assert.deepEqual(replies.map((r) => r.header.err), [0, 0, 0, 0, 0]);
  assertInOrder(replies.slice(0, 2));
  assert.deepEqual(replies[2]!.body?.op === 'getChildren2' && replies[2]!.body.children, ['x'], 'the read saw both creates');
  assert.equal(replies[4]!.body?.op === 'getData' && replies[4]!.body.data?.toString(), 'b', 'the read saw the multi');
}));

test('setData to one node pipelines on the writes in flight; a write in between makes the rest plan again', { timeout: 30_000 }, () => withGate(async (gate, a, b, h) => {
  await a.send({ op: 'create', path: '/d', data: Buffer.from('0'), acl: OPEN, flags: 0 });
  gate.closed = true;
  const sent = ([
    { op: 'setData', path: '/d', data: Buffer.from('a1'), version: 0 },
    { op: 'setData', path: '/d', data: Buffer.from('a2'), version: -1 },
    { op: 'setData', path: '/d', data: Buffer.from('a3'), version: 2 },
    { op: 'setData', path: '/d', data: Buffer.from('a4'), version: -1 },
    { op: 'setData', path: '/d', data: Buffer.from('a5-longer'), version: -1 },
  ] as ZkRequest[]).map((r) => a.send(r));
  // All five are planned on the one before and in flight together, none waiting for a commit.
  await waitUntil('five setData of one node are in flight', () => gate.held.length === 5);
  const sid = a.session.sessionId.toString(16);
  assert.match(await fourLetterWord(h.host, h.port, 'cons'), new RegExp(`\\(queued=5,recved=\\d+,sent=\\d+,sid=0x${sid},`), 'cons counts the requests in flight');
  gate.release(0);
  gate.release(0);
  await sent[1];
  // Another client writes the node after a2 (planned on its result) and before a3 (released
  // out of order).
  const bDone = b.send({ op: 'setData', path: '/d', data: Buffer.from('b'), version: -1 });
  await waitUntil("the other client's setData is in flight", () => gate.held.length === 4);
  gate.release(3);
  const bReply = await bDone;
  gate.open();
  const replies = await Promise.all(sent);
  assert.equal(bReply.header.err, 0);
  assert.equal(bReply.body?.op === 'stat' && bReply.body.stat.version, 3, "b's write came third");
  // a3 was planned on a2's result (version 2) but committed after b's write: planned again, it
  // fails its version check against what is really there.
  assert.deepEqual(replies.map((r) => r.header.err), [0, 0, -103, 0, 0]);
  assertInOrder(replies);
  assert.ok(replies[2]!.header.zxid > bReply.header.zxid, 'a3 was decided after b');
  const stats = replies.map((r) => (r.body?.op === 'stat' ? r.body.stat : undefined));
  assert.deepEqual(stats.map((st) => st?.version), [1, 2, undefined, 4, 5]);
  for (const i of [0, 1, 3, 4]) {
    assert.equal(stats[i]!.mzxid, replies[i]!.header.zxid, `setData ${i}'s mzxid is its own zxid`);
    assert.equal(stats[i]!.czxid, stats[0]!.czxid);
  }
  assert.equal(stats[4]!.dataLength, 'a5-longer'.length);
  const now = await a.send({ op: 'getData', path: '/d', watch: false });
  assert.equal(now.body?.op === 'getData' && now.body.data?.toString(), 'a5-longer');
  assert.deepEqual(now.body?.op === 'getData' && now.body.stat, stats[4]);
}));

test("a setData planned on one in flight reports the node's children as the replica has them then", { timeout: 30_000 }, () => withGate(async (gate, a, b) => {
  await a.send({ op: 'create', path: '/e', data: null, acl: OPEN, flags: 0 });
  gate.closed = true;
  const first = [a.send({ op: 'setData', path: '/e', data: Buffer.from('1'), version: -1 }), a.send({ op: 'setData', path: '/e', data: Buffer.from('2'), version: -1 })];
  await waitUntil('two setData in flight', () => gate.held.length === 2);
  // Another client adds a child, committed and seen by the replica, before the third setData.
  const child = b.send({ op: 'create', path: '/e/c', data: null, acl: OPEN, flags: 0 });
  await waitUntil('the create is in flight', () => gate.held.length === 3);
  gate.release(2);
  const created = await child;
  const third = a.send({ op: 'setData', path: '/e', data: Buffer.from('3'), version: 2 });
  await waitUntil('the third setData is in flight behind the first two', () => gate.held.length === 3);
  gate.open();
  const replies = [...(await Promise.all(first)), await third];
  assert.deepEqual(replies.map((r) => r.header.err), [0, 0, 0]);
  const stat = replies[2]!.body?.op === 'stat' ? replies[2]!.body.stat : undefined;
  assert.equal(stat?.version, 3);
  assert.equal(stat?.numChildren, 1);
  assert.equal(stat?.cversion, 1);
  assert.equal(stat?.pzxid, created.header.zxid, "pzxid: the other client's create");
  const now = await a.send({ op: 'exists', path: '/e', watch: false });
  assert.deepEqual(now.body?.op === 'stat' && now.body.stat, stat);
}));

test('a delete pipelined behind setData of the node is planned on them: in flight at once, its version checked against theirs', { timeout: 30_000 }, () => withGate(async (gate, a, b) => {
  for (const p of ['/x', '/y']) await a.send({ op: 'create', path: p, data: Buffer.from('0'), acl: OPEN, flags: 0 });
  gate.closed = true;
  const sent = ([
    { op: 'setData', path: '/x', data: Buffer.from('1'), version: 0 },
    { op: 'setData', path: '/x', data: Buffer.from('2'), version: -1 },
    { op: 'delete', path: '/x', version: 1 },
    { op: 'delete', path: '/x', version: 2 },
    { op: 'setData', path: '/y', data: Buffer.from('1'), version: -1 },
    { op: 'delete', path: '/y', version: -1 },
  ] as ZkRequest[]).map((r) => a.send(r));
  // Without planning on the setData in flight, each delete would wait for them to commit.
  await waitUntil('all six writes are in flight', () => gate.held.length === 6);
  gate.open();
  const replies = await Promise.all(sent);
  // The first delete's version is the one before the second setData: BADVERSION, as ZooKeeper.
  assert.deepEqual(replies.map((r) => r.header.err), [0, 0, -103, 0, 0, 0]);
  assertInOrder(replies);
  for (const p of ['/x', '/y']) assert.equal((await b.send({ op: 'exists', path: p, watch: false })).header.err, -101, `${p} is gone`);
}));

test('a delete planned on a setData in flight is planned again when another write lands between them', { timeout: 30_000 }, () => withGate(async (gate, a, b) => {
  await a.send({ op: 'create', path: '/z', data: Buffer.from('0'), acl: OPEN, flags: 0 });
  gate.closed = true;
  const set = a.send({ op: 'setData', path: '/z', data: Buffer.from('1'), version: -1 });
  const del = a.send({ op: 'delete', path: '/z', version: 1 });
  await waitUntil('setData and delete in flight', () => gate.held.length === 2);
  gate.release(0);
  assert.equal((await set).header.err, 0);
  // Another client's setData lands before the delete: version 2 now, so version 1 fails.
  const other = b.send({ op: 'setData', path: '/z', data: Buffer.from('b'), version: -1 });
  await waitUntil("the other client's setData is in flight", () => gate.held.length === 2);
  gate.release(1);
  assert.equal((await other).header.err, 0);
  gate.open();
  assert.equal((await del).header.err, -103, 'the delete was decided against the version b left');
  assert.equal((await b.send({ op: 'exists', path: '/z', watch: false })).header.err, 0);
}));
