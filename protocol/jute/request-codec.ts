/**
 * `ZkRequest`: every client request body as one union, named by its op code, with the decoder
 * (server side: op code + bytes → typed request) and the encoder (client side, used by the
 * cross-checker, tests and benchmarks). Multi bodies are handled in `multi-codec.ts`.
 * An unknown op code is a {@link JuteDecodeError} with reason `unknown-op`; the listener answers
 * it with ZUNIMPLEMENTED and closes (zk-protocol.md §1.6).
 */
import { JuteDecodeError } from './jute-error';
import { JuteReader } from './jute-reader';
import { JuteWriter } from './jute-writer';
import { OpCode } from './op-codes';
import { AuthPacket, readAuthPacket, writeAuthPacket } from './records-session';
import * as R from './records-requests';
import { readMultiRequest, writeMultiRequest } from './multi-codec';

/** A decoded request body, tagged with the name of its op code. */
export type ZkRequest =
  | ({ op: 'create' | 'create2' | 'createContainer' } & R.CreateRequest)
  | ({ op: 'createTTL' } & R.CreateTtlRequest)
  | ({ op: 'delete' } & R.DeleteRequest)
  | ({ op: 'exists' | 'getData' | 'getChildren' | 'getChildren2' } & R.PathWatchRequest)
  | ({ op: 'setData' } & R.SetDataRequest)
  | ({ op: 'getACL' | 'sync' | 'deleteContainer' | 'getAllChildrenNumber' } & R.PathRequest)
  | ({ op: 'setACL' } & R.SetAclRequest)
  | ({ op: 'check' } & R.CheckVersionRequest)
  | { op: 'multi' | 'multiRead'; ops: ZkRequest[] }
  | ({ op: 'reconfig' } & R.ReconfigRequest)
  | ({ op: 'checkWatches' | 'removeWatches' } & R.WatchesRequest)
  | ({ op: 'auth' } & AuthPacket)
  | ({ op: 'setWatches' | 'setWatches2' } & R.SetWatchesRequest)
  | ({ op: 'sasl' } & R.SaslRequest)
  | ({ op: 'getEphemerals' } & R.GetEphemeralsRequest)
  | ({ op: 'addWatch' } & R.AddWatchRequest)
  | { op: 'ping' | 'whoAmI' | 'closeSession' };

/** The op name union. */
export type ZkRequestOp = ZkRequest['op'];

/** The op code a request travels under. */
export function requestOpCode(req: ZkRequest): number {
  return OpCode[req.op];
}

/**
 * Decodes the body of a request whose header carried `type`. The whole remaining input must be
 * the body (trailing bytes are malformed, except where ZooKeeper tolerates them: see below).
 */
export function decodeRequest(type: number, r: JuteReader): ZkRequest {
  const req = decodeBody(type, r);
  // Real clients send nothing after the record; garbage after it means a framing bug or an attack.
  r.expectEnd(`request op ${type}`);
  return req;
}

function decodeBody(type: number, r: JuteReader): ZkRequest {
  switch (type) {
    case OpCode.create: return { op: 'create', ...R.readCreate(r) };
    case OpCode.create2: return { op: 'create2', ...R.readCreate(r) };
    case OpCode.createContainer: return { op: 'createContainer', ...R.readCreate(r) };
    case OpCode.createTTL: return { op: 'createTTL', ...R.readCreateTtl(r) };
    case OpCode.delete: return { op: 'delete', ...R.readPathVersion(r) };
    case OpCode.exists: return { op: 'exists', ...R.readPathWatch(r) };
    case OpCode.getData: return { op: 'getData', ...R.readPathWatch(r) };
    case OpCode.getChildren: return { op: 'getChildren', ...R.readPathWatch(r) };
    case OpCode.getChildren2: return { op: 'getChildren2', ...R.readPathWatch(r) };
    case OpCode.setData: return { op: 'setData', ...R.readSetData(r) };
    case OpCode.getACL: return { op: 'getACL', ...R.readPath(r) };
    case OpCode.sync: return { op: 'sync', ...R.readPath(r) };
    case OpCode.deleteContainer: return { op: 'deleteContainer', ...R.readPath(r) };
    case OpCode.getAllChildrenNumber: return { op: 'getAllChildrenNumber', ...R.readPath(r) };
    case OpCode.setACL: return { op: 'setACL', ...R.readSetAcl(r) };
    case OpCode.check: return { op: 'check', ...R.readPathVersion(r) };
    case OpCode.multi: return { op: 'multi', ops: readMultiRequest(r, false) };
    case OpCode.multiRead: return { op: 'multiRead', ops: readMultiRequest(r, true) };
    case OpCode.reconfig: return { op: 'reconfig', ...R.readReconfig(r) };
    case OpCode.checkWatches: return { op: 'checkWatches', ...R.readWatches(r) };
    case OpCode.removeWatches: return { op: 'removeWatches', ...R.readWatches(r) };
    case OpCode.auth: return { op: 'auth', ...readAuthPacket(r) };
    case OpCode.setWatches: return { op: 'setWatches', ...R.readSetWatches(r, false) };
    case OpCode.setWatches2: return { op: 'setWatches2', ...R.readSetWatches(r, true) };
    case OpCode.sasl: return { op: 'sasl', token: r.readBuffer('GetSASLRequest.token') };
    case OpCode.getEphemerals: return { op: 'getEphemerals', prefixPath: r.readString('prefixPath') };
    case OpCode.addWatch: return { op: 'addWatch', ...R.readAddWatch(r) };
    case OpCode.ping: return { op: 'ping' };
    case OpCode.whoAmI: return { op: 'whoAmI' };
    case OpCode.closeSession: return { op: 'closeSession' };
    default:
      throw new JuteDecodeError('unknown-op', `unknown op code ${type}`);
  }
}

/** Encodes the body of `req` (without the RequestHeader). */
export function encodeRequest(w: JuteWriter, req: ZkRequest): void {
  switch (req.op) {
    case 'create': case 'create2': case 'createContainer': R.writeCreate(w, req); return;
    case 'createTTL': R.writeCreateTtl(w, req); return;
    case 'delete': case 'check': R.writePathVersion(w, req); return;
    case 'exists': case 'getData': case 'getChildren': case 'getChildren2': R.writePathWatch(w, req); return;
    case 'setData': R.writeSetData(w, req); return;
    case 'getACL': case 'sync': case 'deleteContainer': case 'getAllChildrenNumber': R.writePath(w, req); return;
    case 'setACL': R.writeSetAcl(w, req); return;
    case 'multi': case 'multiRead': writeMultiRequest(w, req.ops, encodeRequest); return;
    case 'reconfig': R.writeReconfig(w, req); return;
    case 'checkWatches': case 'removeWatches': R.writeWatches(w, req); return;
    case 'auth': writeAuthPacket(w, req); return;
    case 'setWatches': R.writeSetWatches(w, req, false); return;
    case 'setWatches2': R.writeSetWatches(w, req, true); return;
    case 'sasl': w.writeBuffer(req.token); return;
    case 'getEphemerals': w.writeUString(req.prefixPath); return;
    case 'addWatch': R.writeAddWatch(w, req); return;
    case 'ping': case 'whoAmI': case 'closeSession': return;
  }
}
