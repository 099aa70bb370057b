/**
 * Checks done before a request is proposed, exactly as etcd does them at the API layer
 * (etcd.md §2.3–2.4): empty keys, ignore_* combinations, the txn op limit (recursive) and the
 * duplicate-key rule per branch. Failures throw {@link CoreError}; nothing reaches the log.
 */
import { CoreError } from '../util/core-error';
import { keyString } from '../util/bytes';
import { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../mvcc/kv-types';

/** Range: key required. */
export function checkRange(r: RangeRequest): void {
  if (r.key.length === 0) throw new CoreError('key-not-provided');
  if (r.sortOrder < 0 || r.sortOrder > 2 || r.sortTarget < 0 || r.sortTarget > 4) throw new CoreError('invalid-sort-option');
}

/** Put: key required; ignore_value/ignore_lease exclude a value/lease. */
export function checkPut(p: PutRequest): void {
  if (p.key.length === 0) throw new CoreError('key-not-provided');
  if (p.ignoreValue && p.value.length !== 0) throw new CoreError('value-provided');
  if (p.ignoreLease && p.lease !== 0n) throw new CoreError('lease-provided');
}

/** DeleteRange: key required. */
export function checkDeleteRange(d: DeleteRangeRequest): void {
  if (d.key.length === 0) throw new CoreError('key-not-provided');
}

/** Txn: op limit (recursive, against the remaining budget), each op valid, no duplicate writes per branch. */
export function checkTxn(t: TxnRequest, maxTxnOps: number): void {
  checkTxnOps(t, maxTxnOps);
  for (const c of t.compare) if (c.key.length === 0) throw new CoreError('key-not-provided');
  checkBranch(t.success, maxTxnOps);
  checkBranch(t.failure, maxTxnOps);
  checkDuplicates(t.success);
  checkDuplicates(t.failure);
}

function checkTxnOps(t: TxnRequest, max: number): void {
  if (Math.max(t.compare.length, t.success.length, t.failure.length) > max) throw new CoreError('too-many-ops');
}

function checkBranch(ops: RequestOp[], max: number): void {
  for (const op of ops) {
    if ('range' in op) checkRange(op.range);
    else if ('put' in op) checkPut(op.put);
    else if ('deleteRange' in op) checkDeleteRange(op.deleteRange);
    else checkTxn(op.txn, max);
  }
}

/**
 * Within one branch a key may be put once, and a put may not fall inside a deleted range
 * (nested txns included; puts in sibling then/else branches of a nested txn are fine).
 */
function checkDuplicates(ops: RequestOp[]): void {
  const puts = new Set<string>();
  const deletes: Array<[string, string | undefined]> = [];
  collectWrites(ops, puts, deletes);
  for (const k of puts) {
    for (const [start, end] of deletes) {
      if (end === undefined ? k === start : k >= start && (end === '\0' || k < end)) throw new CoreError('duplicate-key');
    }
  }
}

function collectWrites(ops: RequestOp[], puts: Set<string>, deletes: Array<[string, string | undefined]>): void {
  for (const op of ops) {
    if ('put' in op) {
      const k = keyString(op.put.key);
      if (puts.has(k)) throw new CoreError('duplicate-key');
      puts.add(k);
    } else if ('deleteRange' in op) {
      const d = op.deleteRange;
      deletes.push([keyString(d.key), d.rangeEnd.length === 0 ? undefined : keyString(d.rangeEnd)]);
    } else if ('txn' in op) {
      // Each nested branch is checked against the writes of this branch separately.
      const sPuts = new Set(puts);
      const sDel = [...deletes];
      collectWrites(op.txn.success, sPuts, sDel);
      const fPuts = new Set(puts);
      const fDel = [...deletes];
      collectWrites(op.txn.failure, fPuts, fDel);
      for (const k of sPuts) puts.add(k);
      for (const k of fPuts) puts.add(k);
      deletes.push(...sDel.slice(deletes.length), ...fDel.slice(deletes.length));
    }
  }
}
