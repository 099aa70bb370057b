/**
 * The durable member table: every member of the cluster (id, name, peer and client URLs,
 * learner flag) in the `members` sub-database, and the ids of removed members in
 * `members_removed` (ids are never reused: etcd.md §4.4). It changes only when a committed
 * conf-change or member-attribute entry is applied, inside the driver's apply transaction, so
 * every member holds the same table at the same applied index.
 */
import { ReadTxn, WriteTxn } from '../storage/backend';
import { DB, decodeU64, encodeU64 } from '../storage/schema';

/** One member as the cluster knows it (etcd `Member`). */
export interface MemberRecord {
  id: bigint;
  /** Empty until the member has started and published its attributes. */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** The member JSON carried in a conf change's context (etcd puts member JSON there too). */
export function encodeMemberContext(m: MemberRecord): Buffer {
  return Buffer.from(JSON.stringify({ id: m.id.toString(16), name: m.name, peerURLs: m.peerUrls, clientURLs: m.clientUrls, isLearner: m.isLearner }));
}

/** Inverse of {@link encodeMemberContext}; undefined for an empty or foreign context. */
export function decodeMemberContext(buf: Uint8Array): MemberRecord | undefined {
  if (buf.length === 0) return undefined;
  try {
    const j = JSON.parse(Buffer.from(buf).toString('utf8')) as { id: string; name?: string; peerURLs?: string[]; clientURLs?: string[]; isLearner?: boolean };
    return { id: BigInt('0x' + j.id), name: j.name ?? '', peerUrls: j.peerURLs ?? [], clientUrls: j.clientURLs ?? [], isLearner: j.isLearner ?? false };
  } catch {
    return undefined;
  }
}

/** The table, mirrored in memory; writes go to the given transaction and the mirror together. */
export class MemberTable {
  private readonly members = new Map<bigint, MemberRecord>();
  private readonly removed = new Set<bigint>();

  /** Loads the table (at start). */
  load(txn: ReadTxn): void {
    this.members.clear();
    this.removed.clear();
    for (const { key, value } of txn.iterate(DB.members)) {
      const m = decodeMemberContext(value);
      if (m) this.members.set(decodeU64(key), m);
    }
    for (const { key } of txn.iterate(DB.membersRemoved)) this.removed.add(decodeU64(key));
  }

  /** Every current member, ordered by id. */
  list(): MemberRecord[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The member with `id`, if it is current. */
  get(id: bigint): MemberRecord | undefined {
    return this.members.get(id);
  }

  /** True when `id` was removed (it may never come back). */
  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  /** Number of current members. */
  get size(): number {
    return this.members.size;
  }

  /** Adds or replaces a member. */
  put(txn: WriteTxn, m: MemberRecord): void {
    const copy: MemberRecord = { ...m, peerUrls: [...m.peerUrls], clientUrls: [...m.clientUrls] };
    txn.put(DB.members, encodeU64(m.id), encodeMemberContext(copy));
    this.members.set(m.id, copy);
  }

  /** Removes a member and remembers its id forever. */
  remove(txn: WriteTxn, id: bigint): void {
    txn.del(DB.members, encodeU64(id));
    txn.put(DB.membersRemoved, encodeU64(id), Buffer.alloc(0));
    this.members.delete(id);
    this.removed.add(id);
  }

  /** The member (other than `except`) already using one of `urls`, if any. */
  findByPeerUrls(urls: string[], except?: bigint): MemberRecord | undefined {
    const wanted = new Set(urls);
    for (const m of this.members.values()) {
      if (m.id !== except && m.peerUrls.some((u) => wanted.has(u))) return m;
    }
    return undefined;
  }
}
