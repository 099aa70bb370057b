/**
 * The backend quota (`--quota-backend-bytes`, etcd.md §2.9): a request that would grow the
 * database past the quota is refused before it is proposed, with etcd's "database space
 * exceeded", and raises the NOSPACE alarm for the whole cluster (through the log), which then
 * blocks every write but deletes until an operator frees space and disarms it — the flow etcd's
 * runbooks describe: compact, defrag, `alarm disarm`.
 *
 * Costs are etcd's estimates: a put costs its key and value plus a fixed overhead for the index
 * and revision entries, a txn the larger of its two branches, a lease grant a fixed overhead.
 * The size compared is the space in use (LMDB never shrinks its file; pages freed by a
 * compaction are reused, so in-use space is what a compaction gives back).
 */
import { CoreError } from '../util/core-error';
import { PutRequest, TxnRequest } from '../mvcc/kv-types';
import { AlarmAction, AlarmType, ApplyBody } from '../apply/apply-request';
import { Member } from './member';

/** etcd's per-key overhead estimate (index + revision entries). */
export const QUOTA_KV_OVERHEAD = 256;
/** etcd's per-lease overhead estimate. */
export const QUOTA_LEASE_OVERHEAD = 64;

/** Bytes a put may add. */
export function putCost(p: PutRequest): number {
  return QUOTA_KV_OVERHEAD + p.key.length + p.value.length;
}

/** Bytes a txn may add: its costlier branch (only one of them runs). */
export function txnCost(t: TxnRequest): number {
  const branch = (ops: TxnRequest['success']): number => {
    let sum = 0;
    for (const op of ops) {
      if ('put' in op) sum += putCost(op.put);
      else if ('txn' in op) sum += txnCost(op.txn);
    }
    return sum;
  };
  return Math.max(branch(t.success), branch(t.failure));
}

/**
 * Refuses a request of `cost` bytes that does not fit under the quota, raising NOSPACE first
 * (once: an active alarm is not proposed again). Resolves when the request may be proposed.
 */
export async function checkQuota(member: Member, cost: number): Promise<void> {
  if (cost === 0) return;
  // The write buffer's figure: committed space plus the batches still buffered.
  const inUse = member.backend.stats().sizeInUseBytes;
  if (inUse + cost < member.quotaBytes) return;
  if (!member.alarms.has(AlarmType.NoSpace)) {
    await member.propose({ type: 'alarm', action: AlarmAction.Activate, memberId: member.memberId, alarm: AlarmType.NoSpace }).catch(() => undefined);
  }
  throw new CoreError('no-space');
}

/**
 * The quota check for a proposal made outside the gRPC services (the ZooKeeper front end over
 * the in-process core): txns cost their costlier branch, lease grants the lease overhead, the
 * rest nothing (deletes and revokes free space). A txn that deletes is admitted: a ZooKeeper
 * delete also bumps its parent's child version with a small put, and refusing it would leave a
 * ZooKeeper client no way to free space once the runbook (compact, defrag, disarm) has run.
 */
export function admitProposal(member: Member, body: ApplyBody): Promise<void> {
  if (body.type === 'txn') return deletes(body.txn) ? Promise.resolve() : checkQuota(member, txnCost(body.txn));
  if (body.type === 'put') return checkQuota(member, putCost(body.put));
  if (body.type === 'leaseGrant') return checkQuota(member, QUOTA_LEASE_OVERHEAD);
  return Promise.resolve();
}

function deletes(t: TxnRequest): boolean {
  const any = (ops: TxnRequest['success']): boolean => ops.some((op) => 'deleteRange' in op || ('txn' in op && deletes(op.txn)));
  return any(t.success) || any(t.failure);
}
