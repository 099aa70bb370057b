/**
 * Random etcd KV programs for the differential test (etcd-random-diff.test.ts): where the
 * interesting cases are is decided here. Keys come from a small set under one prefix, so puts,
 * deletes and ranges keep meeting the same keys; ranges take every option etcd 3.4 has (limit,
 * past, compacted and future revisions, every sort order and target, keys/count only, the
 * revision filters); txns compare every target with every result, also over key ranges, and nest;
 * leases are granted with explicit ids (so both servers name them alike) and attached, kept or
 * revoked; compactions move the floor (physical ones: etcd removes a tombstone at the compaction
 * revision in the background, so a watch starting there sees its DELETE or not depending on timing,
 * while Coracle drops it at once, as etcd does once done). Some steps are invalid on purpose (an empty key, a
 * duplicate key in one txn, a revision below the compaction), since the error text must match too.
 */
import fc from 'fast-check';
import * as pb from '../../protocol/etcd/generated/rpc';
import { codecs, type Call } from './etcd-random-calls';

/** Key names under a program's prefix; '' is the prefix itself, `~` sorts after the others. */
export const NAMES = ['', 'a', 'a/1', 'a/2', 'ab', 'b', 'b/x', 'c', '~'];

/** A key by name, or the empty key (an error case of its own). */
export type KeyRef = { name: number } | { empty: true };

/** How a request's `range_end` is chosen relative to its key. */
export type EndKind = 'single' | 'prefix' | 'from' | 'to';

/** A revision relative to the server's state when the step runs. */
type RevRef = 'now' | 'zero' | 'back1' | 'back3' | 'first' | 'future';

/** One request of a program. */
export type Step =
  | { kind: 'put'; key: KeyRef; value: number; lease: number; prevKv: boolean; ignoreValue: boolean; ignoreLease: boolean }
  | { kind: 'range'; key: KeyRef; end: EndKind; toName: number; limit: number; rev: RevRef; order: number; target: number; keysOnly: boolean; countOnly: boolean; filter: number }
  | { kind: 'delete'; key: KeyRef; end: EndKind; toName: number; prevKv: boolean }
  | { kind: 'txn'; txn: TxnStep }
  | { kind: 'grant'; lease: number; ttl: number }
  | { kind: 'revoke'; lease: number }
  | { kind: 'compact'; back: number };

/** A txn: compares and the two branches, each op possibly a nested txn (one level). */
export interface TxnStep {
  compare: CompareStep[];
  success: OpStep[];
  failure: OpStep[];
}

/** One compare of a txn. */
export interface CompareStep {
  key: KeyRef;
  end: EndKind;
  toName: number;
  target: number;
  result: number;
  /** The operand: a small number for version/revisions/lease, a value index for VALUE. */
  operand: number;
}

/** One op of a txn branch. */
export type OpStep = Exclude<Step, { kind: 'txn' | 'grant' | 'revoke' | 'compact' }> | { kind: 'txn'; txn: TxnStep };

const keyRef: fc.Arbitrary<KeyRef> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ name: fc.nat({ max: NAMES.length - 1 }) }) },
  { weight: 1, arbitrary: fc.constant({ empty: true as const }) },
);
const endKind = fc.constantFrom<EndKind>('single', 'single', 'single', 'prefix', 'from', 'to');
const toName = fc.nat({ max: NAMES.length - 1 });
const leaseRef = fc.constantFrom(0, 0, 0, 1, 2, 3);
const value = fc.nat({ max: 4 });

const put = fc.record({
  kind: fc.constant('put' as const), key: keyRef, value, lease: leaseRef,
  prevKv: fc.boolean(), ignoreValue: fc.constantFrom(false, false, false, true), ignoreLease: fc.constantFrom(false, false, false, true),
});
const range = fc.record({
  kind: fc.constant('range' as const), key: keyRef, end: endKind, toName,
  limit: fc.constantFrom(0, 0, 1, 2, 5),
  rev: fc.constantFrom<RevRef>('zero', 'zero', 'zero', 'now', 'back1', 'back3', 'first', 'future'),
  order: fc.constantFrom(0, 0, 1, 2), target: fc.constantFrom(0, 0, 1, 2, 3, 4),
  keysOnly: fc.constantFrom(false, false, true), countOnly: fc.constantFrom(false, false, false, true),
  filter: fc.constantFrom(0, 0, 0, 0, 1, 2, 3, 4),
});
const del = fc.record({ kind: fc.constant('delete' as const), key: keyRef, end: endKind, toName, prevKv: fc.boolean() });
const compare: fc.Arbitrary<CompareStep> = fc.record({
  key: keyRef, end: fc.constantFrom<EndKind>('single', 'single', 'single', 'prefix', 'from'), toName,
  target: fc.nat({ max: 4 }), result: fc.nat({ max: 3 }), operand: fc.nat({ max: 4 }),
});

function txnOf(op: fc.Arbitrary<OpStep>): fc.Arbitrary<TxnStep> {
  return fc.record({
    compare: fc.array(compare, { maxLength: 3 }),
    success: fc.array(op, { maxLength: 3 }),
    failure: fc.array(op, { maxLength: 3 }),
  });
}

const flatOp: fc.Arbitrary<OpStep> = fc.oneof({ weight: 3, arbitrary: put }, { weight: 3, arbitrary: range }, { weight: 2, arbitrary: del });
const op: fc.Arbitrary<OpStep> = fc.oneof(
  { weight: 12, arbitrary: flatOp },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('txn' as const), txn: txnOf(flatOp) }) },
);

/** One step of a program. */
export const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: put },
  { weight: 8, arbitrary: range },
  { weight: 3, arbitrary: del },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('txn' as const), txn: txnOf(op) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('grant' as const), lease: fc.constantFrom(1, 2, 3), ttl: fc.constantFrom(60, 120) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), lease: fc.constantFrom(1, 2, 3, 4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.constantFrom(0, 1, 4, 10) }) },
);

/**
 * Whether `s` might take etcd 3.4 down: a txn holding a delete "to the last key" and an
 * ignore_value or ignore_lease put. etcd's overlap check does not see such a delete, so a put it
 * covers passes validation, finds its key gone when it runs, and the applier fails (etcd 3.4.23
 * exited). Coracle refuses it with "key not found" (test/unit/core/mvcc/txn-runner.test.ts).
 * Conservative: any such pair in the txn counts, whatever branches the compares pick.
 */
export function mayCrashEtcd(s: Step): boolean {
  if (s.kind !== 'txn') return false;
  let wideDelete = false;
  let ignoringPut = false;
  const visit = (t: TxnStep): void => {
    for (const op of [...t.success, ...t.failure]) {
      if (op.kind === 'delete' && op.end === 'from') wideDelete = true;
      else if (op.kind === 'put' && (op.ignoreValue || op.ignoreLease)) ignoringPut = true;
      else if (op.kind === 'txn') visit(op.txn);
    }
  };
  visit(s.txn);
  return wideDelete && ignoringPut;
}

/** `count` programs of `length` steps, the same for the same seed. */
export function programs(seed: number, count: number, length: number): Step[][] {
  return fc.sample(fc.array(step, { minLength: length, maxLength: length }), { seed, numRuns: count });
}

/** What a step needs to know to build its request: the program's names and the store's revisions. */
export interface StepContext {
  /** The program's key prefix (`p<N>/`). */
  prefix: string;
  /** The program's lease ids: index 1–4 map to distinct ids, 0 is no lease. */
  leaseIds: readonly bigint[];
  /** The store revision before the step. */
  revision: number;
  /** The store revision when the program started (its first write is after it). */
  first: number;
  /** The newest compaction revision (0 when none). */
  compacted: number;
}

/** The key `k` names in the program of `ctx`. */
export function keyOf(ctx: StepContext, k: KeyRef): Buffer {
  return 'empty' in k ? Buffer.alloc(0) : Buffer.from(ctx.prefix + NAMES[k.name]);
}

/** The range end of `k` for `end` (`to` names the end key of a 'to' range). */
export function endOf(ctx: StepContext, k: KeyRef, end: EndKind, to: number): Buffer {
  if (end === 'single') return Buffer.alloc(0);
  if (end === 'from') return Buffer.from([0]);
  const key = keyOf(ctx, k);
  if (end === 'to') return Buffer.from(ctx.prefix + NAMES[to]);
  // The prefix end: the key with its last byte incremented (etcdctl --prefix).
  if (key.length === 0) return Buffer.from([0]);
  const e = Buffer.from(key);
  e[e.length - 1]! += 1;
  return e;
}

function revisionOf(ctx: StepContext, r: RevRef): bigint {
  switch (r) {
    case 'zero': return 0n;
    case 'now': return BigInt(ctx.revision);
    case 'back1': return BigInt(Math.max(1, ctx.revision - 1));
    case 'back3': return BigInt(Math.max(1, ctx.revision - 3));
    case 'first': return BigInt(Math.max(1, ctx.first));
    case 'future': return BigInt(ctx.revision + 2);
  }
}

function valueOf(n: number): Buffer {
  return n === 0 ? Buffer.alloc(0) : Buffer.from('v'.repeat(n));
}

function putRequest(ctx: StepContext, s: Extract<Step, { kind: 'put' }>): pb.PutRequest {
  return {
    key: keyOf(ctx, s.key), value: s.ignoreValue ? Buffer.alloc(0) : valueOf(s.value), lease: s.ignoreLease ? 0n : ctx.leaseIds[s.lease]!,
    prevKv: s.prevKv, ignoreValue: s.ignoreValue, ignoreLease: s.ignoreLease,
  };
}

function rangeRequest(ctx: StepContext, s: Extract<Step, { kind: 'range' }>): pb.RangeRequest {
  const r = BigInt(Math.max(1, ctx.revision - 2));
  return {
    key: keyOf(ctx, s.key), rangeEnd: endOf(ctx, s.key, s.end, s.toName), limit: BigInt(s.limit), revision: revisionOf(ctx, s.rev),
    sortOrder: s.order, sortTarget: s.target, serializable: false, keysOnly: s.keysOnly, countOnly: s.countOnly,
    minModRevision: s.filter === 1 ? r : 0n, maxModRevision: s.filter === 2 ? r : 0n,
    minCreateRevision: s.filter === 3 ? r : 0n, maxCreateRevision: s.filter === 4 ? r : 0n,
  };
}

function deleteRequest(ctx: StepContext, s: Extract<Step, { kind: 'delete' }>): pb.DeleteRangeRequest {
  return { key: keyOf(ctx, s.key), rangeEnd: endOf(ctx, s.key, s.end, s.toName), prevKv: s.prevKv };
}

function compareOf(ctx: StepContext, c: CompareStep): pb.Compare {
  const key = keyOf(ctx, c.key);
  const rangeEnd = endOf(ctx, c.key, c.end, c.toName);
  const n = BigInt(c.operand === 4 ? ctx.revision : c.operand);
  const targets: pb.Compare['targetUnion'][] = [
    { $case: 'version', version: n },
    { $case: 'createRevision', createRevision: n },
    { $case: 'modRevision', modRevision: n },
    { $case: 'value', value: valueOf(c.operand) },
    { $case: 'lease', lease: ctx.leaseIds[c.operand]! },
  ];
  return { result: c.result, target: c.target, key, targetUnion: targets[c.target], rangeEnd };
}

function requestOp(ctx: StepContext, o: OpStep): pb.RequestOp {
  switch (o.kind) {
    case 'put': return { request: { $case: 'requestPut', requestPut: putRequest(ctx, o) } };
    case 'range': return { request: { $case: 'requestRange', requestRange: rangeRequest(ctx, o) } };
    case 'delete': return { request: { $case: 'requestDeleteRange', requestDeleteRange: deleteRequest(ctx, o) } };
    case 'txn': return { request: { $case: 'requestTxn', requestTxn: txnRequest(ctx, o.txn) } };
  }
}

function txnRequest(ctx: StepContext, t: TxnStep): pb.TxnRequest {
  return {
    compare: t.compare.map((c) => compareOf(ctx, c)),
    success: t.success.map((o) => requestOp(ctx, o)),
    failure: t.failure.map((o) => requestOp(ctx, o)),
  };
}

/** The call `s` makes in the state `ctx`. */
export function callOf(ctx: StepContext, s: Step): Call {
  switch (s.kind) {
    case 'put': return codecs('/etcdserverpb.KV/Put', putRequest(ctx, s), pb.PutRequest, pb.PutResponse);
    case 'range': return codecs('/etcdserverpb.KV/Range', rangeRequest(ctx, s), pb.RangeRequest, pb.RangeResponse);
    case 'delete': return codecs('/etcdserverpb.KV/DeleteRange', deleteRequest(ctx, s), pb.DeleteRangeRequest, pb.DeleteRangeResponse);
    case 'txn': return codecs('/etcdserverpb.KV/Txn', txnRequest(ctx, s.txn), pb.TxnRequest, pb.TxnResponse);
    case 'grant': return codecs('/etcdserverpb.Lease/LeaseGrant', { TTL: BigInt(s.ttl), ID: ctx.leaseIds[s.lease]! }, pb.LeaseGrantRequest, pb.LeaseGrantResponse);
    case 'revoke': return codecs('/etcdserverpb.Lease/LeaseRevoke', { ID: ctx.leaseIds[s.lease]! }, pb.LeaseRevokeRequest, pb.LeaseRevokeResponse);
    case 'compact': return codecs('/etcdserverpb.KV/Compact', { revision: BigInt(Math.max(1, ctx.revision - s.back)), physical: true }, pb.CompactionRequest, pb.CompactionResponse);
  }
}

/**
 * Whether `s` holds a range sorted by something other than the key, whose ties etcd orders
 * arbitrarily (the gRPC comparison evens them out; the gateway's JSON is compared as it is).
 */
export function sortsOffKey(s: Step): boolean {
  const off = (o: OpStep): boolean => (o.kind === 'range' && o.target !== 0) || (o.kind === 'txn' && [...o.txn.success, ...o.txn.failure].some(off));
  return s.kind === 'range' || s.kind === 'txn' ? off(s as OpStep) : false;
}
