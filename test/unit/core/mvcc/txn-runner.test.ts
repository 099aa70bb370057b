/**
 * Txn semantics that etcd 3.4 shows and the random differential test (etcd-random-diff) found us
 * missing, on the real store through the applier: a range at a past revision inside a writing txn
 * reads that revision; a range the txn cannot serve fails the whole txn before any write; nested
 * compares are decided before any op runs; each op's response carries the revision as of that op;
 * an ignore_value put whose key an earlier delete of the txn removed fails the txn (etcd 3.4.23
 * exited there); and which of two failing checks a put names, alone and inside a txn.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { b, Harness, rangeReq } from './mvcc-harness';
import { CompareResult, CompareTarget, PutRequest, RequestOp, TxnRequest, TxnResult } from '../../../../core/mvcc/kv-types';

const put = (key: string, value: string, extra: Partial<PutRequest> = {}): RequestOp =>
  ({ put: { key: b(key), value: b(value), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false, ...extra } });
const valueIs = (key: string, value: string) =>
  ({ key: b(key), rangeEnd: b(''), target: CompareTarget.Value, result: CompareResult.Equal, number: 0, value: b(value), lease: 0n });

async function txn(h: Harness, t: TxnRequest): Promise<{ result?: TxnResult; error?: string; revision: number }> {
  const out = await h.apply({ type: 'txn', txn: t });
  return { result: out.result?.type === 'txn' ? out.result.txn : undefined, error: out.error?.code, revision: out.revision };
}

const valueOf = (h: Harness, key: string): string | undefined => h.kv.range(rangeReq(key)).kvs[0]?.value.toString();

test('a range at a past revision inside a writing txn reads that revision', async () => {
  const h = new Harness();
  try {
    await h.put('a', '1');
    const first = h.kv.currentRevision;
    await h.put('a', '2');
    const { result } = await txn(h, { compare: [], success: [put('b', 'x'), { range: rangeReq('a', '', { revision: first }) }], failure: [] });
    const r = result!.responses[1]!;
    assert.ok('range' in r);
    assert.equal(r.range.kvs[0]!.value.toString(), '1', 'the value as of the requested revision, not the newest');
  } finally {
    await h.close();
  }
});

test('a range the txn cannot serve fails it before any write', async () => {
  const h = new Harness();
  try {
    await h.put('a', '1');
    await h.put('a', '2');
    const before = h.kv.currentRevision;
    const future = await txn(h, { compare: [], success: [put('b', 'x'), { range: rangeReq('a', '', { revision: before + 1 }) }], failure: [] });
    assert.equal(future.error, 'future-revision', 'the txn\'s own revision cannot be asked for either');
    await h.apply({ type: 'compaction', revision: before, physical: false });
    const compacted = await txn(h, { compare: [], success: [put('b', 'y'), { range: rangeReq('a', '', { revision: before - 1 }) }], failure: [] });
    assert.equal(compacted.error, 'compacted');
    assert.equal(valueOf(h, 'b'), undefined, 'neither failed txn wrote');
    assert.equal(h.kv.currentRevision, before);
  } finally {
    await h.close();
  }
});

test('nested compares are decided before any op of the txn runs', async () => {
  const h = new Harness();
  try {
    await h.put('a', '1');
    const nested: TxnRequest = { compare: [valueIs('a', '9')], success: [put('c', 'saw the put')], failure: [put('c', 'decided before it')] };
    const { result } = await txn(h, { compare: [], success: [put('a', '9'), { txn: nested }], failure: [] });
    const r = result!.responses[1]!;
    assert.ok('txn' in r);
    assert.equal(r.txn.succeeded, false);
    assert.equal(valueOf(h, 'c'), 'decided before it');
  } finally {
    await h.close();
  }
});

test('each op reports the revision as of that op; a nested txn reports none', async () => {
  const h = new Harness();
  try {
    await h.put('a', '1');
    const r0 = h.kv.currentRevision;
    const { result } = await txn(h, {
      compare: [],
      success: [{ range: rangeReq('a') }, { deleteRange: { key: b('missing'), rangeEnd: b(''), prevKv: false } }, put('b', 'x'), { range: rangeReq('a') }, { txn: { compare: [], success: [], failure: [] } }],
      failure: [],
    });
    assert.deepEqual(result!.responses.map((op) => op.revision), [r0, r0, r0 + 1, r0 + 1, undefined]);
  } finally {
    await h.close();
  }
});

test('an ignore_value put after a delete "to the last key" that removed its key fails the txn', async () => {
  const h = new Harness();
  try {
    await h.put('a', '1');
    await h.put('b', '2');
    const before = h.kv.currentRevision;
    const out = await txn(h, {
      compare: [],
      success: [{ deleteRange: { key: b('a'), rangeEnd: Buffer.from([0]), prevKv: false } }, put('b', '', { ignoreValue: true })],
      failure: [],
    });
    assert.equal(out.error, 'key-not-found');
    assert.equal(h.kv.currentRevision, before, 'nothing was written');
    assert.equal(valueOf(h, 'a'), '1');
    // The same put before the delete is fine: it runs while its key exists.
    const ok = await txn(h, {
      compare: [],
      success: [put('b', '', { ignoreValue: true }), { deleteRange: { key: b('c'), rangeEnd: Buffer.from([0]), prevKv: false } }],
      failure: [],
    });
    assert.equal(ok.error, undefined);
  } finally {
    await h.close();
  }
});

test('a put missing both its lease and its key (ignore_value) names the lease alone and the key inside a txn', async () => {
  const h = new Harness();
  try {
    const req = { key: b('absent'), value: b(''), lease: 99n, prevKv: false, ignoreValue: true, ignoreLease: false };
    const lone = await h.apply({ type: 'put', put: req });
    assert.equal(lone.error?.code, 'lease-not-found');
    const inTxn = await txn(h, { compare: [], success: [{ put: req }], failure: [] });
    assert.equal(inTxn.error, 'key-not-found');
  } finally {
    await h.close();
  }
});
