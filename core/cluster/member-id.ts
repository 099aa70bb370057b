/**
 * Member and cluster ids computed as etcd computes them (etcd.md §4.2), so that the same flags
 * give the same ids and etcdctl shows familiar values:
 * - member id = first 8 bytes (big-endian) of SHA-1(sorted peer URLs joined, + cluster token
 *   [+ unix seconds for a runtime `member add`]);
 * - cluster id = first 8 bytes of SHA-1(the sorted member ids as 8-byte big-endian words).
 */
import { createHash } from 'node:crypto';

/** The member id for the given peer URLs and cluster token (and, for runtime adds, a time). */
export function computeMemberId(peerUrls: string[], clusterToken: string, unixSeconds?: number): bigint {
  const parts = [...peerUrls].sort().join('') + clusterToken + (unixSeconds === undefined ? '' : String(unixSeconds));
  return createHash('sha1').update(parts).digest().readBigUInt64BE(0);
}

/** The cluster id for the given member ids. */
export function computeClusterId(memberIds: bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => buf.writeBigUInt64BE(id, i * 8));
  return createHash('sha1').update(buf).digest().readBigUInt64BE(0);
}
