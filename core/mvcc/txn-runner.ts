/**
 * Executes a txn (compares, then one branch, ops in order, nested txns recursively) against a
 * view: a write transaction for txns that write, a read snapshot for read-only ones. Semantics
 * from etcd.md §2.4: on a range compare every key must match; with no key, a VALUE compare is
 * false and other targets compare against zero.
 */
import { CoreError } from '../util/core-error';
import { keyString } from '../util/bytes';
import { keyBounds, KeyBounds } from './range-reader';
import { KeyValue } from './key-value';
import {
  Compare, CompareResult, CompareTarget, DeleteRangeRequest, DeleteRangeResult, PutRequest, PutResult,
  RangeRequest, RangeResult, RequestOp, ResponseOp, SortOrder, SortTarget, TxnRequest, TxnResult,
} from './kv-types';

/** What a txn runs against. Write methods are absent on a read-only view. */
export interface TxnView {
  range(req: RangeRequest): RangeResult;
  /**
   * Throws `future-revision` or `compacted` when `req` asks for a revision this view cannot
   * serve: above the store's revision before the txn, or below the compaction.
   */
  checkRange(req: RangeRequest): void;
  /**
   * The store revision as of now in this view; a write txn counts its own writes once it made
   * one. etcd reports it in each op's response header.
   */
  revision(): number;
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

/**
 * Evaluates the compares and runs the chosen branch. As etcd 3.4 does, every compare on the way
 * (this txn's, and those of the nested txns its chosen branches hold) is decided against the
 * state before any op runs; then every put of the chosen branches is checked, then every range;
 * then the ops run. Validation errors throw before any write.
 */
export function runTxn(view: TxnView, req: TxnRequest): TxnResult {
  const chosen = new Map<TxnRequest, boolean>();
  decide(view, req, chosen);
  forEachChosenOp(req, chosen, (op) => {
    if (!('put' in op)) return;
    if (!view.checkPut) throw new CoreError('not-capable', 'write in a read-only txn view');
    view.checkPut(op.put);
  });
  forEachChosenOp(req, chosen, (op) => {
    if ('range' in op) view.checkRange(op.range);
  });
  checkIgnoredAfterDelete(req, chosen);
  return runChosen(view, req, chosen);
}

/**
 * An ignore_value or ignore_lease put needs its key when it runs, and a delete earlier in the same
 * txn may have removed it: etcd's overlap check does not see a delete "to the last key" (range
 * end "\0"), so etcd 3.4 lets such a txn through and its applier fails half-way (etcd 3.4.23
 * exited in etcd-random-diff). Here the txn fails with `key-not-found` before any write.
 */
function checkIgnoredAfterDelete(req: TxnRequest, chosen: Map<TxnRequest, boolean>): void {
  const deleted: KeyBounds[] = [];
  forEachChosenOp(req, chosen, (op) => {
    if ('deleteRange' in op) deleted.push(keyBounds(op.deleteRange.key, op.deleteRange.rangeEnd));
    else if ('put' in op && (op.put.ignoreValue || op.put.ignoreLease) && deleted.length > 0) {
      const k = keyString(op.put.key);
      if (deleted.some((d) => k >= d.start && (d.end === undefined || k < d.end))) throw new CoreError('key-not-found');
    }
  });
}

/**
 * Decides `req`'s compares and those of the nested txns on its chosen branch. Keyed by the
 * request object: all are decided against one state, so one object always decides alike.
 */
function decide(view: TxnView, req: TxnRequest, chosen: Map<TxnRequest, boolean>): void {
  const succeeded = req.compare.every((c) => applyCompare(view, c));
  chosen.set(req, succeeded);
  for (const op of succeeded ? req.success : req.failure) if ('txn' in op) decide(view, op.txn, chosen);
}

function forEachChosenOp(req: TxnRequest, chosen: Map<TxnRequest, boolean>, fn: (op: RequestOp) => void): void {
  for (const op of chosen.get(req) ? req.success : req.failure) {
    fn(op);
    if ('txn' in op) forEachChosenOp(op.txn, chosen, fn);
  }
}

function runChosen(view: TxnView, req: TxnRequest, chosen: Map<TxnRequest, boolean>): TxnResult {
  const succeeded = chosen.get(req)!;
  return { succeeded, responses: (succeeded ? req.success : req.failure).map((op) => runOp(view, op, chosen)) };
}

function runOp(view: TxnView, op: RequestOp, chosen: Map<TxnRequest, boolean>): ResponseOp {
  if ('range' in op) return { range: view.range(op.range), revision: view.revision() };
  if ('put' in op) {
    const put = view.put!(op.put);
    return { put, revision: view.revision() };
  }
  if ('deleteRange' in op) {
    const deleteRange = view.deleteRange!(op.deleteRange);
    return { deleteRange, revision: view.revision() };
  }
  return { txn: runChosen(view, op.txn, chosen) };
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
