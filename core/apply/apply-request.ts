/**
 * THE request union of the replicated log: everything that changes state is one of these,
 * proposed, committed, then applied identically on every member. `header` says who asked, so
 * that auth can be checked at apply time with the auth revision captured at proposal time
 * (etcd.md §2.8, #14571).
 */
import { DeleteRangeRequest, PutRequest, TxnRequest } from '../mvcc/kv-types';

/** Who proposed a request. */
export interface RequestHeader {
  /** Unique proposal id; the proposer waits for the apply result under this id. */
  id: bigint;
  /** Authenticated user ('' when auth is off or anonymous). */
  username: string;
  /** Auth revision the user's token was checked against. */
  authRevision: number;
}

/** etcd AlarmType. */
export const enum AlarmType {
  None = 0,
  NoSpace = 1,
  Corrupt = 2,
}

/** etcd AlarmRequest.AlarmAction. */
export const enum AlarmAction {
  Get = 0,
  Activate = 1,
  Deactivate = 2,
}

/** The body of a log entry. */
export type ApplyBody =
  | { type: 'put'; put: PutRequest }
  | { type: 'deleteRange'; deleteRange: DeleteRangeRequest }
  | { type: 'txn'; txn: TxnRequest }
  | { type: 'compaction'; revision: number; physical: boolean }
  | { type: 'leaseGrant'; id: bigint; ttl: number }
  | { type: 'leaseRevoke'; id: bigint }
  | { type: 'leaseCheckpoint'; checkpoints: Array<{ id: bigint; remainingTtl: number }> }
  /** `memberId` is unsigned (etcd's uint64). */
  | { type: 'alarm'; action: AlarmAction; memberId: bigint; alarm: AlarmType }
  /** `memberId` is unsigned (etcd's uint64). */
  | { type: 'memberAttr'; memberId: bigint; name: string; clientUrls: string[] };

/** A log entry's request. */
export interface ApplyRequest {
  header: RequestHeader;
  body: ApplyBody;
}
