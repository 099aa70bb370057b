/**
 * The data records shared by many requests and replies: `Id`, `ACL` and `Stat`
 * (zookeeper.jute, package org.apache.zookeeper.data; zk-protocol.md §1.7). Field order is the
 * wire order.
 */
import { JuteReader } from './jute-reader';
import { JuteWriter } from './jute-writer';

/** An identity: `scheme` (world, auth, digest, ip, super, …) and a scheme-specific `id`. */
export interface Id {
  scheme: string;
  id: string;
}

/** One ACL entry: permission bits granted to an identity. */
export interface Acl {
  perms: number;
  id: Id;
}

/** A znode's metadata, 68 bytes on the wire. All zxids and times are bigint. */
export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

/** Encoded size of a {@link Stat}. */
export const STAT_BYTES = 68;

/** Writes an {@link Id}. */
export function writeId(w: JuteWriter, v: Id): void {
  w.writeUString(v.scheme).writeUString(v.id);
}

/** Reads an {@link Id} (null strings read as empty). */
export function readId(r: JuteReader): Id {
  return { scheme: r.readString('Id.scheme'), id: r.readString('Id.id') };
}

/** Writes an {@link Acl}. */
export function writeAcl(w: JuteWriter, v: Acl): void {
  w.writeInt(v.perms);
  writeId(w, v.id);
}

/** Reads an {@link Acl}. */
export function readAcl(r: JuteReader): Acl {
  const perms = r.readInt('ACL.perms');
  return { perms, id: readId(r) };
}

/** Writes a vector of ACLs. */
export function writeAclList(w: JuteWriter, v: readonly Acl[] | null): void {
  w.writeVector(v, writeAcl);
}

/** Reads a vector of ACLs; a null vector reads as empty. Each ACL takes at least 12 bytes. */
export function readAclList(r: JuteReader): Acl[] {
  return r.readVector(readAcl, 'vector<ACL>', 12) ?? [];
}

/** Writes a {@link Stat}. */
export function writeStat(w: JuteWriter, s: Stat): void {
  w.writeLong(s.czxid).writeLong(s.mzxid).writeLong(s.ctime).writeLong(s.mtime);
  w.writeInt(s.version).writeInt(s.cversion).writeInt(s.aversion);
  w.writeLong(s.ephemeralOwner).writeInt(s.dataLength).writeInt(s.numChildren);
  w.writeLong(s.pzxid);
}

/** Reads a {@link Stat}. */
export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.readLong('Stat.czxid'),
    mzxid: r.readLong('Stat.mzxid'),
    ctime: r.readLong('Stat.ctime'),
    mtime: r.readLong('Stat.mtime'),
    version: r.readInt('Stat.version'),
    cversion: r.readInt('Stat.cversion'),
    aversion: r.readInt('Stat.aversion'),
    ephemeralOwner: r.readLong('Stat.ephemeralOwner'),
    dataLength: r.readInt('Stat.dataLength'),
    numChildren: r.readInt('Stat.numChildren'),
    pzxid: r.readLong('Stat.pzxid'),
  };
}

/** A Stat of all zeros (what a client sees before it has one). */
export function emptyStat(): Stat {
  return {
    czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0,
    ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 0n,
  };
}

/** Reads a vector of strings; a null vector reads as empty. */
export function readStringList(r: JuteReader, what: string): string[] {
  return r.readVector((x) => x.readString(what), what, 4) ?? [];
}

/** Writes a vector of strings. */
export function writeStringList(w: JuteWriter, v: readonly string[] | null): void {
  w.writeVector(v, (x, s) => x.writeUString(s));
}
