/**
 * The transactions of a ZooKeeper transaction log (zookeeper.jute's txn records, as
 * SerializeUtils reads them): an entry is a TxnHeader (clientId, cxid, zxid, time, type) and the
 * txn its type names. A multi holds its txns as (type, bytes) pairs; a failed one is logged with
 * error txns in place of the others, so it changes nothing. Bytes after the txn (the digest
 * ZooKeeper 3.6+ appends) are not read.
 */
import { Acl, JuteReader, OpCode, readAclList } from '../../protocol/jute';

/** A create of any kind (CreateTxn, CreateContainerTxn, CreateTTLTxn). */
export interface CreateTxn {
  op: 'create';
  /** Its op code (create, create2, createContainer or createTTL). */
  type: number;
  path: string;
  data: Buffer | null;
  acl: Acl[];
  /** A plain create's ephemeral flag (the owner is the header's clientId). */
  ephemeral: boolean;
  kind: 'plain' | 'container' | 'ttl';
  /** The TTL in ms of a createTTL (0 otherwise). */
  ttl: bigint;
  /** The parent's create count after this create (-1: one more than it has). */
  parentCVersion: number;
}

/** A txn that changes the tree or the sessions, or one that does not (`other`: check, error, …). */
export type ZkTxn =
  | CreateTxn
  | { op: 'delete'; path: string }
  | { op: 'setData'; path: string; data: Buffer | null; version: number }
  | { op: 'setACL'; path: string; acl: Acl[]; version: number }
  /** A session opened (the header's clientId) with its negotiated timeout. */
  | { op: 'createSession'; timeoutMs: number }
  /** The ephemerals to delete; undefined when the txn does not list them (before 3.6). */
  | { op: 'closeSession'; paths: string[] | undefined }
  | { op: 'multi'; txns: ZkTxn[]; failed: boolean }
  | { op: 'other'; type: number };

/** One logged txn with its header. */
export interface LoggedTxn {
  clientId: bigint;
  zxid: bigint;
  time: bigint;
  txn: ZkTxn;
}

/** Decodes one log entry. Throws a JuteDecodeError when it does not parse as the txn its type names. */
export function decodeTxnEntry(entry: Buffer): LoggedTxn {
  const r = new JuteReader(entry, entry.length);
  const clientId = r.readLong('clientId');
  r.readInt('cxid');
  const zxid = r.readLong('zxid');
  const time = r.readLong('time');
  const type = r.readInt('type');
  return { clientId, zxid, time, txn: decodeTxn(r, type) };
}

function decodeTxn(r: JuteReader, type: number): ZkTxn {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      return decodeCreate(r, type);
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { op: 'delete', path: r.readString('path') };
    case OpCode.setData:
    case OpCode.reconfig:
      return { op: 'setData', path: r.readString('path'), data: r.readBuffer('data'), version: r.readInt('version') };
    case OpCode.setACL:
      return { op: 'setACL', path: r.readString('path'), acl: readAclList(r), version: r.readInt('version') };
    case OpCode.createSession:
      return { op: 'createSession', timeoutMs: r.readInt('timeOut') };
    case OpCode.closeSession:
      // ZooKeeper 3.6+ lists the session's ephemerals (CloseSessionTxn); older logs have no body.
      return { op: 'closeSession', paths: r.remaining() >= 4 ? (r.readVector((v) => v.readString('path'), 'paths2Delete', 4) ?? []) : undefined };
    case OpCode.multi:
      return decodeMulti(r);
    default:
      return { op: 'other', type };
  }
}

function decodeCreate(r: JuteReader, type: number): CreateTxn {
  const path = r.readString('path');
  const data = r.readBuffer('data');
  const acl = readAclList(r);
  const ephemeral = type === OpCode.create || type === OpCode.create2 ? r.readBool('ephemeral') : false;
  const parentCVersion = r.readInt('parentCVersion');
  const ttl = type === OpCode.createTTL ? r.readLong('ttl') : 0n;
  const kind = type === OpCode.createContainer ? 'container' : type === OpCode.createTTL ? 'ttl' : 'plain';
  return { op: 'create', type, path, data, acl, ephemeral, kind, ttl, parentCVersion };
}

function decodeMulti(r: JuteReader): ZkTxn {
  const subs = r.readVector((v) => ({ type: v.readInt('type'), data: v.readBuffer('data') }), 'txns', 8) ?? [];
  const failed = subs.some((s) => s.type === OpCode.error);
  // A failed multi changes nothing: its txns need not (and, as error txns, cannot) be read.
  if (failed) return { op: 'multi', txns: [], failed };
  const txns = subs.map((s) => decodeTxn(new JuteReader(s.data ?? Buffer.alloc(0), s.data?.length ?? 0), s.type));
  return { op: 'multi', txns, failed };
}
