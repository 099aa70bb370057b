/**
 * Values of the node, ACL and counter keys (key-schema.ts). The node value is a fixed 32-byte
 * header then the data bytes; etcd has no clock, so ctime/mtime live here, and so does the
 * version (a multi may set the same node twice, but etcd bumps a key's version once per txn).
 *
 * Header: magic 'Z' (1) | format 2 (1) | kind (1) | flags (1: bit0 = data is null) |
 *         version int32 | ctime int64 | mtime int64 | ttl int64 | czxid int64.
 * `czxid` is 0 when the key's createRevision is the czxid; a node deleted and created again in
 * one multi keeps its key (etcd cannot delete and put a key in one txn), so its header says -1
 * ("the revision of this write") and later rewrites carry the resolved value.
 */
import { Acl, JuteReader, JuteWriter, readAclList, writeAclList, writeInt64BE } from '../../protocol/jute';

/** What kind of znode a node key holds (an ephemeral is a `plain` node with a lease). */
export type NodeKind = 'plain' | 'container' | 'ttl' | 'system';

const KINDS: NodeKind[] = ['plain', 'container', 'ttl', 'system'];
const HEADER_BYTES = 40;

/**
 * A znode's data: the request's Buffer on the way in, a latin1 string (one char per byte, an
 * exact round trip) once held by the replica. A Buffer kept for a znode's life costs its
 * ArrayBuffer and a native backing store, ≈ 480 bytes for 100 bytes of data; the string costs
 * its length plus 16.
 */
export type ZnodeData = Buffer | string | null;

/** The byte length of `d`. */
export function dataLength(d: ZnodeData): number {
  return d === null ? 0 : d.length;
}

/** `d` as bytes (a fresh Buffer for replica data). */
export function dataBytes(d: ZnodeData): Buffer | null {
  return typeof d === 'string' ? Buffer.from(d, 'latin1') : d;
}

/** The decoded node value. */
export interface NodeValue {
  kind: NodeKind;
  version: number;
  ctime: bigint;
  mtime: bigint;
  ttl: bigint;
  data: ZnodeData;
  /** 0: czxid = createRevision; -1: czxid = this write's revision; > 0: czxid itself. */
  czxid?: bigint;
}

/** Encodes a node value. */
export function encodeNodeValue(v: NodeValue): Buffer {
  const dataLen = dataLength(v.data);
  const b = Buffer.allocUnsafe(HEADER_BYTES + dataLen);
  b[0] = 0x5a;
  b[1] = 2;
  b[2] = KINDS.indexOf(v.kind);
  b[3] = v.data === null ? 1 : 0;
  b.writeInt32BE(v.version | 0, 4);
  writeInt64BE(b, v.ctime, 8);
  writeInt64BE(b, v.mtime, 16);
  writeInt64BE(b, v.ttl, 24);
  writeInt64BE(b, v.czxid ?? 0n, 32);
  if (typeof v.data === 'string') b.write(v.data, HEADER_BYTES, 'latin1');
  else if (v.data) v.data.copy(b, HEADER_BYTES);
  return b;
}

/** Zero, shared: most nodes have no TTL and a plain czxid, and a bigint is a heap object. */
const ZERO = 0n;

/** `n`, or for zero one shared object (a bigint per znode field is a heap object of its own). */
export function shared0(n: bigint): bigint {
  return n === 0n ? ZERO : n;
}

/**
 * Decodes a node value (data as a latin1 string); undefined when the bytes are not ours (a
 * foreign writer under our prefix), which the tree treats as absent rather than crashing.
 */
export function decodeNodeValue(b: Buffer): NodeValue | undefined {
  if (b.length < HEADER_BYTES || b[0] !== 0x5a || b[1] !== 2) return undefined;
  const kind = KINDS[b[2]!];
  if (!kind) return undefined;
  const ctime = b.readBigInt64BE(8);
  const mtime = b.readBigInt64BE(16);
  return {
    kind,
    version: b.readInt32BE(4),
    ctime,
    // Never modified: one object for both.
    mtime: mtime === ctime ? ctime : mtime,
    ttl: shared0(b.readBigInt64BE(24)),
    czxid: shared0(b.readBigInt64BE(32)),
    // A flat string of its own: nothing of `b` (a slice of a shared pool) stays pinned.
    data: (b[3]! & 1) === 1 ? null : b.toString('latin1', HEADER_BYTES),
  };
}

/**
 * Encodes an ACL key's value: an int32 aversion offset (aversion = key version − 1 + offset;
 * the key is absent for the open ACL, so a first setACL creates it at version 1) then the list
 * as a jute vector<ACL>.
 */
export function encodeAclValue(acl: readonly Acl[], offset = 0): Buffer {
  const w = new JuteWriter(64);
  w.writeInt(offset);
  writeAclList(w, acl);
  return w.toBuffer();
}

/** Decodes an ACL value; a malformed one reads as the open ACL (never throws). */
export function decodeAclValue(b: Buffer): { acl: Acl[]; offset: number } {
  try {
    const r = new JuteReader(b);
    const offset = r.readInt();
    return { offset, acl: readAclList(r) };
  } catch {
    return { offset: 0, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }] };
  }
}

/**
 * Encodes the value of a child-change key: an int32 offset added to (key version − 1) to give
 * the reported cversion. It is 0 except for the bootstrap nodes (whose first children ZooKeeper
 * does not count) and after a txn changed several children of one parent (etcd bumps a key's
 * version once per txn). Keeping cversion in the key's version lets a create or delete bump it
 * with a blind put, so concurrent creates under one parent do not conflict.
 */
export function encodeCounterValue(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n | 0, 0);
  return b;
}

/** Decodes a child-change key's cversion offset (0 when malformed). */
export function decodeCounterValue(b: Buffer): number {
  return b.length >= 4 ? b.readInt32BE(0) : 0;
}
