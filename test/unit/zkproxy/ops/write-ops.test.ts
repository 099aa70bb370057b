/**
 * Write planning against the replica (zk-protocol.md §2.4 "Checks and their order", §2.6):
 * the error precedence of create/delete/setData/setACL, sequential suffixes from the parent's
 * counter (also planned on the sequential creates in flight), one key op per key in the committed txn, and multi results (later ops see earlier
 * ones; a failure gives ok…, the code, runtime-inconsistency…).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkErr } from '../../../../protocol/jute';
import { ZkError } from '../../../../zkproxy/errors/zk-error';
import { KeySchema } from '../../../../zkproxy/mapping/key-schema';
import { MultiFailure, planMulti } from '../../../../zkproxy/ops/multi-op';
import { TxnPlan } from '../../../../zkproxy/ops/txn-plan';
import { WriteContext, planCreate, planDelete, planSetAcl, planSetData, sequenceSuffix } from '../../../../zkproxy/ops/write-ops';
import { OPEN, treeWith } from '../tree-fixture';

const ctx: WriteContext = { sessionId: 77n, auth: [{ scheme: 'ip', id: '127.0.0.1' }], ttlEnabled: true };
const readOnly = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];

function plan(nodes: Parameters<typeof treeWith>[0]): TxnPlan {
  return new TxnPlan(treeWith(nodes), new KeySchema(), 1000n);
}

function code(f: () => unknown): number {
  try {
    f();
    return 0;
  } catch (e) {
    if (e instanceof ZkError) return e.code;
    throw e;
  }
}

const cr = (path: string, flags = 0, acl = OPEN) => ({ path, data: null, acl, flags });

test('create: error precedence follows PrepRequestProcessor', () => {
  const p = () => plan([{ path: '/ro', acl: readOnly }, { path: '/e', owner: 5n }, { path: '/x' }]);
  assert.equal(code(() => planCreate(p(), cr('/nope/a', 9), undefined, ctx)), ZkErr.BADARGUMENTS, 'bad flags first');
  assert.equal(code(() => planCreate(p(), cr('/nope/a', 0, []), undefined, ctx)), ZkErr.INVALIDACL, 'ACL before parent');
  assert.equal(code(() => planCreate(p(), cr('/nope/a'), undefined, ctx)), ZkErr.NONODE);
  assert.equal(code(() => planCreate(p(), cr('/ro/a'), undefined, ctx)), ZkErr.NOAUTH);
  assert.equal(code(() => planCreate(p(), cr('/x'), undefined, ctx)), ZkErr.NODEEXISTS);
  assert.equal(code(() => planCreate(p(), cr('/e/c'), undefined, ctx)), ZkErr.NOCHILDRENFOREPHEMERALS);
  assert.equal(code(() => planCreate(p(), cr('/t', 5), undefined, ctx)), ZkErr.BADARGUMENTS, 'TTL mode without ttl');
  assert.equal(code(() => planCreate(p(), cr('/t', 0), 10n, ctx)), ZkErr.BADARGUMENTS, 'ttl on a non-TTL mode');
  assert.equal(code(() => planCreate(p(), cr('/t', 5), 10n, { ...ctx, ttlEnabled: false })), ZkErr.UNIMPLEMENTED);
});

test('sequential names use %010d of the parent counter, negative after wrap', () => {
  const pl = plan([{ path: '/q', counter: 7 }]);
  assert.equal(planCreate(pl, cr('/q/n-', 2), undefined, ctx).path, '/q/n-0000000007');
  assert.equal(planCreate(pl, cr('/q/n-', 2), undefined, ctx).path, '/q/n-0000000008');
  assert.equal(planCreate(pl, cr('/q/', 2), undefined, ctx).path, '/q/0000000009', 'a trailing slash is allowed');
  assert.equal(sequenceSuffix(-2147483648), '-2147483648');
});

test('committed txn: one op per key, guards on what was read, ephemerals carry the lease', () => {
  const pl = plan([{ path: '/q' }]);
  planCreate(pl, cr('/q/a', 1), undefined, ctx);
  planCreate(pl, cr('/q/b', 0), undefined, ctx);
  const txn = pl.commitTxn();
  const keys = txn.success.map((o) => ('key' in o ? o.key.toString() : ''));
  assert.equal(new Set(keys).size, keys.length, 'no key twice');
  assert.ok(keys.includes('/zk/c/q'), 'parent counter put once');
  const eph = txn.success.find((o) => o.type === 'put' && o.key.toString() === '/zk/n/0002/q/a');
  assert.equal(eph && eph.type === 'put' ? eph.lease : undefined, 77n);
  assert.ok(txn.compare.some((c) => c.key.toString() === '/zk/n/0002/q/a' && c.value === 0), 'absent node guarded by mod 0');
});

test('delete, setData, setACL precedence', () => {
  const p = () => plan([{ path: '/a' }, { path: '/a/b' }, { path: '/ro', acl: readOnly }, { path: '/ro/c' }]);
  assert.equal(code(() => planDelete(p(), '/zookeeper', -1, ctx)), ZkErr.BADARGUMENTS);
  assert.equal(code(() => planDelete(p(), '/nope/x', -1, ctx)), ZkErr.NONODE);
  assert.equal(code(() => planDelete(p(), '/ro/c', -1, ctx)), ZkErr.NOAUTH, 'DELETE is checked on the parent');
  assert.equal(code(() => planDelete(p(), '/a', 3, ctx)), ZkErr.BADVERSION, 'version before emptiness');
  assert.equal(code(() => planDelete(p(), '/a', -1, ctx)), ZkErr.NOTEMPTY);
  assert.equal(code(() => planSetData(p(), '/ro', null, -1, ctx)), ZkErr.NOAUTH);
  assert.equal(code(() => planSetData(p(), '/a', null, 1, ctx)), ZkErr.BADVERSION);
  assert.equal(code(() => planSetAcl(p(), '/a', [], -1, ctx)), ZkErr.INVALIDACL);
  assert.equal(code(() => planSetAcl(p(), '/ro', OPEN, -1, ctx)), ZkErr.NOAUTH);
  const st = planSetData(p(), '/a', Buffer.from('xy'), 0, ctx);
  assert.equal(st.version, 1);
  assert.equal(st.dataLength, 2);
});

test('multi: later ops see earlier ones; failure gives per-op results', () => {
  const pl = plan([{ path: '/m' }]);
  const ok = planMulti(pl, [
    { op: 'create', ...cr('/m/a') },
    { op: 'setData', path: '/m/a', data: Buffer.from('1'), version: 0 },
    { op: 'check', path: '/m/a', version: 1 },
    { op: 'create', ...cr('/m/s-', 2) },
    { op: 'create', ...cr('/m/s-', 2) },
  ], ctx);
  assert.deepEqual(ok.map((r) => r.type), ['create', 'setData', 'check', 'create', 'create']);
  assert.deepEqual(ok.slice(3).map((r) => ('path' in r ? r.path : '')), ['/m/s-0000000001', '/m/s-0000000002']);
  try {
    planMulti(plan([{ path: '/m' }]), [
      { op: 'create', ...cr('/m/a') }, { op: 'check', path: '/m', version: 9 }, { op: 'delete', path: '/m', version: -1 },
    ], ctx);
    assert.fail('multi should fail');
  } catch (e) {
    assert.ok(e instanceof MultiFailure);
    assert.deepEqual(e.results, [{ type: 'error', err: 0 }, { type: 'error', err: ZkErr.BADVERSION }, { type: 'error', err: ZkErr.RUNTIMEINCONSISTENCY }]);
  }
});

test('a sequential create planned on the creates in flight: the next suffix, guards on their exact result', () => {
  const keys = new KeySchema();
  const tree = treeWith([{ path: '/q', counter: 7 }]);
  const first = new TxnPlan(tree, keys, 1000n);
  assert.equal(planCreate(first, cr('/q/n-', 2), undefined, ctx).path, '/q/n-0000000007');
  const after = first.parentAfter('/q');
  assert.ok(after, 'one child created: the parent as it leaves it');
  assert.equal(after.lastChild, '/q/n-0000000007');
  // The replica has not seen the first create yet; the second plans on what it leaves.
  const second = new TxnPlan(tree, keys, 1000n, undefined, after);
  assert.equal(planCreate(second, cr('/q/n-', 2), undefined, ctx).path, '/q/n-0000000008');
  const compare = second.commitTxn().compare;
  const counter = compare.filter((c) => c.key.equals(keys.counterKey('/q')));
  assert.deepEqual(counter.map((c) => [c.target, c.value]), [['version', after.counterVersion]], 'the child-change key: exact version, no modRevision');
  assert.ok(compare.some((c) => c.key.equals(keys.nodeKey('/q/n-0000000007')) && c.target === 'create' && c.result === 'greater' && c.value === 0), 'the previous create must have committed');
  const next = second.parentAfter('/q')!;
  assert.equal(next.counterVersion, after.counterVersion + 1);
  assert.equal(next.cversion, after.cversion + 1);
  assert.equal(next.offset, after.offset);
  // A plan that changes more than one child of the parent gives no pending parent.
  const multi = new TxnPlan(tree, keys, 1000n);
  planCreate(multi, cr('/q/n-', 2), undefined, ctx);
  planCreate(multi, cr('/q/n-', 2), undefined, ctx);
  assert.equal(multi.parentAfter('/q'), undefined);
});
