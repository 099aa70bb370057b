/**
 * The order in which ZooKeeper 3.8 lists a connection's identities (whoAmI, and the expansion
 * of an `auth` ACL entry): `ServerCnxn.authInfo` is a hash set, so it is iterated by hash
 * bucket, not in the order the ids were added. Observed against ZooKeeper 3.8 with TLS, digest
 * and ip ids (test/interop/zk-tls-diff.test.ts): bucket = spread(Id.hashCode()) mod table size,
 * ids in one bucket in the order they were added, the table 16 buckets wide and doubled as a
 * ConcurrentHashMap doubles it (when the count reaches three quarters of it).
 */
import type { AuthId } from './acl-rules';

/** Java's String.hashCode: over UTF-16 code units, in 32-bit arithmetic. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** The jute record Id's hashCode: 37 × (37 × 17 + scheme) + id. */
function idHash(a: AuthId): number {
  return (Math.imul(37, (Math.imul(37, 17) + javaStringHash(a.scheme)) | 0) + javaStringHash(a.id)) | 0;
}

/** `ids` (distinct, in the order they were added) in the order ZooKeeper iterates them. */
export function inZooKeeperOrder(ids: readonly AuthId[]): AuthId[] {
  let table = 16;
  while (ids.length >= table * 0.75) table *= 2;
  const bucket = (a: AuthId): number => {
    const h = idHash(a);
    return (h ^ (h >>> 16)) & (table - 1);
  };
  // Array.prototype.sort is stable: one bucket keeps the order of addition.
  return ids.map((a) => ({ a, b: bucket(a) })).sort((x, y) => x.b - y.b).map((x) => x.a);
}
