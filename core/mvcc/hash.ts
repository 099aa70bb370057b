/**
 * HashKV (etcd.md §2.9): a CRC-32C over the stored history with revision ≤ `rev` that survives
 * compaction. It only has to agree between members of this implementation (it is used to detect
 * divergence), so it hashes our own record encoding, in revision order.
 */
import { ReadTxn } from '../storage/backend';
import { DB, decodeRevisionMain, encodeRevisionKey } from '../storage/schema';
import { crc32cUpdate } from '../util/crc32c';

/** Hash of every record with compactRev ≤ revision ≤ rev (all revisions when compactRev is 0). */
export function hashKv(txn: ReadTxn, rev: number, compactRev: number): number {
  let crc = crc32cUpdate(0, Buffer.from('kv'));
  const start = encodeRevisionKey(Math.max(compactRev, 0), 0);
  const end = encodeRevisionKey(rev + 1, 0);
  // Every record is hashed and dropped: the values can be borrowed (backend.ts).
  for (const { key, value } of txn.iterate(DB.kv, { start, end, borrow: true })) {
    if (decodeRevisionMain(key) > rev) break;
    crc = crc32cUpdate(crc, key);
    crc = crc32cUpdate(crc, value);
  }
  return crc;
}
