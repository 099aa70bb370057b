/**
 * The durable encoding of an {@link ApplyRequest} (a log entry's data). Compact and versioned:
 * byte 0 is the format version, byte 1 the body type; then the header and the body's fields.
 * Every member decodes the same bytes into the same request, so apply is deterministic.
 */
import { ByteReader, ByteWriter, DecodeError } from '../util/byte-codec';
import { Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../mvcc/kv-types';
import { ApplyBody, ApplyRequest } from './apply-request';

const VERSION = 1;
const TYPES: ApplyBody['type'][] = ['put', 'deleteRange', 'txn', 'compaction', 'leaseGrant', 'leaseRevoke', 'leaseCheckpoint', 'alarm', 'memberAttr'];

/** Encodes a request for the log. */
export function encodeApplyRequest(req: ApplyRequest): Buffer {
  const w = new ByteWriter(64 + estimate(req.body));
  w.u8(VERSION).u8(TYPES.indexOf(req.body.type));
  w.i64(req.header.id).str(req.header.username).uvar(req.header.authRevision);
  const b = req.body;
  switch (b.type) {
    case 'put': writePut(w, b.put); break;
    case 'deleteRange': writeDelete(w, b.deleteRange); break;
    case 'txn': writeTxn(w, b.txn); break;
    case 'compaction': w.uvar(b.revision).bool(b.physical); break;
    case 'leaseGrant': w.i64(b.id).uvar(b.ttl); break;
    case 'leaseRevoke': w.i64(b.id); break;
    case 'leaseCheckpoint':
      w.uvar(b.checkpoints.length);
      for (const c of b.checkpoints) w.i64(c.id).uvar(c.remainingTtl);
      break;
    case 'alarm': w.u8(b.action).i64(b.memberId).u8(b.alarm); break;
    case 'memberAttr':
      w.i64(b.memberId).str(b.name).uvar(b.clientUrls.length);
      for (const u of b.clientUrls) w.str(u);
      break;
  }
  return Buffer.from(w.finish());
}

/** Decodes a log entry's data; throws DecodeError on malformed bytes. */
export function decodeApplyRequest(data: Uint8Array): ApplyRequest {
  const r = new ByteReader(data);
  const version = r.u8();
  if (version !== VERSION) throw new DecodeError(`unknown apply request version ${version}`);
  const type = TYPES[r.u8()];
  if (!type) throw new DecodeError('unknown apply request type');
  const header = { id: r.i64(), username: r.str(), authRevision: r.uvar() };
  return { header, body: readBody(r, type) };
}

function readBody(r: ByteReader, type: ApplyBody['type']): ApplyBody {
  switch (type) {
    case 'put': return { type, put: readPut(r) };
    case 'deleteRange': return { type, deleteRange: readDelete(r) };
    case 'txn': return { type, txn: readTxn(r, 0) };
    case 'compaction': return { type, revision: r.uvar(), physical: r.bool() };
    case 'leaseGrant': return { type, id: r.i64(), ttl: r.uvar() };
    case 'leaseRevoke': return { type, id: r.i64() };
    case 'leaseCheckpoint': {
      const n = r.uvar();
      const checkpoints = [];
      for (let i = 0; i < n; i++) checkpoints.push({ id: r.i64(), remainingTtl: r.uvar() });
      return { type, checkpoints };
    }
    case 'alarm': return { type, action: r.u8(), memberId: r.i64(), alarm: r.u8() };
    case 'memberAttr': {
      const memberId = r.i64();
      const name = r.str();
      const n = r.uvar();
      const clientUrls = [];
      for (let i = 0; i < n; i++) clientUrls.push(r.str());
      return { type, memberId, name, clientUrls };
    }
  }
}

function estimate(b: ApplyBody): number {
  return b.type === 'put' ? b.put.key.length + b.put.value.length + 16 : 128;
}

function writePut(w: ByteWriter, p: PutRequest): void {
  w.bytes(p.key).bytes(p.value).i64(p.lease);
  w.u8((p.prevKv ? 1 : 0) | (p.ignoreValue ? 2 : 0) | (p.ignoreLease ? 4 : 0));
}

function readPut(r: ByteReader): PutRequest {
  const key = r.bytes();
  const value = r.bytes();
  const lease = r.i64();
  const f = r.u8();
  return { key, value, lease, prevKv: (f & 1) !== 0, ignoreValue: (f & 2) !== 0, ignoreLease: (f & 4) !== 0 };
}

function writeDelete(w: ByteWriter, d: DeleteRangeRequest): void {
  w.bytes(d.key).bytes(d.rangeEnd).bool(d.prevKv);
}

function readDelete(r: ByteReader): DeleteRangeRequest {
  return { key: r.bytes(), rangeEnd: r.bytes(), prevKv: r.bool() };
}

function writeRange(w: ByteWriter, q: RangeRequest): void {
  w.bytes(q.key).bytes(q.rangeEnd).uvar(q.limit).uvar(q.revision).u8(q.sortOrder).u8(q.sortTarget);
  w.u8((q.serializable ? 1 : 0) | (q.keysOnly ? 2 : 0) | (q.countOnly ? 4 : 0));
  w.uvar(q.minModRevision).uvar(q.maxModRevision).uvar(q.minCreateRevision).uvar(q.maxCreateRevision);
}

function readRange(r: ByteReader): RangeRequest {
  const key = r.bytes();
  const rangeEnd = r.bytes();
  const limit = r.uvar();
  const revision = r.uvar();
  const sortOrder = r.u8();
  const sortTarget = r.u8();
  const f = r.u8();
  return {
    key, rangeEnd, limit, revision, sortOrder, sortTarget,
    serializable: (f & 1) !== 0, keysOnly: (f & 2) !== 0, countOnly: (f & 4) !== 0,
    minModRevision: r.uvar(), maxModRevision: r.uvar(), minCreateRevision: r.uvar(), maxCreateRevision: r.uvar(),
  };
}

function writeCompare(w: ByteWriter, c: Compare): void {
  w.u8(c.result).u8(c.target).bytes(c.key).bytes(c.rangeEnd).uvar(c.number).bytes(c.value).i64(c.lease);
}

function readCompare(r: ByteReader): Compare {
  return { result: r.u8(), target: r.u8(), key: r.bytes(), rangeEnd: r.bytes(), number: r.uvar(), value: r.bytes(), lease: r.i64() };
}

function writeOps(w: ByteWriter, ops: RequestOp[]): void {
  w.uvar(ops.length);
  for (const op of ops) {
    if ('range' in op) writeRange(w.u8(0), op.range);
    else if ('put' in op) writePut(w.u8(1), op.put);
    else if ('deleteRange' in op) writeDelete(w.u8(2), op.deleteRange);
    else writeTxn(w.u8(3), op.txn);
  }
}

function readOps(r: ByteReader, depth: number): RequestOp[] {
  const n = r.uvar();
  const ops: RequestOp[] = [];
  for (let i = 0; i < n; i++) {
    const t = r.u8();
    if (t === 0) ops.push({ range: readRange(r) });
    else if (t === 1) ops.push({ put: readPut(r) });
    else if (t === 2) ops.push({ deleteRange: readDelete(r) });
    else if (t === 3) ops.push({ txn: readTxn(r, depth + 1) });
    else throw new DecodeError(`unknown op type ${t}`);
  }
  return ops;
}

function writeTxn(w: ByteWriter, t: TxnRequest): void {
  w.uvar(t.compare.length);
  for (const c of t.compare) writeCompare(w, c);
  writeOps(w, t.success);
  writeOps(w, t.failure);
}

function readTxn(r: ByteReader, depth: number): TxnRequest {
  if (depth > 64) throw new DecodeError('txn nesting too deep');
  const n = r.uvar();
  const compare: Compare[] = [];
  for (let i = 0; i < n; i++) compare.push(readCompare(r));
  return { compare, success: readOps(r, depth), failure: readOps(r, depth) };
}
