/**
 * Executes a txn (compares, then one branch, ops in order, nested txns recursively) against a
 * view: a write transaction for txns that write, a read snapshot for read-only ones. Semantics
 * from etcd.md §2.4: on a range compare every key must match; with no key, a VALUE compare is
 * false and other targets compare against zero.
 */
import { CoreError } from '../util/core-error';
import { KeyValue } from './key-value';
import {
  Compare, CompareResult, CompareTarget, DeleteRangeRequest, DeleteRangeResult, PutRequest, PutResult,
  RangeRequest, RangeResult, RequestOp, ResponseOp, SortOrder, SortTarget, TxnRequest, TxnResult,
} from './kv-types';

/** What a txn runs against. Write methods are absent on a read-only view. */
export interface TxnView {
  range(req: RangeRequest): RangeResult;
  /**
   * The newest state of one key without its value, or null when the key is absent; lets a
   * compare on version, create, mod or lease skip reading the record (the key index knows them).
   * Optional: views without it answer compares through {@link TxnView.range}.
   */
  keyMeta?(key: Buffer): KeyMeta | null;
  checkPut?(req: PutRequest): void;
  put?(req: PutRequest): PutResult;
  deleteRange?(req: DeleteRangeRequest): DeleteRangeResult;
}

/** Evaluates the compares and runs the chosen branch. Validation errors throw before any write. */
export function runTxn(view: TxnView, req: TxnRequest): TxnResult {
  const succeeded = req.compare.every((c) => applyCompare(view, c));
  const ops = succeeded ? req.success : req.failure;
  checkOps(view, ops);
  return { succeeded, responses: ops.map((op) => runOp(view, op)) };
}

/** Pre-checks the writes of a branch (and the branches nested txns will take) so nothing fails half-way. */
function checkOps(view: TxnView, ops: RequestOp[]): void {
  for (const op of ops) {
    if ('put' in op) {
      if (!view.checkPut) throw new CoreError('not-capable', 'write in a read-only txn view');
      view.checkPut(op.put);
    } else if ('txn' in op) {
      const nested = op.txn.compare.every((c) => applyCompare(view, c));
      checkOps(view, nested ? op.txn.success : op.txn.failure);
    }
  }
}

function runOp(view: TxnView, op: RequestOp): ResponseOp {
  if ('range' in op) return { range: view.range(op.range) };
  if ('put' in op) return { put: view.put!(op.put) };
  if ('deleteRange' in op) return { deleteRange: view.deleteRange!(op.deleteRange) };
  return { txn: runTxn(view, op.txn) };
}

const COMPARE_READ: Omit<RangeRequest, 'key' | 'rangeEnd'> = {
  limit: 0,
  revision: 0,
  sortOrder: SortOrder.None,
  sortTarget: SortTarget.Key,
  serializable: true,
  keysOnly: false,
  countOnly: false,
  minModRevision: 0,
  maxModRevision: 0,
  minCreateRevision: 0,
  maxCreateRevision: 0,
};

/** A key's revision facts: a {@link KeyValue} without key and value. */
export type KeyMeta = Pick<KeyValue, 'createRevision' | 'modRevision' | 'version' | 'lease'>;

/** True when the compare holds for every key in its range. */
export function applyCompare(view: TxnView, c: Compare): boolean {
  if (c.rangeEnd.length === 0 && c.target !== CompareTarget.Value && view.keyMeta) {
    // Single key, no value needed: most compares (ZooKeeper's guards, etcd's CAS on version or
    // mod revision) are answered from the key index without a backend read.
    const meta = view.keyMeta(c.key);
    return compareKv(c, meta ?? ZERO_KV);
  }
  const { kvs } = view.range({ ...COMPARE_READ, key: c.key, rangeEnd: c.rangeEnd });
  if (kvs.length === 0) {
    if (c.target === CompareTarget.Value) return false;
    return compareKv(c, ZERO_KV);
  }
  return kvs.every((kv) => compareKv(c, kv));
}

const ZERO_KV: KeyValue = { key: Buffer.alloc(0), createRevision: 0, modRevision: 0, version: 0, value: Buffer.alloc(0), lease: 0n };

function compareKv(c: Compare, kv: KeyMeta & Partial<Pick<KeyValue, 'value'>>): boolean {
  let r: number;
  switch (c.target) {
    case CompareTarget.Value:
      r = Buffer.compare(kv.value!, c.value);
      break;
    case CompareTarget.Version:
      r = Math.sign(kv.version - c.number);
      break;
    case CompareTarget.Create:
      r = Math.sign(kv.createRevision - c.number);
      break;
    case CompareTarget.Mod:
      r = Math.sign(kv.modRevision - c.number);
      break;
    case CompareTarget.Lease:
      r = kv.lease === c.lease ? 0 : kv.lease > c.lease ? 1 : -1;
      break;
  }
  switch (c.result) {
    case CompareResult.Equal:
      return r === 0;
    case CompareResult.NotEqual:
      return r !== 0;
    case CompareResult.Greater:
      return r > 0;
    case CompareResult.Less:
      return r < 0;
  }
}
