/**
 * multi (14) and multiRead (22) bodies (MultiOperationRecord / MultiResponse; zk-protocol.md
 * §1.8). Each element is a `MultiHeader{type, done, err}` followed by that op's record; the list
 * ends with `MultiHeader{-1, true, -1}`. Only the op codes ZooKeeper accepts in each kind of
 * multi are decoded; anything else is a `bad-multi` decode error.
 */
import type { ZkRequest } from './request-codec';
import { JuteDecodeError } from './jute-error';
import { JuteReader } from './jute-reader';
import { JuteWriter } from './jute-writer';
import { OpCode } from './op-codes';
import { Stat, readStat, readStringList, writeStat, writeStringList } from './records-data';
import * as R from './records-requests';

/** The header before each element of a multi request or response. */
export interface MultiHeader {
  type: number;
  done: boolean;
  err: number;
}

/** One per-op result of a multi (the response element types ZooKeeper sends). */
export type MultiResult =
  | { type: 'create'; path: string }
  | { type: 'create2'; path: string; stat: Stat }
  | { type: 'delete' }
  | { type: 'setData'; stat: Stat }
  | { type: 'check' }
  | { type: 'getData'; data: Buffer | null; stat: Stat }
  | { type: 'getChildren'; children: string[] }
  | { type: 'error'; err: number };

function readHeader(r: JuteReader): MultiHeader {
  return { type: r.readInt('MultiHeader.type'), done: r.readBool('MultiHeader.done'), err: r.readInt('MultiHeader.err') };
}

function writeHeader(w: JuteWriter, h: MultiHeader): void {
  w.writeInt(h.type).writeBool(h.done).writeInt(h.err);
}

/** Reads one write sub-op of a multi (create*, delete, setData, check). */
function readWriteOp(type: number, r: JuteReader): ZkRequest {
  switch (type) {
    case OpCode.create: return { op: 'create', ...R.readCreate(r) };
    case OpCode.create2: return { op: 'create2', ...R.readCreate(r) };
    case OpCode.createContainer: return { op: 'createContainer', ...R.readCreate(r) };
    case OpCode.createTTL: return { op: 'createTTL', ...R.readCreateTtl(r) };
    case OpCode.delete: return { op: 'delete', ...R.readPathVersion(r) };
    case OpCode.setData: return { op: 'setData', ...R.readSetData(r) };
    case OpCode.check: return { op: 'check', ...R.readPathVersion(r) };
    default: throw new JuteDecodeError('bad-multi', `op ${type} is not allowed in multi`);
  }
}

/** Reads one read sub-op of a multiRead (getData, getChildren). */
function readReadOp(type: number, r: JuteReader): ZkRequest {
  switch (type) {
    case OpCode.getData: return { op: 'getData', ...R.readPathWatch(r) };
    case OpCode.getChildren: return { op: 'getChildren', ...R.readPathWatch(r) };
    default: throw new JuteDecodeError('bad-multi', `op ${type} is not allowed in multiRead`);
  }
}

/**
 * Reads the sub-ops of a multi (`readOnly` false) or multiRead (`readOnly` true). Mixing reads
 * and writes is refused, as MultiOperationRecord does. The loop ends at the `done` header; every
 * pass consumes at least 9 bytes, so it is bounded by the frame size.
 */
export function readMultiRequest(r: JuteReader, readOnly: boolean): ZkRequest[] {
  const ops: ZkRequest[] = [];
  for (;;) {
    const h = readHeader(r);
    if (h.done) return ops;
    ops.push(readOnly ? readReadOp(h.type, r) : readWriteOp(h.type, r));
  }
}

/** Writes the sub-ops of a multi; `encode` writes one op's record. */
export function writeMultiRequest(
  w: JuteWriter,
  ops: readonly ZkRequest[],
  encode: (w: JuteWriter, op: ZkRequest) => void,
): void {
  for (const op of ops) {
    writeHeader(w, { type: OpCode[op.op], done: false, err: -1 });
    encode(w, op);
  }
  writeHeader(w, { type: -1, done: true, err: -1 });
}

const RESULT_CODE: Record<MultiResult['type'], number> = {
  create: OpCode.create,
  create2: OpCode.create2,
  delete: OpCode.delete,
  setData: OpCode.setData,
  check: OpCode.check,
  getData: OpCode.getData,
  getChildren: OpCode.getChildren,
  error: OpCode.error,
};

/** Writes a MultiResponse: one header + payload per result, then the done header. */
export function writeMultiResponse(w: JuteWriter, results: readonly MultiResult[]): void {
  for (const res of results) {
    writeHeader(w, { type: RESULT_CODE[res.type], done: false, err: res.type === 'error' ? res.err : 0 });
    switch (res.type) {
      case 'create': w.writeUString(res.path); break;
      case 'create2': w.writeUString(res.path); writeStat(w, res.stat); break;
      case 'setData': writeStat(w, res.stat); break;
      case 'getData': w.writeBuffer(res.data); writeStat(w, res.stat); break;
      case 'getChildren': writeStringList(w, res.children); break;
      case 'error': w.writeInt(res.err); break;
      case 'delete': case 'check': break;
    }
  }
  writeHeader(w, { type: -1, done: true, err: -1 });
}

/** Reads a MultiResponse (client side). */
export function readMultiResponse(r: JuteReader): MultiResult[] {
  const out: MultiResult[] = [];
  for (;;) {
    const h = readHeader(r);
    if (h.done) return out;
    out.push(readResult(h.type, r));
  }
}

function readResult(type: number, r: JuteReader): MultiResult {
  switch (type) {
    case OpCode.create: return { type: 'create', path: r.readString('path') };
    case OpCode.create2: return { type: 'create2', path: r.readString('path'), stat: readStat(r) };
    case OpCode.delete: return { type: 'delete' };
    case OpCode.setData: return { type: 'setData', stat: readStat(r) };
    case OpCode.check: return { type: 'check' };
    case OpCode.getData: return { type: 'getData', data: r.readBuffer('data'), stat: readStat(r) };
    case OpCode.getChildren: return { type: 'getChildren', children: readStringList(r, 'children') };
    case OpCode.error: return { type: 'error', err: r.readInt('ErrorResponse.err') };
    default: throw new JuteDecodeError('bad-multi', `unknown multi result type ${type}`);
  }
}
