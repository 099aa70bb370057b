/**
 * `ZkResponse`: every reply body as one union (zk-protocol.md §1.6–§1.8), with the server-side
 * encoder and the client-side decoder (which needs the op code of the request, since replies do
 * not name their type). A reply with `err != 0` has no body at all; callers handle that.
 */
import { JuteDecodeError } from './jute-error';
import { JuteReader } from './jute-reader';
import { JuteWriter } from './jute-writer';
import { OpCode } from './op-codes';
import {
  Acl, Stat, readAclList, readStat, readStringList, writeAclList, writeStat, writeStringList,
} from './records-data';
import { MultiResult, readMultiResponse, writeMultiResponse } from './multi-codec';

/** `ClientInfo` of whoAmI (107). */
export interface ClientInfo {
  authScheme: string;
  user: string;
}

/** A decoded reply body. `empty` is for ops answered with a header only. */
export type ZkResponse =
  | { op: 'empty' }
  | { op: 'create'; path: string }
  | { op: 'create2'; path: string; stat: Stat }
  | { op: 'stat'; stat: Stat }
  | { op: 'getData'; data: Buffer | null; stat: Stat }
  | { op: 'getACL'; acl: Acl[]; stat: Stat }
  | { op: 'getChildren'; children: string[] }
  | { op: 'getChildren2'; children: string[]; stat: Stat }
  | { op: 'sync'; path: string }
  | { op: 'multi'; results: MultiResult[] }
  | { op: 'getEphemerals'; ephemerals: string[] }
  | { op: 'getAllChildrenNumber'; totalNumber: number }
  | { op: 'errorResponse'; err: number }
  | { op: 'whoAmI'; clientInfo: ClientInfo[] }
  | { op: 'sasl'; token: Buffer | null };

/** Encodes a reply body (nothing for `empty`). */
export function encodeResponse(w: JuteWriter, res: ZkResponse): void {
  switch (res.op) {
    case 'empty': return;
    case 'create': case 'sync': w.writeUString(res.path); return;
    case 'create2': w.writeUString(res.path); writeStat(w, res.stat); return;
    case 'stat': writeStat(w, res.stat); return;
    case 'getData': w.writeBuffer(res.data); writeStat(w, res.stat); return;
    case 'getACL': writeAclList(w, res.acl); writeStat(w, res.stat); return;
    case 'getChildren': writeStringList(w, res.children); return;
    case 'getChildren2': writeStringList(w, res.children); writeStat(w, res.stat); return;
    case 'multi': writeMultiResponse(w, res.results); return;
    case 'getEphemerals': writeStringList(w, res.ephemerals); return;
    case 'getAllChildrenNumber': w.writeInt(res.totalNumber); return;
    case 'errorResponse': w.writeInt(res.err); return;
    case 'whoAmI':
      w.writeVector(res.clientInfo, (x, c) => x.writeUString(c.authScheme).writeUString(c.user));
      return;
    case 'sasl': w.writeBuffer(res.token); return;
  }
}

/**
 * Decodes the body of a successful (`err == 0`) reply to a request of op code `type`.
 * Client side only: the cross-checker, tests and benchmarks use it.
 */
export function decodeResponse(type: number, r: JuteReader): ZkResponse {
  switch (type) {
    case OpCode.create: return { op: 'create', path: r.readString('path') };
    case OpCode.create2: case OpCode.createContainer: case OpCode.createTTL:
      return { op: 'create2', path: r.readString('path'), stat: readStat(r) };
    case OpCode.exists: case OpCode.setData: case OpCode.setACL:
      return { op: 'stat', stat: readStat(r) };
    case OpCode.check:
      return r.remaining() > 0 ? { op: 'stat', stat: readStat(r) } : { op: 'empty' };
    case OpCode.getData: case OpCode.reconfig:
      return { op: 'getData', data: r.readBuffer('data'), stat: readStat(r) };
    case OpCode.getACL: return { op: 'getACL', acl: readAclList(r), stat: readStat(r) };
    case OpCode.getChildren: return { op: 'getChildren', children: readStringList(r, 'children') };
    case OpCode.getChildren2:
      return { op: 'getChildren2', children: readStringList(r, 'children'), stat: readStat(r) };
    case OpCode.sync: return { op: 'sync', path: r.readString('path') };
    case OpCode.multi: case OpCode.multiRead: return { op: 'multi', results: readMultiResponse(r) };
    case OpCode.getEphemerals: return { op: 'getEphemerals', ephemerals: readStringList(r, 'ephemerals') };
    case OpCode.getAllChildrenNumber: return { op: 'getAllChildrenNumber', totalNumber: r.readInt('totalNumber') };
    case OpCode.addWatch: return { op: 'errorResponse', err: r.readInt('ErrorResponse.err') };
    case OpCode.whoAmI: {
      const info = r.readVector((x) => ({ authScheme: x.readString('authScheme'), user: x.readString('user') }), 'clientInfo', 8);
      return { op: 'whoAmI', clientInfo: info ?? [] };
    }
    case OpCode.sasl: return { op: 'sasl', token: r.readBuffer('token') };
    case OpCode.delete: case OpCode.ping: case OpCode.checkWatches: case OpCode.removeWatches:
    case OpCode.auth: case OpCode.setWatches: case OpCode.setWatches2: case OpCode.closeSession:
      return { op: 'empty' };
    default: throw new JuteDecodeError('unknown-op', `no reply format for op ${type}`);
  }
}
