/**
 * One MVCC write transaction: every write in it shares one main revision, each op takes the next
 * sub revision, and later ops see earlier ones (etcd.md §2.1, §2.4). It runs inside a backend
 * write transaction owned by the applier; the store's readable revision only moves when that
 * backend transaction is durable.
 *
 * Contract: callers validate requests first (see `validateWrite`); an op here never fails half
 * way through. A throw is a broken invariant and aborts the whole backend transaction.
 */
import { WriteTxn } from '../storage/backend';
import { DB, encodeRevisionKey, META, encodeIndex } from '../storage/schema';
import { assert } from '../util/assert';
import { CoreError } from '../util/core-error';
import { keyBytes, keyString, KeyString } from '../util/bytes';
import { encodePutRecord, encodeTombstoneRecord, KeyValue } from './key-value';
import { KeyIndex } from './key-index';
import { DeleteRangeRequest, DeleteRangeResult, KvEvent, PutRequest, PutResult, RangeRequest, RangeResult } from './kv-types';
import { keyBounds, readKv, readRange } from './range-reader';
import type { KeyMeta } from './txn-runner';

/**
 * What the key-value store needs from the lessor (the consumer declares the interface, as etcd's
 * lease package declares `RangeDeleter`): lease existence and key attachment bookkeeping.
 */
export interface LeaseAttacher {
  /** True when the lease exists now. */
  hasLease(id: bigint): boolean;
  /** Records that `key` is now attached to `id`. */
  attach(id: bigint, key: KeyString): void;
  /** Records that `key` is no longer attached to `id`. */
  detach(id: bigint, key: KeyString): void;
}

/** A write transaction at revision `main`. */
export class KvWriteTxn {
  /** Events produced, in op order, for the watch hub. */
  readonly events: KvEvent[] = [];
  private sub = 0;

  constructor(
    private readonly index: KeyIndex,
    private readonly txn: WriteTxn,
    private readonly leases: LeaseAttacher,
    /** The revision this transaction writes at: the store's current revision + 1. */
    readonly main: number,
    /** The store's compaction revision: reads below it fail. */
    private readonly compacted: number,
  ) {}

  /** True once any op has written. */
  get changed(): boolean {
    return this.sub > 0;
  }

  /** The store revision as of now: the one before this transaction until it has written. */
  revision(): number {
    return this.changed ? this.main : this.main - 1;
  }

  /**
   * Throws for a range at a revision above the store's before this transaction (etcd validates a
   * txn's ranges against that, so its own writes cannot be asked for by revision) or below the
   * compaction.
   */
  checkRange(req: RangeRequest): void {
    if (req.revision > this.main - 1) throw new CoreError('future-revision');
    if (req.revision > 0 && req.revision < this.compacted) throw new CoreError('compacted');
  }

  /** Reads at the requested revision, or now, seeing this transaction's own writes; call {@link checkRange} first. */
  range(req: RangeRequest): RangeResult {
    return readRange(this.index, this.txn, req, req.revision > 0 ? req.revision : this.main);
  }

  /** The newest state of `key` (this transaction's own writes included), or null when absent. */
  keyMeta(key: Buffer): KeyMeta | null {
    const h = this.index.history(keyString(key));
    if (h === undefined || !h.live) return null;
    return { createRevision: h.createRevision, modRevision: h.lastMain, version: h.version, lease: h.lease };
  }

  /**
   * Checks that a put can run: ignore_* need the key, then its lease must exist (the order etcd
   * 3.4 checks a put inside a Txn in). Throws {@link CoreError}.
   */
  checkPut(req: PutRequest): void {
    const h = this.index.history(keyString(req.key));
    const live = h !== undefined && h.live;
    if ((req.ignoreValue || req.ignoreLease) && !live) throw new CoreError('key-not-found');
    this.checkLease(req.ignoreLease ? h!.lease : req.lease);
  }

  /** Throws `lease-not-found` unless `lease` is 0 or exists. */
  checkLease(lease: bigint): void {
    if (lease !== 0n && !this.leases.hasLease(lease)) throw new CoreError('lease-not-found');
  }

  /** Writes a put; call {@link checkPut} first. */
  put(req: PutRequest): PutResult {
    const k = keyString(req.key);
    const h = this.index.history(k);
    const prevLive = h !== undefined && h.live;
    let prev: KeyValue | undefined;
    if (prevLive && (req.prevKv || req.ignoreValue)) prev = this.current(k);
    const value = req.ignoreValue ? prev!.value : req.value;
    const lease = req.ignoreLease ? h!.lease : req.lease;
    const oldLease = prevLive ? h!.lease : 0n;
    const createRevision = prevLive ? h!.createRevision : this.main;
    const version = prevLive ? h!.version + 1 : 1;
    const sub = this.sub++;
    this.txn.put(DB.kv, encodeRevisionKey(this.main, sub), encodePutRecord(req.key, createRevision, version, lease, value));
    this.index.put(k, this.main, sub, createRevision, version, lease);
    if (oldLease !== lease) {
      if (oldLease !== 0n) this.leases.detach(oldLease, k);
      if (lease !== 0n) this.leases.attach(lease, k);
    }
    this.events.push({
      type: 'put',
      kv: { key: req.key, createRevision, modRevision: this.main, version, value, lease },
    });
    return req.prevKv && prev ? { prevKv: prev } : {};
  }

  /** Deletes every live key in the range. Deleting nothing writes nothing (no revision bump). */
  deleteRange(req: DeleteRangeRequest): DeleteRangeResult {
    const b = keyBounds(req.key, req.rangeEnd);
    if (b.end !== undefined && b.start >= b.end) return { deleted: 0, prevKvs: [] };
    const keys: KeyString[] = [];
    for (const [k] of this.index.rangeAt(b.start, b.end, this.main)) keys.push(k);
    const prevKvs: KeyValue[] = [];
    for (const k of keys) {
      if (req.prevKv) prevKvs.push(this.current(k));
      this.deleteKey(k);
    }
    return { deleted: keys.length, prevKvs };
  }

  /** Deletes one live key (lease revoke uses this for each attached key). */
  deleteKey(k: KeyString): void {
    const h = this.index.history(k);
    assert(h && h.live, 'deleteKey of a key that is not live');
    const key = keyBytes(k);
    const sub = this.sub++;
    if (h.lease !== 0n) this.leases.detach(h.lease, k);
    this.txn.put(DB.kv, encodeRevisionKey(this.main, sub), encodeTombstoneRecord(key));
    this.index.tombstone(k, this.main, sub);
    this.events.push({
      type: 'delete',
      kv: { key, createRevision: 0, modRevision: this.main, version: 0, value: EMPTY, lease: 0n },
    });
  }

  /** Records the new current revision if anything was written; returns the store revision after the txn. */
  finish(): number {
    if (!this.changed) return this.main - 1;
    this.txn.put(DB.meta, META.currentRevision, encodeIndex(this.main));
    return this.main;
  }

  private current(k: KeyString): KeyValue {
    const v = this.index.visibleAt(k, this.main);
    assert(v, 'current() of a key that is not live');
    return readKv(this.txn, v);
  }
}

const EMPTY = Buffer.alloc(0);
