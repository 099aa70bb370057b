/**
 * The write chain (ops/write-chain.ts): which writes may link behind the ones in flight, what a
 * link adds to its txn (a compare on the previous link's token, a put of its own), and when the
 * chain reports itself drained, and which node views in flight a later write may plan on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvTxn } from '../../../../zkproxy/backend/kv-backend';
import { NodeView } from '../../../../zkproxy/mapping/znode-view';
import { WriteChain } from '../../../../zkproxy/ops/write-chain';

const KEY = Buffer.from('/zk/q/0000000000000001');
const txn = (compareKey: string, putKey: string): KvTxn => ({
  compare: [{ key: Buffer.from(compareKey), target: 'mod', result: 'equal', value: 0 }],
  success: [{ type: 'put', key: Buffer.from(putKey), value: Buffer.from('v') }],
  failure: [],
});

test('a lone write puts a token only when another may follow', () => {
  const chain = new WriteChain(KEY, 1n);
  const alone = chain.link(txn('/zk/n/a', '/zk/n/a'), false)!;
  assert.equal(alone.link.token, undefined);
  assert.equal(alone.txn.success.length, 1, 'no chain put');
  assert.equal(chain.link(txn('/zk/n/b', '/zk/n/b'), true), undefined, 'nothing links behind a write without a token');
  chain.complete(alone.link);
  const head = chain.link(txn('/zk/n/b', '/zk/n/b'), true)!;
  assert.ok(head.link.token);
  assert.deepEqual(head.txn.success.at(-1), { type: 'put', key: KEY, value: Buffer.from(head.link.token!), lease: 1n });
  assert.equal(head.txn.compare.length, 1, 'a head compares nothing of the chain');
});

test('a follower compares the previous token and puts its own; never in the failure branch', () => {
  const chain = new WriteChain(KEY, 7n);
  const head = chain.link(txn('/zk/n/a', '/zk/n/a'), true)!;
  const next = chain.link({ ...txn('/zk/n/b', '/zk/n/b'), failure: [{ type: 'put', key: Buffer.from('/zk/e'), value: Buffer.alloc(0) }] }, false)!;
  assert.deepEqual(next.txn.compare.at(-1), { key: KEY, target: 'value', result: 'equal', value: Buffer.from(head.link.token!) });
  assert.ok(next.link.token && next.link.token !== head.link.token, 'a follower puts a fresh token, so more may link');
  assert.equal(next.txn.failure.length, 1, 'the failure branch is left as it was');
  assert.equal(next.link.prev, head.link);
});

test('a write reading a key in flight, or behind a failed link, waits for the drain', async () => {
  const chain = new WriteChain(KEY, 1n);
  const head = chain.link(txn('/zk/n/a', '/zk/n/a'), true)!;
  assert.equal(chain.link(txn('/zk/n/a', '/zk/n/x'), true), undefined, 'its compare reads what the head writes');
  const b = chain.link(txn('/zk/n/b', '/zk/n/b'), true)!;
  b.link.failed = true;
  assert.equal(chain.link(txn('/zk/n/c', '/zk/n/c'), true), undefined, 'behind a failed link');
  let drained = false;
  const waiting = chain.drained().then(() => (drained = true));
  chain.complete(head.link);
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, false, 'one link still in flight');
  chain.complete(b.link);
  await waiting;
  assert.ok(chain.idle);
  const again = chain.link(txn('/zk/n/c', '/zk/n/c'), true)!;
  assert.equal(again.link.prev, undefined, 'a drained chain starts afresh');
});

test('tokens differ between chains (a value left by an earlier connection never matches)', () => {
  const a = new WriteChain(KEY, 1n).link(txn('/zk/n/a', '/zk/n/a'), true)!;
  const b = new WriteChain(KEY, 1n).link(txn('/zk/n/a', '/zk/n/a'), true)!;
  assert.notEqual(a.link.token, b.link.token);
});

test('a data rewrite in flight leaves its view: the last writer of a key answers, and its compare may link', () => {
  const chain = new WriteChain(KEY, 1n);
  const view = (data: string): NodeView => ({ data } as unknown as NodeView);
  const first = chain.link(txn('/zk/n/a', '/zk/n/a'), true, { views: new Map([['/zk/n/a', view('1')]]) })!;
  assert.equal(chain.pendingView('/zk/n/a')?.data, '1');
  assert.equal(chain.pendingView('/zk/n/b'), undefined, 'no write in flight changes it');
  assert.equal(chain.link(txn('/zk/n/a', '/zk/n/a'), true), undefined, 'planned on the replica: it waits');
  const second = chain.link(txn('/zk/n/a', '/zk/n/a'), true, { rebased: new Set(['/zk/n/a']), views: new Map([['/zk/n/a', view('2')]]) })!;
  assert.equal(second.link.prev, first.link);
  assert.equal(chain.pendingView('/zk/n/a')?.data, '2', 'the latest write in flight');
  // A write that changes the key without leaving a view (not a plain data rewrite) hides the older one.
  chain.link(txn('/zk/n/a', '/zk/n/a'), true, { rebased: new Set(['/zk/n/a']) });
  assert.equal(chain.pendingView('/zk/n/a'), undefined);
  // Rebased on one key does not excuse a compare on another key in flight.
  chain.link(txn('/zk/n/c', '/zk/n/c'), true);
  assert.equal(chain.link({ ...txn('/zk/n/a', '/zk/n/x'), compare: [...txn('/zk/n/a', '').compare, ...txn('/zk/n/c', '').compare] }, true, { rebased: new Set(['/zk/n/a']) }), undefined);
  const other = new WriteChain(KEY, 1n);
  const failed = other.link(txn('/zk/n/a', '/zk/n/a'), true, { views: new Map([['/zk/n/a', view('1')]]) })!;
  failed.link.failed = true;
  assert.equal(other.pendingView('/zk/n/a'), undefined, 'nothing is planned on a failed write');
});
