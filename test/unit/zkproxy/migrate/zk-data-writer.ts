/**
 * Test-side writer of ZooKeeper's on-disk formats (snapshot and transaction log, version 2),
 * written from the layout the readers document (the readers meet files a real ZooKeeper 3.8
 * wrote in test/interop/zk-migrate-kinds.test.ts): it lets the unit tests build the cases a real
 * server makes rarely (torn tails, bad seals, failed multis, newer extended types).
 */
import { JuteWriter, OpCode, writeAclList } from '../../../../protocol/jute';
import { adler32 } from '../../../../zkproxy/migrate/adler32';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** One znode of a snapshot; the root has path "". */
export interface SnapNode {
  path: string;
  czxid: bigint;
  owner?: bigint;
  data?: Buffer | null;
}

/** A snapshot holding `nodes` in the given order (parents first), sealed unless `badSeal`. */
export function snapshotBytes(nodes: SnapNode[], o: { badSeal?: boolean; sessions?: [bigint, number][] } = {}): Buffer {
  const w = new JuteWriter();
  w.writeInt(0x5a4b534e).writeInt(2).writeLong(-1n);
  const sessions = o.sessions ?? [[0x100n, 30000]];
  w.writeInt(sessions.length);
  for (const [id, timeout] of sessions) w.writeLong(id).writeInt(timeout);
  w.writeInt(1).writeLong(1n);
  writeAclList(w, OPEN);
  for (const n of nodes) {
    w.writeUString(n.path).writeBuffer(n.data ?? null).writeLong(1n);
    w.writeLong(n.czxid).writeLong(n.czxid).writeLong(1700000000000n).writeLong(1700000000000n);
    w.writeInt(0).writeInt(0).writeInt(0).writeLong(n.owner ?? 0n).writeLong(n.czxid);
  }
  w.writeUString('/');
  const body = w.toBuffer();
  const seal = new JuteWriter().writeLong(BigInt(adler32(body)) + (o.badSeal ? 1n : 0n)).writeUString('/').toBuffer();
  return Buffer.concat([body, seal]);
}

/** A txn of a log: its type and body. */
export interface LogTxn {
  zxid: bigint;
  type: number;
  body: Buffer;
}

/** CreateContainerTxn / CreateTTLTxn / CreateTxn bodies. */
export function createBody(type: number, path: string, ttl = 0n): Buffer {
  const w = new JuteWriter().writeUString(path).writeBuffer(Buffer.from('d'));
  writeAclList(w, OPEN);
  if (type === OpCode.create) w.writeBool(false);
  w.writeInt(0);
  if (type === OpCode.createTTL) w.writeLong(ttl);
  return w.toBuffer();
}

/** A MultiTxn body of (type, body) pairs. */
export function multiBody(subs: { type: number; body: Buffer }[]): Buffer {
  const w = new JuteWriter().writeInt(subs.length);
  for (const s of subs) w.writeInt(s.type).writeBuffer(s.body);
  return w.toBuffer();
}

/** One record's bytes: checksum, entry, 'B'. */
export function recordBytes(t: LogTxn, o: { badCrc?: boolean } = {}): Buffer {
  const entry = new JuteWriter().writeLong(0x100n).writeInt(1).writeLong(t.zxid).writeLong(1700000000000n).writeInt(t.type).writeRaw(t.body).toBuffer();
  const w = new JuteWriter().writeLong(BigInt(adler32(entry)) + (o.badCrc ? 1n : 0n)).writeBuffer(entry).writeRaw(Buffer.from('B'));
  return w.toBuffer();
}

/** A log: header, the records, then `padding` zero bytes (ZooKeeper preallocates). */
export function logBytes(records: Buffer[], padding = 64): Buffer {
  const header = new JuteWriter().writeInt(0x5a4b4c47).writeInt(2).writeLong(-1n).toBuffer();
  return Buffer.concat([header, ...records, Buffer.alloc(padding)]);
}
