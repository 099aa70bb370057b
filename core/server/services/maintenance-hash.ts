/**
 * The Maintenance Hash and HashKV answers. Hash covers the whole replicated state; HashKV the
 * MVCC history up to a revision (core/mvcc/hash.ts). Both only need to agree between members
 * of this implementation, never with Go etcd (etcd.md §2.9).
 */
import * as pb from '../../../protocol/etcd/generated/rpc';
import { ReadTxn } from '../../storage/backend';
import { DB } from '../../storage/schema';
import { crc32cUpdate } from '../../util/crc32c';
import { CoreError } from '../../util/core-error';
import { hashKv } from '../../mvcc/hash';
import { Member } from '../member';
import { pbHeader, toCount } from './pb-mapping';

/**
 * Sub-databases whose content every member derives from the same log. Meta and the raft log
 * are member-local (own id, applied index, log compaction point) and are left out, as etcd's
 * Hash ignores its consistent index.
 */
const REPLICATED_DBS: readonly string[] = [DB.kv, DB.lease, DB.alarm, DB.members, DB.membersRemoved, DB.authUsers, DB.authRoles];

/** CRC-32C over every entry (sub-database name, key, value) of the replicated sub-databases. */
export function hashReplicatedState(txn: ReadTxn): number {
  let crc = 0;
  for (const db of REPLICATED_DBS) {
    crc = crc32cUpdate(crc, Buffer.from(db));
    for (const { key, value } of txn.iterate(db)) {
      crc = crc32cUpdate(crc, key);
      crc = crc32cUpdate(crc, value);
    }
  }
  return crc >>> 0;
}

/** The HashResponse: the hash of the replicated state, at the readable revision. */
export function hashResponse(member: Member): pb.HashResponse {
  const header = pbHeader(member.header());
  const hash = member.backend.read(hashReplicatedState);
  return { header, hash };
}

/**
 * The HashKVResponse for `revision` (0 = the readable revision). Errors as etcd 3.4/3.5's
 * `HashByRev`: a revision at or below the compaction point is `compacted`, one beyond the
 * current revision is `future-revision`. `compact_revision` is -1 when nothing was ever
 * compacted (etcd starts its compact revision at -1; etcdctl prints it).
 */
export function hashKvResponse(member: Member, revision: bigint): pb.HashKVResponse {
  const current = member.kv.readRevision;
  const compacted = member.kv.compactRevision;
  const rev = toCount(revision);
  if (rev > 0 && rev <= compacted) throw new CoreError('compacted');
  if (rev > current) throw new CoreError('future-revision');
  const at = rev === 0 ? current : rev;
  const hash = member.backend.read((txn) => hashKv(txn, at, compacted)) >>> 0;
  return { header: pbHeader(member.header(current)), hash, compactRevision: compacted === 0 ? -1n : BigInt(compacted) };
}
