/**
 * The durable encoding of an {@link ApplyRequest} (a log entry's data). Compact and versioned:
 * byte 0 is the format version, byte 1 the body type; then the header and the body's fields.
 * Every member decodes the same bytes into the same request, so apply is deterministic.
 * Built on the shared bounds-checked reader/writer of core/util; bad bytes throw DecodeError.
 */
import { ByteReader } from '../util/byte-reader';
import { ByteWriter } from '../util/byte-writer';
import { logEntryBytes, pooledBytes } from '../util/bytes';
import { Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../mvcc/kv-types';
import { ApplyBody, ApplyRequest } from './apply-request';

const VERSION = 1;
const TYPES: ApplyBody['type'][] = ['put', 'deleteRange', 'txn', 'compaction', 'leaseGrant', 'leaseRevoke', 'leaseCheckpoint', 'alarm', 'memberAttr'];
/** Deepest nesting of txns accepted when decoding (etcd has no limit; a bound keeps decoding finite). */
const MAX_TXN_DEPTH = 64;

/** Reused by every encoding (synchronous, never nested): only the exact-size result is allocated. */
const scratch = new ByteWriter(4096);

/** Encodes a request for the log. */
export function encodeApplyRequest(req: ApplyRequest): Uint8Array {
  const w = scratch;
  w.reset();
  w.u8(VERSION);
  w.u8(TYPES.indexOf(req.body.type));
  i64(w, req.header.id);
  str(w, req.header.username);
  w.varint(req.header.authRevision);
  writeBody(w, req.body);
  // The entry lives in Raft's log until a snapshot compacts it: log-entry slabs, not the pool.
  return w.finish(logEntryBytes);
}

/** Decodes a log entry's data; throws DecodeError on malformed bytes. */
export function decodeApplyRequest(data: Uint8Array): ApplyRequest {
  const r = new ByteReader(data, pooledBytes);
  const version = r.u8();
  if (version !== VERSION) r.fail(`unknown apply request version ${version}`);
  const type = TYPES[r.u8()];
  if (!type) return r.fail('unknown apply request type');
  const header = { id: readI64(r), username: readStr(r), authRevision: r.varint() };
  const body = readBody(r, type);
  r.end();
  return { header, body };
}

/**
 * The header id of an encoded request, read without decoding the rest (undefined when `data`
 * is too short or of another version). Lets a proposer find its pending proposal by an entry.
 */
export function peekRequestId(data: Uint8Array): bigint | undefined {
  if (data.length < 10 || data[0] !== VERSION) return undefined;
  // Two 32-bit halves: a DataView per call cost ≈ 7× more, once per applied entry.
  const hi = ((data[2]! << 24) | (data[3]! << 16) | (data[4]! << 8) | data[5]!) >>> 0;
  const lo = ((data[6]! << 24) | (data[7]! << 16) | (data[8]! << 8) | data[9]!) >>> 0;
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

function writeBody(w: ByteWriter, b: ApplyBody): void {
  switch (b.type) {
    case 'put': return writePut(w, b.put);
    case 'deleteRange': return writeDelete(w, b.deleteRange);
    case 'txn': return writeTxn(w, b.txn);
    case 'compaction': w.varint(b.revision); return w.bool(b.physical);
    case 'leaseGrant': i64(w, b.id); return w.varint(b.ttl);
    case 'leaseRevoke': return i64(w, b.id);
    case 'leaseCheckpoint':
      w.varint(b.checkpoints.length);
      for (const c of b.checkpoints) {
        i64(w, c.id);
        w.varint(c.remainingTtl);
      }
      return;
    case 'alarm': w.u8(b.action); i64(w, b.memberId); return w.u8(b.alarm);
    case 'memberAttr':
      i64(w, b.memberId);
      str(w, b.name);
      w.varint(b.clientUrls.length);
      for (const u of b.clientUrls) str(w, u);
      return;
  }
}

function readBody(r: ByteReader, type: ApplyBody['type']): ApplyBody {
  switch (type) {
    case 'put': return { type, put: readPut(r) };
    case 'deleteRange': return { type, deleteRange: readDelete(r) };
    case 'txn': return { type, txn: readTxn(r, 0) };
    case 'compaction': return { type, revision: r.varint(), physical: r.bool() };
    case 'leaseGrant': return { type, id: readI64(r), ttl: r.varint() };
    case 'leaseRevoke': return { type, id: readI64(r) };
    case 'leaseCheckpoint': {
      const n = r.count(9);
      const checkpoints = [];
      for (let i = 0; i < n; i++) checkpoints.push({ id: readI64(r), remainingTtl: r.varint() });
      return { type, checkpoints };
    }
    case 'alarm': return { type, action: r.u8(), memberId: r.u64(), alarm: r.u8() };
    case 'memberAttr': {
      const memberId = r.u64();
      const name = readStr(r);
      const n = r.count(1);
      const clientUrls = [];
      for (let i = 0; i < n; i++) clientUrls.push(readStr(r));
      return { type, memberId, name, clientUrls };
    }
  }
}

/**
 * Signed 64-bit values (lease ids, proposal ids) travel as their unsigned bit pattern. Member
 * ids are unsigned (etcd's uint64) and read back as such, so every field decodes to the value
 * proposed (the proposer applies its own object: core/server/own-proposal.ts).
 */
function i64(w: ByteWriter, v: bigint): void {
  w.u64(BigInt.asUintN(64, v));
}

function readI64(r: ByteReader): bigint {
  return BigInt.asIntN(64, r.u64());
}

function str(w: ByteWriter, s: string): void {
  w.bytes(Buffer.from(s, 'utf8'));
}

function readStr(r: ByteReader): string {
  return buf(r).toString('utf8');
}

/** A byte string as a Buffer: the reader's copy itself (decodes read with `pooledBytes`, which makes Buffers). */
function buf(r: ByteReader): Buffer {
  return r.bytes() as Buffer;
}

function writePut(w: ByteWriter, p: PutRequest): void {
  w.bytes(p.key);
  w.bytes(p.value);
  i64(w, p.lease);
  w.u8((p.prevKv ? 1 : 0) | (p.ignoreValue ? 2 : 0) | (p.ignoreLease ? 4 : 0));
}

function readPut(r: ByteReader): PutRequest {
  const key = buf(r);
  const value = buf(r);
  const lease = readI64(r);
  const f = r.u8();
  return { key, value, lease, prevKv: (f & 1) !== 0, ignoreValue: (f & 2) !== 0, ignoreLease: (f & 4) !== 0 };
}

function writeDelete(w: ByteWriter, d: DeleteRangeRequest): void {
  w.bytes(d.key);
  w.bytes(d.rangeEnd);
  w.bool(d.prevKv);
}

function readDelete(r: ByteReader): DeleteRangeRequest {
  return { key: buf(r), rangeEnd: buf(r), prevKv: r.bool() };
}

function writeRange(w: ByteWriter, q: RangeRequest): void {
  w.bytes(q.key);
  w.bytes(q.rangeEnd);
  for (const n of [q.limit, q.revision]) w.varint(n);
  w.u8(q.sortOrder);
  w.u8(q.sortTarget);
  w.u8((q.serializable ? 1 : 0) | (q.keysOnly ? 2 : 0) | (q.countOnly ? 4 : 0));
  for (const n of [q.minModRevision, q.maxModRevision, q.minCreateRevision, q.maxCreateRevision]) w.varint(n);
}

function readRange(r: ByteReader): RangeRequest {
  const key = buf(r);
  const rangeEnd = buf(r);
  const limit = r.varint();
  const revision = r.varint();
  const sortOrder = r.u8();
  const sortTarget = r.u8();
  const f = r.u8();
  return {
    key, rangeEnd, limit, revision, sortOrder, sortTarget,
    serializable: (f & 1) !== 0, keysOnly: (f & 2) !== 0, countOnly: (f & 4) !== 0,
    minModRevision: r.varint(), maxModRevision: r.varint(), minCreateRevision: r.varint(), maxCreateRevision: r.varint(),
  };
}

function writeCompare(w: ByteWriter, c: Compare): void {
  w.u8(c.result);
  w.u8(c.target);
  w.bytes(c.key);
  w.bytes(c.rangeEnd);
  w.varint(c.number);
  w.bytes(c.value);
  i64(w, c.lease);
}

function readCompare(r: ByteReader): Compare {
  return { result: r.u8(), target: r.u8(), key: buf(r), rangeEnd: buf(r), number: r.varint(), value: buf(r), lease: readI64(r) };
}

function writeOps(w: ByteWriter, ops: RequestOp[]): void {
  w.varint(ops.length);
  for (const op of ops) {
    if ('range' in op) (w.u8(0), writeRange(w, op.range));
    else if ('put' in op) (w.u8(1), writePut(w, op.put));
    else if ('deleteRange' in op) (w.u8(2), writeDelete(w, op.deleteRange));
    else (w.u8(3), writeTxn(w, op.txn));
  }
}

function readOps(r: ByteReader, depth: number): RequestOp[] {
  const n = r.count(1);
  const ops: RequestOp[] = [];
  for (let i = 0; i < n; i++) {
    const t = r.u8();
    if (t === 0) ops.push({ range: readRange(r) });
    else if (t === 1) ops.push({ put: readPut(r) });
    else if (t === 2) ops.push({ deleteRange: readDelete(r) });
    else if (t === 3) ops.push({ txn: readTxn(r, depth + 1) });
    else r.fail(`unknown op type ${t}`);
  }
  return ops;
}

function writeTxn(w: ByteWriter, t: TxnRequest): void {
  w.varint(t.compare.length);
  for (const c of t.compare) writeCompare(w, c);
  writeOps(w, t.success);
  writeOps(w, t.failure);
}

function readTxn(r: ByteReader, depth: number): TxnRequest {
  if (depth > MAX_TXN_DEPTH) r.fail('txn nesting too deep');
  const n = r.count(4);
  const compare: Compare[] = [];
  for (let i = 0; i < n; i++) compare.push(readCompare(r));
  return { compare, success: readOps(r, depth), failure: readOps(r, depth) };
}
