/**
 * Conversions between the etcd protobuf messages and the core's domain types. 64-bit wire
 * values are bigint; revisions inside the core are safe integers (DESIGN §6), converted here
 * only. Negative or absurd revisions/limits from a client mean "latest"/"no limit", as in etcd.
 */
import * as pb from '../../../protocol/etcd/generated/rpc';
import * as mvccpb from '../../../protocol/etcd/generated/kv';
import { KeyValue } from '../../mvcc/key-value';
import {
  Compare, DeleteRangeRequest, DeleteRangeResult, PutRequest, PutResult, RangeRequest, RangeResult,
  RequestOp, ResponseOp, TxnRequest, TxnResult,
} from '../../mvcc/kv-types';
import { Header } from '../member';

/** A non-negative wire int64 as a safe integer; ≤ 0 → 0, beyond 2^53 → MAX_SAFE_INTEGER. */
export function toCount(v: bigint): number {
  if (v <= 0n) return 0;
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** The response header on the wire. */
export function pbHeader(h: Header): pb.ResponseHeader {
  return { clusterId: h.clusterId, memberId: h.memberId, revision: BigInt(h.revision), raftTerm: BigInt(h.raftTerm) };
}

/** A domain key-value on the wire. */
export function pbKv(kv: KeyValue): mvccpb.KeyValue {
  return { key: kv.key, createRevision: BigInt(kv.createRevision), modRevision: BigInt(kv.modRevision), version: BigInt(kv.version), value: kv.value, lease: kv.lease };
}

/** RangeRequest from the wire. */
export function rangeFromPb(r: pb.RangeRequest): RangeRequest {
  return {
    key: r.key, rangeEnd: r.rangeEnd, limit: toCount(r.limit), revision: toCount(r.revision),
    sortOrder: r.sortOrder as number, sortTarget: r.sortTarget as number, serializable: r.serializable,
    keysOnly: r.keysOnly, countOnly: r.countOnly,
    minModRevision: toCount(r.minModRevision), maxModRevision: toCount(r.maxModRevision),
    minCreateRevision: toCount(r.minCreateRevision), maxCreateRevision: toCount(r.maxCreateRevision),
  };
}

/** PutRequest from the wire. */
export function putFromPb(p: pb.PutRequest): PutRequest {
  return { key: p.key, value: p.value, lease: p.lease, prevKv: p.prevKv, ignoreValue: p.ignoreValue, ignoreLease: p.ignoreLease };
}

/** DeleteRangeRequest from the wire. */
export function deleteFromPb(d: pb.DeleteRangeRequest): DeleteRangeRequest {
  return { key: d.key, rangeEnd: d.rangeEnd, prevKv: d.prevKv };
}

function compareFromPb(c: pb.Compare): Compare {
  const u = c.targetUnion;
  return {
    result: c.result as number, target: c.target as number, key: c.key, rangeEnd: c.rangeEnd,
    number: u?.$case === 'version' ? toCount(u.version) : u?.$case === 'createRevision' ? toCount(u.createRevision) : u?.$case === 'modRevision' ? toCount(u.modRevision) : 0,
    value: u?.$case === 'value' ? u.value : EMPTY,
    lease: u?.$case === 'lease' ? u.lease : 0n,
  };
}

function opFromPb(op: pb.RequestOp): RequestOp {
  const r = op.request;
  switch (r?.$case) {
    case 'requestRange': return { range: rangeFromPb(r.requestRange) };
    case 'requestPut': return { put: putFromPb(r.requestPut) };
    case 'requestDeleteRange': return { deleteRange: deleteFromPb(r.requestDeleteRange) };
    case 'requestTxn': return { txn: txnFromPb(r.requestTxn) };
    default: return { range: { ...rangeFromPb(pb.RangeRequest.create()) } };
  }
}

/** TxnRequest from the wire. */
export function txnFromPb(t: pb.TxnRequest): TxnRequest {
  return { compare: t.compare.map(compareFromPb), success: t.success.map(opFromPb), failure: t.failure.map(opFromPb) };
}

/** RangeResponse on the wire. */
export function pbRange(h: pb.ResponseHeader, r: RangeResult): pb.RangeResponse {
  return { header: h, kvs: r.kvs.map(pbKv), more: r.more, count: BigInt(r.count) };
}

/** PutResponse on the wire. */
export function pbPut(h: pb.ResponseHeader, r: PutResult): pb.PutResponse {
  return { header: h, prevKv: r.prevKv ? pbKv(r.prevKv) : undefined };
}

/** DeleteRangeResponse on the wire. */
export function pbDelete(h: pb.ResponseHeader, r: DeleteRangeResult): pb.DeleteRangeResponse {
  return { header: h, deleted: BigInt(r.deleted), prevKvs: r.prevKvs.map(pbKv) };
}

/**
 * TxnResponse on the wire. As etcd's, each op's header carries only the store revision as of
 * that op, and a nested txn's header is empty.
 */
export function pbTxn(h: pb.ResponseHeader, r: TxnResult): pb.TxnResponse {
  return { header: h, succeeded: r.succeeded, responses: r.responses.map(pbResponseOp) };
}

function pbResponseOp(op: ResponseOp): pb.ResponseOp {
  const h: pb.ResponseHeader = { clusterId: 0n, memberId: 0n, revision: BigInt(op.revision ?? 0), raftTerm: 0n };
  if ('range' in op) return { response: { $case: 'responseRange', responseRange: pbRange(h, op.range) } };
  if ('put' in op) return { response: { $case: 'responsePut', responsePut: pbPut(h, op.put) } };
  if ('deleteRange' in op) return { response: { $case: 'responseDeleteRange', responseDeleteRange: pbDelete(h, op.deleteRange) } };
  return { response: { $case: 'responseTxn', responseTxn: pbTxn(h, op.txn) } };
}

const EMPTY = Buffer.alloc(0);
