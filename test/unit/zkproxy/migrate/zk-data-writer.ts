/**
 * Test-side writer of ZooKeeper's on-disk formats (snapshot and transaction log, version 2),
 * written from the layout the readers document (the readers meet files a real ZooKeeper 3.8
 * wrote in test/interop/zk-migrate-kinds.test.ts): it lets the unit tests build the cases a real
 * server makes rarely (torn tails, bad seals, failed multis, newer extended types).
 */
import { Acl, JuteWriter, OpCode, writeAclList } from '../../../../protocol/jute';
import { adler32 } from '../../../../zkproxy/migrate/adler32';

const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** One znode of a snapshot; the root has path "". Unset numbers are the czxid's or 0; times 1700000000000. */
export interface SnapNode {
  path: string;
  czxid: bigint;
  owner?: bigint;
  data?: Buffer | null;
  /** Its ACL key: 1 (the open ACL in the cache, the default), -1 (the open ACL, not cached), or a key of `acls`. */
  aclKey?: bigint;
  mzxid?: bigint;
  version?: number;
  /** Creates under it (as persisted). */
  cversion?: number;
  aversion?: number;
  pzxid?: bigint;
}

/** A snapshot holding `nodes` in the given order (parents first), sealed unless `badSeal`; `acls` adds to the cache (key 1: open). */
export function snapshotBytes(nodes: SnapNode[], o: { badSeal?: boolean; sessions?: [bigint, number][]; acls?: [bigint, Acl[]][] } = {}): Buffer {
  const w = new JuteWriter();
  w.writeInt(0x5a4b534e).writeInt(2).writeLong(-1n);
  const sessions = o.sessions ?? [[0x100n, 30000]];
  w.writeInt(sessions.length);
  for (const [id, timeout] of sessions) w.writeLong(id).writeInt(timeout);
  const acls: [bigint, Acl[]][] = [[1n, OPEN], ...(o.acls ?? [])];
  w.writeInt(acls.length);
  for (const [key, acl] of acls) writeAclList(w.writeLong(key), acl);
  for (const n of nodes) {
    w.writeUString(n.path).writeBuffer(n.data ?? null).writeLong(n.aclKey ?? 1n);
    w.writeLong(n.czxid).writeLong(n.mzxid ?? n.czxid).writeLong(1700000000000n).writeLong(1700000000000n);
    w.writeInt(n.version ?? 0).writeInt(n.cversion ?? 0).writeInt(n.aversion ?? 0).writeLong(n.owner ?? 0n).writeLong(n.pzxid ?? n.czxid);
  }
  w.writeUString('/');
  const body = w.toBuffer();
  const seal = new JuteWriter().writeLong(BigInt(adler32(body)) + (o.badSeal ? 1n : 0n)).writeUString('/').toBuffer();
  return Buffer.concat([body, seal]);
}

/** A txn of a log: its type and body, and the session (clientId, default 0x100) and time of its header. */
export interface LogTxn {
  zxid: bigint;
  type: number;
  body: Buffer;
  session?: bigint;
  time?: bigint;
}

/** CreateContainerTxn / CreateTTLTxn / CreateTxn (create, create2) bodies. */
export function createBody(type: number, path: string, ttl = 0n, o: { data?: Buffer | null; acl?: Acl[]; ephemeral?: boolean; parentCVersion?: number } = {}): Buffer {
  const w = new JuteWriter().writeUString(path).writeBuffer(o.data === undefined ? Buffer.from('d') : o.data);
  writeAclList(w, o.acl ?? OPEN);
  if (type === OpCode.create || type === OpCode.create2) w.writeBool(o.ephemeral ?? false);
  w.writeInt(o.parentCVersion ?? 0);
  if (type === OpCode.createTTL) w.writeLong(ttl);
  return w.toBuffer();
}

/** DeleteTxn. */
export const deleteBody = (path: string): Buffer => new JuteWriter().writeUString(path).toBuffer();

/** SetDataTxn. */
export const setDataBody = (path: string, data: Buffer | null, version: number): Buffer => new JuteWriter().writeUString(path).writeBuffer(data).writeInt(version).toBuffer();

/** SetACLTxn. */
export function setAclBody(path: string, acl: Acl[], version: number): Buffer {
  const w = new JuteWriter().writeUString(path);
  writeAclList(w, acl);
  return w.writeInt(version).toBuffer();
}

/** CloseSessionTxn (ZooKeeper 3.6+); `undefined`: the empty body of older versions. */
export function closeSessionBody(paths: string[] | undefined): Buffer {
  if (paths === undefined) return Buffer.alloc(0);
  const w = new JuteWriter().writeInt(paths.length);
  for (const p of paths) w.writeUString(p);
  return w.toBuffer();
}

/** ErrorTxn. */
export const errorBody = (err: number): Buffer => new JuteWriter().writeInt(err).toBuffer();

/** A MultiTxn body of (type, body) pairs. */
export function multiBody(subs: { type: number; body: Buffer }[]): Buffer {
  const w = new JuteWriter().writeInt(subs.length);
  for (const s of subs) w.writeInt(s.type).writeBuffer(s.body);
  return w.toBuffer();
}

/** One record's bytes: checksum, entry, 'B'. */
export function recordBytes(t: LogTxn, o: { badCrc?: boolean } = {}): Buffer {
  const entry = new JuteWriter().writeLong(t.session ?? 0x100n).writeInt(1).writeLong(t.zxid).writeLong(t.time ?? 1700000000000n).writeInt(t.type).writeRaw(t.body).toBuffer();
  const w = new JuteWriter().writeLong(BigInt(adler32(entry)) + (o.badCrc ? 1n : 0n)).writeBuffer(entry).writeRaw(Buffer.from('B'));
  return w.toBuffer();
}

/** A log: header, the records, then `padding` zero bytes (ZooKeeper preallocates). */
export function logBytes(records: Buffer[], padding = 64): Buffer {
  const header = new JuteWriter().writeInt(0x5a4b4c47).writeInt(2).writeLong(-1n).toBuffer();
  return Buffer.concat([header, ...records, Buffer.alloc(padding)]);
}

/** snappy-java's stream header: the magic, then its version and the oldest compatible one. */
export const SNAPPY_HEADER = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);

/** A varint, as a raw Snappy block's length is written. */
export function snappyVarint(n: number): Buffer {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return Buffer.from(out);
}

/** A raw Snappy literal element of `bytes` (1..2^16 bytes). */
export function snappyLiteral(bytes: Buffer): Buffer {
  const n = bytes.length - 1;
  if (n < 60) return Buffer.concat([Buffer.from([n << 2]), bytes]);
  if (n < 256) return Buffer.concat([Buffer.from([60 << 2, n]), bytes]);
  return Buffer.concat([Buffer.from([61 << 2, n & 0xff, n >> 8]), bytes]);
}

/** A stream's block: its int32 length, then the raw block. */
export function snappyFrame(block: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeInt32BE(block.length);
  return Buffer.concat([len, block]);
}

/**
 * `bytes` as snappy-java's stream (SnappyOutputStream) holds them, each block of up to 32 KiB
 * stored as one literal: what a snappy-compressed snapshot looks like, minus the compression.
 */
export function snappyStream(bytes: Buffer): Buffer {
  const parts: Buffer[] = [SNAPPY_HEADER];
  for (let at = 0; at < bytes.length; at += 32768) {
    const chunk = bytes.subarray(at, at + 32768);
    parts.push(snappyFrame(Buffer.concat([snappyVarint(chunk.length), snappyLiteral(chunk)])));
  }
  return Buffer.concat(parts);
}
