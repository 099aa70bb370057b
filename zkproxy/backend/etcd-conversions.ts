/**
 * Conversions between the {@link KvBackend} shapes and etcd's protobuf messages
 * (protocol/etcd/generated), and THE table from etcd's error texts to {@link KvErrorCode}s.
 * etcd's error texts are its API (clients match on them; etcd.md), so matching them here is
 * the contract, not a heuristic.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { kv as kvpb, rpc } from '../../protocol/etcd';
import { KvCompare, KvError, KvErrorCode, KvEvent, KvOp, KvOpResult, KvPair, KvRangeOptions, KvRangeResult, KvTxn } from './kv-backend';

const SORT_ORDER = { none: rpc.RangeRequest_SortOrder.NONE, ascend: rpc.RangeRequest_SortOrder.ASCEND, descend: rpc.RangeRequest_SortOrder.DESCEND };
const SORT_TARGET = {
  key: rpc.RangeRequest_SortTarget.KEY, version: rpc.RangeRequest_SortTarget.VERSION, create: rpc.RangeRequest_SortTarget.CREATE,
  mod: rpc.RangeRequest_SortTarget.MOD, value: rpc.RangeRequest_SortTarget.VALUE,
};
const CMP_RESULT = {
  equal: rpc.Compare_CompareResult.EQUAL, greater: rpc.Compare_CompareResult.GREATER,
  less: rpc.Compare_CompareResult.LESS, not_equal: rpc.Compare_CompareResult.NOT_EQUAL,
};

/** Revisions are safe integers on our side (KvBackend's convention). */
export function num(v: bigint): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new KvError('internal', `revision ${v} is not a safe integer`);
  return n;
}

/** A RangeRequest for `key` and options. */
export function rangeRequest(key: Buffer, o: KvRangeOptions = {}): rpc.RangeRequest {
  return {
    key, rangeEnd: o.rangeEnd ?? Buffer.alloc(0), limit: BigInt(o.limit ?? 0), revision: BigInt(o.revision ?? 0),
    sortOrder: SORT_ORDER[o.sortOrder ?? 'none'], sortTarget: SORT_TARGET[o.sortTarget ?? 'key'],
    serializable: o.serializable ?? false, keysOnly: o.keysOnly ?? false, countOnly: o.countOnly ?? false,
    minModRevision: 0n, maxModRevision: 0n, minCreateRevision: 0n, maxCreateRevision: 0n,
  };
}

/** Our pair from etcd's KeyValue. */
export function pairOf(kv: kvpb.KeyValue): KvPair {
  return {
    key: Buffer.from(kv.key), value: Buffer.from(kv.value), createRevision: num(kv.createRevision),
    modRevision: num(kv.modRevision), version: num(kv.version), lease: kv.lease,
  };
}

/** Our range result from a RangeResponse. */
export function rangeResult(r: rpc.RangeResponse): KvRangeResult {
  return { revision: num(r.header?.revision ?? 0n), kvs: r.kvs.map(pairOf), more: r.more, count: num(r.count) };
}

function compareOf(c: KvCompare): rpc.Compare {
  const base = { result: CMP_RESULT[c.result], key: c.key, rangeEnd: c.rangeEnd ?? Buffer.alloc(0) };
  switch (c.target) {
    case 'version': return { ...base, target: rpc.Compare_CompareTarget.VERSION, targetUnion: { $case: 'version', version: BigInt(c.value as number) } };
    case 'create': return { ...base, target: rpc.Compare_CompareTarget.CREATE, targetUnion: { $case: 'createRevision', createRevision: BigInt(c.value as number) } };
    case 'mod': return { ...base, target: rpc.Compare_CompareTarget.MOD, targetUnion: { $case: 'modRevision', modRevision: BigInt(c.value as number) } };
    case 'value': return { ...base, target: rpc.Compare_CompareTarget.VALUE, targetUnion: { $case: 'value', value: c.value as Buffer } };
    case 'lease': return { ...base, target: rpc.Compare_CompareTarget.LEASE, targetUnion: { $case: 'lease', lease: c.value as bigint } };
  }
}

function opOf(op: KvOp): rpc.RequestOp {
  switch (op.type) {
    case 'range': return { request: { $case: 'requestRange', requestRange: rangeRequest(op.key, op.options) } };
    case 'put': return { request: { $case: 'requestPut', requestPut: { key: op.key, value: op.value, lease: op.lease ?? 0n, prevKv: op.prevKv ?? false, ignoreValue: false, ignoreLease: false } } };
    case 'delete': return { request: { $case: 'requestDeleteRange', requestDeleteRange: { key: op.key, rangeEnd: op.rangeEnd ?? Buffer.alloc(0), prevKv: op.prevKv ?? false } } };
    case 'txn': return { request: { $case: 'requestTxn', requestTxn: txnRequest(op.txn) } };
  }
}

/** A TxnRequest from our txn. */
export function txnRequest(t: KvTxn): rpc.TxnRequest {
  return { compare: t.compare.map(compareOf), success: t.success.map(opOf), failure: t.failure.map(opOf) };
}

/** Our op results from a TxnResponse's responses. */
export function opResults(rs: rpc.ResponseOp[]): KvOpResult[] {
  return rs.map((r): KvOpResult => {
    const x = r.response;
    switch (x?.$case) {
      case 'responseRange': return { type: 'range', ...rangeResult(x.responseRange) };
      case 'responsePut': return { type: 'put', prevKv: x.responsePut.prevKv ? pairOf(x.responsePut.prevKv) : undefined };
      case 'responseDeleteRange': return { type: 'delete', deleted: num(x.responseDeleteRange.deleted), prevKvs: x.responseDeleteRange.prevKvs.map(pairOf) };
      case 'responseTxn': return { type: 'txn', revision: num(x.responseTxn.header?.revision ?? 0n), succeeded: x.responseTxn.succeeded, results: opResults(x.responseTxn.responses) };
      default: throw new KvError('internal', 'empty ResponseOp');
    }
  });
}

/** Our watch event from etcd's Event. */
export function eventOf(e: kvpb.Event): KvEvent {
  const kv = pairOf(e.kv!);
  return { type: e.type === kvpb.Event_EventType.DELETE ? 'delete' : 'put', kv, prevKv: e.prevKv ? pairOf(e.prevKv) : undefined };
}

/** etcd error text fragments → our codes (etcd.md: error texts). */
const TEXT_TO_CODE: [string, KvErrorCode][] = [
  ['required revision has been compacted', 'compacted'],
  ['required revision is a future revision', 'future-revision'],
  ['requested lease not found', 'lease-not-found'],
  ['lease already exists', 'lease-exists'],
  ['request is too large', 'too-large'],
  ['too many operations in txn request', 'too-many-ops'],
  ['duplicate key given in txn request', 'duplicate-key'],
  ['database space exceeded', 'no-space'],
];

/** THE translation of a grpc-js call error into a {@link KvError}. */
export function kvErrorOf(e: unknown): KvError {
  if (e instanceof KvError) return e;
  const err = e as { code?: number; details?: string; message?: string };
  const text = err.details ?? err.message ?? String(e);
  for (const [frag, code] of TEXT_TO_CODE) if (text.includes(frag)) return new KvError(code, text);
  switch (err.code) {
    case GrpcStatus.UNAVAILABLE: case GrpcStatus.DEADLINE_EXCEEDED: case GrpcStatus.CANCELLED:
      return new KvError('unavailable', text);
    case GrpcStatus.INVALID_ARGUMENT: case GrpcStatus.FAILED_PRECONDITION: case GrpcStatus.OUT_OF_RANGE:
      return new KvError('invalid-argument', text);
    default:
      return new KvError('internal', text);
  }
}
