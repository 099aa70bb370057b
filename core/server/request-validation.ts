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

/**
 * Txn: op limit (recursive, against the remaining budget), each op valid (nested txns
 * included), then no duplicate writes per branch: etcd checks every op before any overlap.
 */
export function checkTxn(t: TxnRequest, maxTxnOps: number): void {
  checkTxnValid(t, maxTxnOps);
  writesOf(t.success);
  writesOf(t.failure);
}

function checkTxnValid(t: TxnRequest, maxTxnOps: number): void {
  checkTxnOps(t, maxTxnOps);
  for (const c of t.compare) if (c.key.length === 0) throw new CoreError('key-not-provided');
  checkBranch(t.success, maxTxnOps);
  checkBranch(t.failure, maxTxnOps);
}

function checkTxnOps(t: TxnRequest, max: number): void {
  if (Math.max(t.compare.length, t.success.length, t.failure.length) > max) throw new CoreError('too-many-ops');
}

function checkBranch(ops: RequestOp[], max: number): void {
  for (const op of ops) {
    if ('range' in op) checkRange(op.range);
    else if ('put' in op) checkPut(op.put);
    else if ('deleteRange' in op) checkDeleteRange(op.deleteRange);
    else checkTxnValid(op.txn, max);
  }
}

/** A deleted range [start, end); `end` undefined for a single key. */
type Deleted = readonly [start: string, end: string | undefined];

/**
 * The keys `ops` put and the ranges they delete, nested txns included; throws `duplicate-key`
 * where etcd 3.4's overlap check does. A key may be put once, and not inside a range deleted at
 * its level or above, nor in a nested txn's branch. The two branches of a nested txn exclude each
 * other, so a key may be put in both, and one branch's deletes do not meet the other's puts. An
 * end of "\0" ("to the last key" elsewhere) is taken as etcd's check takes it: a plain key below
 * every start, so such a delete never meets a put.
 */
function writesOf(ops: RequestOp[]): { puts: Set<string>; dels: Deleted[] } {
  const dels: Deleted[] = [];
  for (const op of ops) {
    if ('deleteRange' in op) dels.push([keyString(op.deleteRange.key), op.deleteRange.rangeEnd.length === 0 ? undefined : keyString(op.deleteRange.rangeEnd)]);
  }
  const puts = new Set<string>();
  for (const op of ops) {
    if (!('txn' in op)) continue;
    const then = writesOf(op.txn.success);
    const other = writesOf(op.txn.failure);
    for (const k of then.puts) addPut(puts, dels, k);
    for (const k of other.puts) {
      if (puts.has(k) && !then.puts.has(k)) throw new CoreError('duplicate-key');
      if (deletedIn(dels, k)) throw new CoreError('duplicate-key');
      puts.add(k);
    }
    dels.push(...then.dels, ...other.dels);
  }
  for (const op of ops) if ('put' in op) addPut(puts, dels, keyString(op.put.key));
  return { puts, dels };
}

function addPut(puts: Set<string>, dels: readonly Deleted[], k: string): void {
  if (puts.has(k) || deletedIn(dels, k)) throw new CoreError('duplicate-key');
  puts.add(k);
}

function deletedIn(dels: readonly Deleted[], k: string): boolean {
  return dels.some(([start, end]) => (end === undefined ? k === start : k >= start && k < end));
}
