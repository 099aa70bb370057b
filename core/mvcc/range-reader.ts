/**
 * Range reads over the key index and the backend, with etcd's exact rules (etcd.md §2.2):
 * `count` ignores limit and filters; the limit is pushed down only for native key order without
 * filters; `more` compares what was found with the limit; a non-KEY target with order NONE sorts
 * ascending; keys_only drops values; count_only drops kvs.
 */
import { ReadTxn } from '../storage/backend';
import { DB, encodeRevisionKey } from '../storage/schema';
import { assert } from '../util/assert';
import { keyString, KeyString } from '../util/bytes';
import { decodeRecord, KeyValue } from './key-value';
import { KeyIndex, VisibleRevision } from './key-index';
import { RangeRequest, RangeResult, SortOrder, SortTarget } from './kv-types';

/** The index bounds of a request's [key, rangeEnd): `end` undefined = unbounded. */
export interface KeyBounds {
  start: KeyString;
  /** Exclusive end; undefined = to the last key; equal to start+'\0' for a single key. */
  end: KeyString | undefined;
  single: boolean;
}

/** Turns etcd's end conventions into index bounds. */
export function keyBounds(key: Buffer, rangeEnd: Buffer): KeyBounds {
  const start = keyString(key);
  if (rangeEnd.length === 0) return { start, end: start + '\0', single: true };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: undefined, single: false };
  return { start, end: keyString(rangeEnd), single: false };
}

/** Reads the record at a visible revision. */
export function readKv(txn: ReadTxn, rev: VisibleRevision, keysOnly = false): KeyValue {
  const buf = txn.get(DB.kv, encodeRevisionKey(rev.main, rev.sub));
  assert(buf, `index points at missing revision ${rev.main}.${rev.sub}`);
  const rec = decodeRecord(buf, rev.main, keysOnly);
  assert(!rec.tombstone, 'index points at a tombstone as visible');
  return rec.kv;
}

/** Runs a validated range at revision `atRev` (already checked against compaction and the future). */
export function readRange(index: KeyIndex, txn: ReadTxn, req: RangeRequest, atRev: number): RangeResult {
  const bounds = keyBounds(req.key, req.rangeEnd);
  if (bounds.end !== undefined && bounds.start >= bounds.end) return { kvs: [], more: false, count: 0 };
  const hasFilter = req.minModRevision > 0 || req.maxModRevision > 0 || req.minCreateRevision > 0 || req.maxCreateRevision > 0;
  const order = req.sortOrder === SortOrder.None && req.sortTarget !== SortTarget.Key ? SortOrder.Ascend : req.sortOrder;
  const nativeOrder = req.sortTarget === SortTarget.Key && order !== SortOrder.Descend;
  const reverseKeys = req.sortTarget === SortTarget.Key && order === SortOrder.Descend;

  if (req.countOnly) {
    let count = 0;
    for (const _ of index.rangeAt(bounds.start, bounds.end, atRev)) count++;
    return { kvs: [], more: false, count };
  }
  if (nativeOrder && !hasFilter) return pushDownLimit(index, txn, req, bounds, atRev, false);
  if (reverseKeys && !hasFilter) return pushDownLimit(index, txn, req, bounds, atRev, true);
  // etcd decides whether to fetch everything from the order as sent: with none (a sort target
  // other than the key, so ascending) and no filter, it reads only the first limit + 1 keys in
  // key order and sorts those. Clients see that from etcd 3.4 through 3.6: matched, not corrected.
  const fetchCap = req.sortOrder === SortOrder.None && req.limit > 0 && !hasFilter ? req.limit + 1 : Infinity;
  return sortAndFilter(index, txn, req, bounds, atRev, order, fetchCap);
}

/**
 * Key-ordered read: fetch records only for the keys returned, count the rest in memory (with
 * `exactCount` false, only up to the first key past the limit).
 */
function pushDownLimit(index: KeyIndex, txn: ReadTxn, req: RangeRequest, b: KeyBounds, atRev: number, reverse: boolean): RangeResult {
  const kvs: KeyValue[] = [];
  let count = 0;
  const stopAfter = req.exactCount === false && req.limit > 0 ? req.limit + 1 : Infinity;
  for (const [, rev] of index.rangeAt(b.start, b.end, atRev, reverse)) {
    if (++count >= stopAfter) break;
    if (req.limit === 0 || kvs.length < req.limit) kvs.push(readKv(txn, rev, req.keysOnly));
  }
  return { kvs, more: req.limit > 0 && count > req.limit, count };
}

/**
 * Sorted or filtered read: etcd fetches the first `fetchCap` keys (all but in one case, see
 * readRange), filters, sorts, then truncates; `count` covers every key in the range.
 */
function sortAndFilter(index: KeyIndex, txn: ReadTxn, req: RangeRequest, b: KeyBounds, atRev: number, order: SortOrder, fetchCap: number): RangeResult {
  let kvs: KeyValue[] = [];
  let count = 0;
  const needValue = !req.keysOnly || req.sortTarget === SortTarget.Value;
  for (const [, rev] of index.rangeAt(b.start, b.end, atRev)) {
    if (count === fetchCap && req.exactCount === false) break;
    if (++count > fetchCap) continue;
    if (req.minModRevision > 0 && rev.main < req.minModRevision) continue;
    if (req.maxModRevision > 0 && rev.main > req.maxModRevision) continue;
    const kv = readKv(txn, rev, !needValue);
    if (req.minCreateRevision > 0 && kv.createRevision < req.minCreateRevision) continue;
    if (req.maxCreateRevision > 0 && kv.createRevision > req.maxCreateRevision) continue;
    kvs.push(kv);
  }
  if (order !== SortOrder.None) {
    const cmp = comparator(req.sortTarget);
    kvs.sort(order === SortOrder.Descend ? (x, y) => cmp(y, x) : cmp);
  }
  let more = false;
  if (req.limit > 0 && kvs.length > req.limit) {
    kvs = kvs.slice(0, req.limit);
    more = true;
  }
  if (req.keysOnly && needValue) for (const kv of kvs) kv.value = Buffer.alloc(0);
  return { kvs, more, count };
}

function comparator(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case SortTarget.Key:
      return (a, b) => Buffer.compare(a.key, b.key);
    case SortTarget.Version:
      return (a, b) => a.version - b.version;
    case SortTarget.Create:
      return (a, b) => a.createRevision - b.createRevision;
    case SortTarget.Mod:
      return (a, b) => a.modRevision - b.modRevision;
    case SortTarget.Value:
      return (a, b) => Buffer.compare(a.value, b.value);
  }
}
