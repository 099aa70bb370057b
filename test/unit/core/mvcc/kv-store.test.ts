/**
 * MVCC semantics on the real LMDB backend, applied through the applier as the log would apply
 * them (etcd.md §2.1–2.5): revision accounting, range options, txn compares, lease revoke,
 * compaction, restart rebuild, and watch catch-up from history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { b, Harness, rangeReq } from './mvcc-harness';
import { WatchEvent } from '../../../../core/mvcc/watcher';
import { RangeRequest, CompareResult, CompareTarget } from '../../../../core/mvcc/kv-types';


test('revisions: fresh store is 1, +1 per write txn, none for no-op deletes or read-only txns', async () => {
  const h = new Harness();
  try {
    assert.equal(h.kv.currentRevision, 1);
    assert.equal((await h.put('a', '1')).revision, 2);
    assert.equal((await h.put('a', '1')).revision, 3, 'identical value still bumps');
    const del = await h.apply({ type: 'deleteRange', deleteRange: { key: b('zzz'), rangeEnd: b(''), prevKv: false } });
    assert.equal(del.revision, 3, 'empty delete does not bump');
    const ro = await h.apply({ type: 'txn', txn: { compare: [], success: [{ range: rangeReq('a') }], failure: [] } });
    assert.equal(ro.revision, 3);
    const kv = h.kv.range(rangeReq('a')).kvs[0]!;
    assert.deepEqual([kv.createRevision, kv.modRevision, kv.version], [2, 3, 2]);
    await h.apply({ type: 'deleteRange', deleteRange: { key: b('a'), rangeEnd: b(''), prevKv: false } });
    await h.put('a', 'x');
    const again = h.kv.range(rangeReq('a')).kvs[0]!;
    assert.deepEqual([again.createRevision, again.version], [5, 1], 'version resets after delete');
  } finally {
    await h.close();
  }
});

test('range: limit/more/count, prefix and from-key ends, sort, filters, historical reads', async () => {
  const h = new Harness();
  try {
    for (const [k, v] of [['k1', 'c'], ['k2', 'b'], ['k3', 'a'], ['l1', 'z']]) await h.put(k!, v!);
    await h.put('k1', 'cc'); // rev 6
    const cases: Array<{ name: string; req: RangeRequest; keys: string[]; more: boolean; count: number }> = [
      { name: 'prefix', req: rangeReq('k', 'l'), keys: ['k1', 'k2', 'k3'], more: false, count: 3 },
      { name: 'limit', req: rangeReq('k', 'l', { limit: 2 }), keys: ['k1', 'k2'], more: true, count: 3 },
      { name: 'from-key', req: rangeReq('k2', '\0'), keys: ['k2', 'k3', 'l1'], more: false, count: 3 },
      { name: 'all', req: rangeReq('\0', '\0'), keys: ['k1', 'k2', 'k3', 'l1'], more: false, count: 4 },
      { name: 'sort value asc', req: rangeReq('k', 'l', { sortTarget: 4, sortOrder: 1 }), keys: ['k3', 'k2', 'k1'], more: false, count: 3 },
      { name: 'sort key desc limit', req: rangeReq('k', 'l', { sortOrder: 2, limit: 1 }), keys: ['k3'], more: true, count: 3 },
      { name: 'target create, order none = ascend', req: rangeReq('\0', '\0', { sortTarget: 2, limit: 1 }), keys: ['k1'], more: true, count: 4 },
      // etcd: with no order sent, the limit applies before the sort (the first limit + 1 keys).
      { name: 'target value, order none, limit: the first keys sorted', req: rangeReq('\0', '\0', { sortTarget: 4, limit: 1 }), keys: ['k2'], more: true, count: 4 },
      { name: 'target value, order none, limit, inexact count', req: rangeReq('\0', '\0', { sortTarget: 4, limit: 1, exactCount: false }), keys: ['k2'], more: true, count: 2 },
      { name: 'target value, ascending, limit: all keys sorted', req: rangeReq('\0', '\0', { sortTarget: 4, sortOrder: 1, limit: 1 }), keys: ['k3'], more: true, count: 4 },
      { name: 'min mod filter keeps count', req: rangeReq('k', 'l', { minModRevision: 4 }), keys: ['k1', 'k3'], more: false, count: 3 },
      { name: 'historical', req: rangeReq('k1', '', { revision: 2 }), keys: ['k1'], more: false, count: 1 },
      { name: 'before creation', req: rangeReq('l1', '', { revision: 4 }), keys: [], more: false, count: 0 },
      { name: 'count only', req: rangeReq('k', 'l', { countOnly: true }), keys: [], more: false, count: 3 },
      // A paged scan asks for `more` only: the count stops one key past the limit.
      { name: 'limit, inexact count', req: rangeReq('\0', '\0', { limit: 2, exactCount: false }), keys: ['k1', 'k2'], more: true, count: 3 },
      { name: 'limit reaching the end, inexact count', req: rangeReq('k', 'l', { limit: 3, exactCount: false }), keys: ['k1', 'k2', 'k3'], more: false, count: 3 },
      { name: 'descending, inexact count', req: rangeReq('\0', '\0', { sortOrder: 2, limit: 1, exactCount: false }), keys: ['l1'], more: true, count: 2 },
      { name: 'no limit, inexact count is exact', req: rangeReq('k', 'l', { exactCount: false }), keys: ['k1', 'k2', 'k3'], more: false, count: 3 },
    ];
    for (const c of cases) {
      const r = h.kv.range(c.req);
      assert.deepEqual(r.kvs.map((kv) => kv.key.toString()), c.keys, c.name);
      assert.equal(r.more, c.more, c.name + ' more');
      assert.equal(r.count, c.count, c.name + ' count');
    }
    assert.equal(h.kv.range(rangeReq('k1', '', { revision: 2 })).kvs[0]!.value.toString(), 'c');
    assert.equal(h.kv.range(rangeReq('k1', '', { keysOnly: true })).kvs[0]!.value.length, 0);
    assert.throws(() => h.kv.range(rangeReq('k1', '', { revision: 99 })), /future-revision/);
  } finally {
    await h.close();
  }
});

test('txn: compares (missing key, range compare), branches, later ops see earlier ones', async () => {
  const h = new Harness();
  try {
    await h.put('a', '1');
    const cmp = (key: string, target: CompareTarget, result: CompareResult, operand: { number?: number; value?: string }) => ({ key: b(key), rangeEnd: b(''), target, result, number: operand.number ?? 0, value: b(operand.value ?? ''), lease: 0n });
    const t1 = await h.apply({ type: 'txn', txn: {
      compare: [cmp('missing', CompareTarget.Create, CompareResult.Equal, { number: 0 })],
      success: [{ put: { key: b('b'), value: b('2'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } }, { range: rangeReq('b') }],
      failure: [],
    } });
    assert.equal(t1.result?.type, 'txn');
    const r1 = t1.result!.type === 'txn' ? t1.result!.txn : undefined;
    assert.equal(r1!.succeeded, true);
    const inner = r1!.responses[1]!;
    assert.ok('range' in inner && inner.range.kvs[0]!.value.toString() === '2', 'range sees the earlier put');
    const t2 = await h.apply({ type: 'txn', txn: { compare: [cmp('missing', CompareTarget.Value, CompareResult.Equal, { value: '' })], success: [], failure: [] } });
    assert.equal(t2.result!.type === 'txn' && t2.result!.txn.succeeded, false, 'VALUE compare on a missing key is false');
    const bad = await h.apply({ type: 'txn', txn: { compare: [], success: [{ put: { key: b('c'), value: b('x'), lease: 77n, prevKv: false, ignoreValue: false, ignoreLease: false } }], failure: [] } });
    assert.equal(bad.error?.code, 'lease-not-found');
    assert.equal(h.kv.range(rangeReq('c')).count, 0, 'failed txn wrote nothing');
  } finally {
    await h.close();
  }
});

test('lease revoke deletes attached keys in one revision; leases and attachments survive restart', async () => {
  const h = new Harness();
  try {
    const g = await h.apply({ type: 'leaseGrant', id: 42n, ttl: 1 });
    assert.equal(g.result!.type === 'leaseGrant' && g.result!.ttl, 2, 'TTL raised to the minimum');
    await h.put('x', '1', 42n);
    await h.put('y', '1', 42n);
    await h.reopen();
    assert.deepEqual(h.lessor.timeToLive(42n).keys.sort(), ['x', 'y']);
    const before = h.kv.currentRevision;
    const r = await h.apply({ type: 'leaseRevoke', id: 42n });
    assert.equal(r.revision, before + 1);
    assert.equal(r.events.length, 2);
    assert.equal(h.kv.range(rangeReq('x', 'z')).count, 0);
    assert.equal((await h.apply({ type: 'leaseRevoke', id: 42n })).error?.code, 'lease-not-found');
  } finally {
    await h.close();
  }
});

test('compaction: old revisions fail, reading at the compact revision works, survives restart', async () => {
  const h = new Harness();
  try {
    await h.put('a', '1'); // 2
    await h.put('a', '2'); // 3
    await h.put('a', '3'); // 4
    const c = await h.apply({ type: 'compaction', revision: 3, physical: true });
    assert.ok(c.compaction);
    h.kv.compactIndex(3);
    assert.throws(() => h.kv.range(rangeReq('a', '', { revision: 2 })), /compacted/);
    assert.equal(h.kv.range(rangeReq('a', '', { revision: 3 })).kvs[0]!.value.toString(), '2');
    assert.equal((await h.apply({ type: 'compaction', revision: 3, physical: false })).error?.code, 'compacted');
    await h.reopen();
    assert.throws(() => h.kv.range(rangeReq('a', '', { revision: 2 })), /compacted/);
    assert.equal(h.kv.range(rangeReq('a')).kvs[0]!.value.toString(), '3');
  } finally {
    await h.close();
  }
});

test('watch: history catch-up then live events, in order, with prev_kv, no duplicates', async () => {
  const h = new Harness();
  try {
    await h.put('w', '1');
    await h.put('w', '2');
    const got: WatchEvent[] = [];
    h.watches.watch({ key: b('w'), rangeEnd: b(''), startRevision: 1, prevKv: true, noPut: false, noDelete: false }, { send: (e) => (got.push(...e), true), compacted: () => assert.fail('not compacted') });
    await new Promise((r) => setImmediate(r));
    await h.put('w', '3');
    await h.apply({ type: 'deleteRange', deleteRange: { key: b('w'), rangeEnd: b(''), prevKv: false } });
    for (let i = 0; i < 10 && got.length < 4; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(got.map((e) => `${e.type}@${e.kv.modRevision}`), ['put@2', 'put@3', 'put@4', 'delete@5']);
    assert.equal(got[2]!.prevKv?.value.toString(), '2');
    assert.equal(got[3]!.prevKv?.value.toString(), '3');
  } finally {
    await h.close();
  }
});

test('restart rebuild: versions, create revisions and lease attachments through deletes, re-creates and lease changes', async () => {
  const h = new Harness();
  try {
    await h.apply({ type: 'leaseGrant', id: 7n, ttl: 10 });
    await h.put('a', '1', 7n);
    await h.put('a', '2'); // the lease is dropped by a put without one
    await h.put('b', '1');
    await h.put('b', '2', 7n); // and taken by a put with one
    await h.put('c', '1', 7n);
    await h.apply({ type: 'deleteRange', deleteRange: { key: b('c'), rangeEnd: b(''), prevKv: false } });
    await h.put('c', '2'); // re-created: a new generation
    const before = h.kv.range(rangeReq('\0', '\0')).kvs;
    await h.reopen();
    assert.deepEqual(h.kv.range(rangeReq('\0', '\0')).kvs, before);
    assert.deepEqual(before.map((kv) => `${kv.key}:v${kv.version}:c${kv.createRevision}:l${kv.lease}`), ['a:v2:c2:l0', 'b:v2:c4:l7', 'c:v1:c8:l0']);
    assert.deepEqual(h.lessor.timeToLive(7n).keys, ['b']);
    assert.equal(h.kv.range(rangeReq('c', '', { revision: 7 })).kvs.length, 0, 'absent at its deletion');
    assert.equal(h.kv.range(rangeReq('c', '', { revision: 6 })).kvs[0]?.lease, 7n, 'the first generation had the lease');
  } finally {
    await h.close();
  }
});

test('restart rebuild reports its progress every so many records', async () => {
  const h = new Harness();
  try {
    for (let i = 0; i < 7; i++) await h.put(`p${i}`, 'v');
    const seen: number[] = [];
    h.kv.load((records) => seen.push(records), 3);
    assert.deepEqual(seen, [3, 6], 'one report per 3 of the 7 records');
    assert.equal(h.kv.range(rangeReq('p', 'q')).kvs.length, 7, 'the rebuild itself is unchanged');
  } finally {
    await h.close();
  }
});

test('watch: a synced watcher that no event matched is owed nothing from before: after a compaction and a store reload it goes on, not "compacted"', async () => {
  const h = new Harness();
  try {
    const got: string[] = [];
    let room = true;
    const handle = h.watches.watch({ key: b('q'), rangeEnd: b(''), startRevision: 0, prevKv: false, noPut: false, noDelete: false }, {
      send: (e) => (got.push(...e.map((x) => `${x.kv.key}@${x.kv.modRevision}`)), room),
      compacted: (rev) => assert.fail(`compacted at ${rev}: it was owed nothing that old`),
    });
    const settle = async (n: number): Promise<void> => {
      for (let i = 0; i < 10 && got.length < n; i++) await new Promise((r) => setImmediate(r));
    };
    for (let i = 0; i < 5; i++) await h.put('other', String(i)); // revisions 2..6, none for q
    assert.ok((await h.apply({ type: 'compaction', revision: 5, physical: true })).compaction);
    h.kv.compactIndex(5);
    h.watches.compacted();
    // As after a Raft snapshot: every synced watcher catches up from the store's history.
    h.watches.restored();
    await h.put('q', 'a'); // 7
    await settle(1);
    assert.deepEqual(got, ['q@7']);
    room = false;
    await h.put('q', 'b'); // 8: delivered, and the sink says it is full
    await h.put('q', 'c'); // 9: owed, re-read from history once resumed
    room = true;
    handle.resume();
    await settle(3);
    assert.deepEqual(got, ['q@7', 'q@8', 'q@9']);
  } finally {
    await h.close();
  }
});
