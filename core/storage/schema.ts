/**
 * THE storage schema: every sub-database and every meta key, in one place (etcd keeps its
 * buckets in `storage/schema/bucket.go` for the same reason). Nothing else names a sub-database.
 *
 * Encodings are fixed-width big-endian so that LMDB's bytewise order is numeric order.
 */

/** Names of the sub-databases. */
export const DB = {
  /** MVCC history: revision key (see {@link encodeRevisionKey}) → encoded key-value record. */
  kv: 'kv',
  /** Scalar state, keyed by {@link META}. */
  meta: 'meta',
  /** Leases: 8-byte lease id → encoded lease record. */
  lease: 'lease',
  /** Raft log: 8-byte big-endian index → encoded entry. */
  raftLog: 'raft_log',
  /** Cluster members: 8-byte member id → encoded member. */
  members: 'members',
  /** Removed member ids (never reused): 8-byte member id → empty. */
  membersRemoved: 'members_removed',
  /** Active alarms: 8-byte member id + 1-byte alarm type → empty. */
  alarm: 'alarm',
  /** Auth users: name → encoded user. */
  authUsers: 'auth_users',
  /** Auth roles: name → encoded role. */
  authRoles: 'auth_roles',
} as const;

/** Every sub-database name, for opening them all at start. */
export const ALL_DBS: readonly string[] = Object.values(DB);

/** Keys inside {@link DB.meta}. */
export const META = {
  /** Index of the last applied raft entry; written in the same transaction as what it describes (etcd #13766). */
  consistentIndex: Buffer.from('consistent_index'),
  /** Term of the last applied raft entry. */
  consistentTerm: Buffer.from('consistent_term'),
  /** Raft hard state (term, vote, commit). */
  raftHardState: Buffer.from('raft_hard_state'),
  /** Raft conf state of the last applied snapshot/conf change. */
  raftConfState: Buffer.from('raft_conf_state'),
  /** Index and term of the last raft log compaction (entries ≤ this are gone). */
  raftLogCompacted: Buffer.from('raft_log_compacted'),
  /** The current store revision (main) after the last applied write. */
  currentRevision: Buffer.from('current_revision'),
  /** Compaction requested up to this revision (written first; etcd `scheduledCompactRev`). */
  scheduledCompactRevision: Buffer.from('scheduled_compact_rev'),
  /** Compaction physically finished up to this revision (etcd `finishedCompactRev`). */
  finishedCompactRevision: Buffer.from('finished_compact_rev'),
  /** Cluster id (8 bytes). */
  clusterId: Buffer.from('cluster_id'),
  /** This member's id (8 bytes). */
  memberId: Buffer.from('member_id'),
  /** Whether auth is enabled (1 byte). */
  authEnabled: Buffer.from('auth_enabled'),
  /** Auth revision (8 bytes). */
  authRevision: Buffer.from('auth_revision'),
  /** Storage format version (4 bytes), so a future layout change can migrate or refuse. */
  storageVersion: Buffer.from('storage_version'),
} as const;

/** The current on-disk format version. */
export const STORAGE_VERSION = 1;

/** Bytes in a revision key: 8-byte main + 4-byte sub. */
export const REVISION_KEY_BYTES = 12;

/** Encodes (main, sub) so that byte order is revision order. */
export function encodeRevisionKey(main: number, sub: number): Buffer {
  const buf = Buffer.allocUnsafe(REVISION_KEY_BYTES);
  buf.writeUIntBE(0, 0, 2);
  buf.writeUIntBE(main, 2, 6);
  buf.writeUInt32BE(sub, 8);
  return buf;
}

/** Decodes the main revision of a revision key. */
export function decodeRevisionMain(key: Buffer): number {
  return key.readUIntBE(2, 6);
}

/** Decodes the sub revision of a revision key. */
export function decodeRevisionSub(key: Buffer): number {
  return key.readUInt32BE(8);
}

/** An unsigned 64-bit id (lease, member) as an 8-byte big-endian key. */
export function encodeU64(value: bigint): Buffer {
  const buf = Buffer.allocUnsafe(8);
  buf.writeBigUInt64BE(BigInt.asUintN(64, value));
  return buf;
}

/** Inverse of {@link encodeU64}. */
export function decodeU64(buf: Buffer): bigint {
  return buf.readBigUInt64BE(0);
}

/** A safe non-negative integer (raft index, revision) as an 8-byte big-endian key. */
export function encodeIndex(value: number): Buffer {
  const buf = Buffer.allocUnsafe(8);
  buf.writeUIntBE(0, 0, 2);
  buf.writeUIntBE(value, 2, 6);
  return buf;
}

/** Inverse of {@link encodeIndex}. */
export function decodeIndex(buf: Buffer): number {
  return buf.readUIntBE(2, 6);
}
