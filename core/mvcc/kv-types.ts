/**
 * Domain request and result types of the key-value API (etcd.md §1.2, §2.2–2.4). Enum values
 * are etcd's wire numbers so the server's mapping from protobuf is a copy, not a translation.
 * Revisions are safe integers; lease ids are bigint.
 */
import { KeyValue } from './key-value';

/** etcd RangeRequest.SortOrder. */
export const enum SortOrder {
  None = 0,
  Ascend = 1,
  Descend = 2,
}

/** etcd RangeRequest.SortTarget. */
export const enum SortTarget {
  Key = 0,
  Version = 1,
  Create = 2,
  Mod = 3,
  Value = 4,
}

/** A range read. `rangeEnd` empty = the single key; one zero byte = every key ≥ key. */
export interface RangeRequest {
  key: Buffer;
  rangeEnd: Buffer;
  /** 0 = no limit. */
  limit: number;
  /** 0 = current revision. */
  revision: number;
  sortOrder: SortOrder;
  sortTarget: SortTarget;
  serializable: boolean;
  keysOnly: boolean;
  countOnly: boolean;
  /** Inclusive filters; 0 = unset. */
  minModRevision: number;
  maxModRevision: number;
  minCreateRevision: number;
  maxCreateRevision: number;
  /**
   * Not an etcd field (absent = true): false says the caller needs only `more`, so a limited
   * key-ordered read stops after limit + 1 keys and `count` is min(total, limit + 1) instead of
   * a walk over every key to the end of the range (a paged scan would be quadratic).
   */
  exactCount?: boolean;
}

/** Result of a range; the header revision is added by the caller. */
export interface RangeResult {
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

/** A put. */
export interface PutRequest {
  key: Buffer;
  value: Buffer;
  lease: bigint;
  prevKv: boolean;
  ignoreValue: boolean;
  ignoreLease: boolean;
}

/** Result of a put. */
export interface PutResult {
  prevKv?: KeyValue;
}

/** A delete of a key or range (same end conventions as {@link RangeRequest}). */
export interface DeleteRangeRequest {
  key: Buffer;
  rangeEnd: Buffer;
  prevKv: boolean;
}

/** Result of a delete. */
export interface DeleteRangeResult {
  deleted: number;
  prevKvs: KeyValue[];
}

/** etcd Compare.CompareResult. */
export const enum CompareResult {
  Equal = 0,
  Greater = 1,
  Less = 2,
  NotEqual = 3,
}

/** etcd Compare.CompareTarget. */
export const enum CompareTarget {
  Version = 0,
  Create = 1,
  Mod = 2,
  Value = 3,
  Lease = 4,
}

/** One guard of a txn. `value` holds the operand matching `target`. */
export interface Compare {
  result: CompareResult;
  target: CompareTarget;
  key: Buffer;
  rangeEnd: Buffer;
  /** Operand for Version/Create/Mod. */
  number: number;
  /** Operand for Value. */
  value: Buffer;
  /** Operand for Lease. */
  lease: bigint;
}

/** One op of a txn branch. */
export type RequestOp =
  | { range: RangeRequest }
  | { put: PutRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest };

/** A txn. */
export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

/** Result of one op of a txn, with the revision its response header reports. */
export type ResponseOp = (
  | { range: RangeResult }
  | { put: PutResult }
  | { deleteRange: DeleteRangeResult }
  | { txn: TxnResult }
) & {
  /**
   * The store revision as of this op, for its response header (etcd's rule: the revision before
   * the txn until the txn has written, then the txn's own). Absent for a nested txn, whose
   * header etcd leaves empty.
   */
  revision?: number;
};

/** Result of a txn. */
export interface TxnResult {
  succeeded: boolean;
  responses: ResponseOp[];
}

/** A change, as watchers see it. A delete's kv has only key and modRevision set. */
export interface KvEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

/** True when `op` (or any nested op) writes. */
export function opWrites(op: RequestOp): boolean {
  if ('put' in op || 'deleteRange' in op) return true;
  if ('txn' in op) return txnWrites(op.txn);
  return false;
}

/** True when either branch of `txn` (recursively) writes; read-only txns skip the log. */
export function txnWrites(txn: TxnRequest): boolean {
  return txn.success.some(opWrites) || txn.failure.some(opWrites);
}
