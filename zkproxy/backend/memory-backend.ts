/**
 * `MemoryBackend`: a small in-process {@link KvBackend} with etcd's semantics for what zkproxy
 * uses — revisions, per-key create/mod revision and version, guarded transactions, one ordered
 * watch feed with progress, leases that delete their keys in one revision. It is the reference
 * implementation of the interface (DESIGN: "ship a reference implementation") and lets the
 * ZooKeeper front end be tested with real clients without any other process.
 *
 * Limits: range reads serve the current state only (`revision` is ignored), and watch history
 * is kept for the last {@link HISTORY_EVENTS} events.
 */
import { randomBytes } from 'node:crypto';
import {
  KvBackend, KvCompare, KvError, KvEvent, KvLeaseInfo, KvOp, KvOpResult, KvPair, KvRangeOptions, KvRangeResult,
  KvTxn, KvTxnResult, KvWatch, KvWatchHandler, KvWatchOptions,
} from './kv-backend';

const HISTORY_EVENTS = 100_000;

interface Lease {
  id: bigint;
  ttl: number;
  expiresAt: number;
  keys: Set<string>;
}

interface Watcher {
  from: string;
  to: string | undefined;
  handler: KvWatchHandler;
  cancelled: boolean;
}

const k = (b: Buffer): string => b.toString('latin1');

/** The in-memory backend. */
export class MemoryBackend implements KvBackend {
  private readonly kvs = new Map<string, KvPair>();
  private sorted: string[] = [];
  private revision = 1;
  private readonly history: KvEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly leases = new Map<bigint, Lease>();
  private readonly timer: NodeJS.Timeout;
  private readonly id = randomBytes(8).readBigUInt64BE() >> 1n;
  private closed = false;

  /** Txns apply synchronously, in call order. */
  readonly ordersTxns = true;

  /** @param maxTxnOps etcd's --max-txn-ops */
  constructor(readonly maxTxnOps = 128) {
    this.timer = setInterval(() => this.expireLeases(), 100);
    this.timer.unref();
  }

  private check(): void {
    if (this.closed) throw new KvError('closed', 'backend closed');
  }

  private inRange(key: string, from: string, to: string | undefined): boolean {
    if (to === undefined) return key === from;
    if (to === '\0') return key >= from;
    return key >= from && key < to;
  }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private rangeNow(key: Buffer, o: KvRangeOptions = {}): KvRangeResult {
    const from = k(key);
    const to = o.rangeEnd ? k(o.rangeEnd) : undefined;
    const matched: KvPair[] = [];
    if (to === undefined) {
      const kv = this.kvs.get(from);
      if (kv) matched.push(kv);
    } else {
      for (let i = this.lowerBound(from); i < this.sorted.length; i++) {
        const s = this.sorted[i]!;
        if (!this.inRange(s, from, to)) break;
        matched.push(this.kvs.get(s)!);
      }
    }
    if (o.sortOrder === 'descend') matched.reverse();
    const count = matched.length;
    if (o.countOnly) return { revision: this.revision, kvs: [], more: false, count };
    const limited = o.limit && o.limit > 0 ? matched.slice(0, o.limit) : matched;
    const kvs = o.keysOnly ? limited.map((x) => ({ ...x, value: Buffer.alloc(0) })) : limited;
    return { revision: this.revision, kvs, more: limited.length < count, count };
  }

  async range(key: Buffer, options?: KvRangeOptions): Promise<KvRangeResult> {
    this.check();
    return this.rangeNow(key, options);
  }

  private compareOne(c: KvCompare): boolean {
    const kvs = c.rangeEnd ? this.rangeNow(c.key, { rangeEnd: c.rangeEnd }).kvs : [this.kvs.get(k(c.key))].filter((x): x is KvPair => !!x);
    if (kvs.length === 0) {
      if (c.target === 'value') return false;
      return cmp(c, { key: c.key, value: Buffer.alloc(0), createRevision: 0, modRevision: 0, version: 0, lease: 0n });
    }
    return kvs.every((kv) => cmp(c, kv));
  }

  async txn(txn: KvTxn): Promise<KvTxnResult> {
    this.check();
    if (Math.max(txn.compare.length, txn.success.length, txn.failure.length) > this.maxTxnOps) {
      throw new KvError('too-many-ops', 'etcdserver: too many operations in txn request');
    }
    const ok = txn.compare.every((c) => this.compareOne(c));
    const ops = ok ? txn.success : txn.failure;
    for (const op of ops) {
      if (op.type === 'put' && op.lease && op.lease !== 0n && !this.leases.has(op.lease)) {
        throw new KvError('lease-not-found', 'etcdserver: requested lease not found');
      }
    }
    const events: KvEvent[] = [];
    const next = this.revision + 1;
    const results = ops.map((op) => this.applyOp(op, next, events));
    if (events.length > 0) this.commit(events);
    return { revision: this.revision, succeeded: ok, results };
  }

  private applyOp(op: KvOp, rev: number, events: KvEvent[]): KvOpResult {
    switch (op.type) {
      case 'range': return { type: 'range', ...this.rangeNow(op.key, op.options) };
      case 'put': {
        const key = k(op.key);
        const prev = this.kvs.get(key);
        const kv: KvPair = {
          key: Buffer.from(op.key), value: Buffer.from(op.value), createRevision: prev?.createRevision ?? rev,
          modRevision: rev, version: (prev?.version ?? 0) + 1, lease: op.lease ?? 0n,
        };
        this.setKey(key, kv, prev);
        events.push({ type: 'put', kv, prevKv: prev });
        return { type: 'put', prevKv: op.prevKv ? prev : undefined };
      }
      case 'delete': {
        const victims = this.rangeNow(op.key, { rangeEnd: op.rangeEnd }).kvs;
        for (const v of victims) this.deleteKey(k(v.key), v, rev, events);
        return { type: 'delete', deleted: victims.length, prevKvs: op.prevKv ? victims : [] };
      }
      case 'txn': throw new KvError('invalid-argument', 'nested txn not supported');
    }
  }

  private setKey(key: string, kv: KvPair, prev: KvPair | undefined): void {
    if (!prev) this.sorted.splice(this.lowerBound(key), 0, key);
    if (prev && prev.lease !== 0n) this.leases.get(prev.lease)?.keys.delete(key);
    if (kv.lease !== 0n) this.leases.get(kv.lease)?.keys.add(key);
    this.kvs.set(key, kv);
  }

  private deleteKey(key: string, prev: KvPair, rev: number, events: KvEvent[]): void {
    this.kvs.delete(key);
    this.sorted.splice(this.lowerBound(key), 1);
    if (prev.lease !== 0n) this.leases.get(prev.lease)?.keys.delete(key);
    events.push({ type: 'delete', kv: { ...prev, value: Buffer.alloc(0), modRevision: rev, version: 0, createRevision: 0 }, prevKv: prev });
  }

  /** Bumps the revision for one batch of events and delivers it to the watchers (async, in order). */
  private commit(events: KvEvent[]): void {
    this.revision++;
    this.history.push(...events);
    // Trim in chunks: splicing a full history on every commit would cost O(history) per write.
    if (this.history.length > 2 * HISTORY_EVENTS) this.history.splice(0, this.history.length - HISTORY_EVENTS);
    for (const w of this.watchers) {
      const mine = events.filter((e) => this.inRange(k(e.kv.key), w.from, w.to));
      if (mine.length > 0) setImmediate(() => !w.cancelled && w.handler.onEvents(mine));
    }
  }

  watch(options: KvWatchOptions, handler: KvWatchHandler): KvWatch {
    const w: Watcher = { from: k(options.key), to: options.rangeEnd ? k(options.rangeEnd) : undefined, handler, cancelled: false };
    const start = options.startRevision ?? 0;
    if (start > 0 && start <= this.revision) {
      const oldest = this.history[0]?.kv.modRevision ?? this.revision + 1;
      if (start < oldest && this.history.length >= HISTORY_EVENTS) {
        setImmediate(() => handler.onClosed(new KvError('compacted', 'mvcc: required revision has been compacted')));
        return { requestProgress: () => {}, cancel: () => {} };
      }
      const past = this.history.filter((e) => e.kv.modRevision >= start && this.inRange(k(e.kv.key), w.from, w.to));
      if (past.length > 0) setImmediate(() => !w.cancelled && handler.onEvents(past));
    }
    this.watchers.add(w);
    return {
      requestProgress: () => {
        const rev = this.revision;
        setImmediate(() => !w.cancelled && handler.onProgress(rev));
      },
      cancel: () => {
        w.cancelled = true;
        this.watchers.delete(w);
      },
    };
  }

  async leaseGrant(ttlSeconds: number, id?: bigint): Promise<{ id: bigint; ttl: number }> {
    this.check();
    // An id asked for is the caller's (etcd refuses one in use); else a free random one.
    if (id && this.leases.has(id)) throw new KvError('lease-exists', 'etcdserver: lease already exists');
    let lid = id ?? 0n;
    while (lid === 0n || this.leases.has(lid)) lid = randomBytes(8).readBigUInt64BE() >> 1n;
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    this.leases.set(lid, { id: lid, ttl, expiresAt: Date.now() + ttl * 1000, keys: new Set() });
    return { id: lid, ttl };
  }

  async leaseKeepAlive(id: bigint): Promise<number> {
    this.check();
    const l = this.leases.get(id);
    if (!l) return 0;
    l.expiresAt = Date.now() + l.ttl * 1000;
    return l.ttl;
  }

  async leaseRevoke(id: bigint): Promise<void> {
    this.check();
    if (!this.revokeNow(id)) throw new KvError('lease-not-found', 'etcdserver: requested lease not found');
  }

  private revokeNow(id: bigint): boolean {
    const l = this.leases.get(id);
    if (!l) return false;
    this.leases.delete(id);
    const events: KvEvent[] = [];
    const rev = this.revision + 1;
    for (const key of [...l.keys].sort()) {
      const prev = this.kvs.get(key);
      if (prev) this.deleteKey(key, prev, rev, events);
    }
    if (events.length > 0) this.commit(events);
    return true;
  }

  async leaseTimeToLive(id: bigint, withKeys?: boolean): Promise<KvLeaseInfo> {
    this.check();
    const l = this.leases.get(id);
    if (!l) return { id, ttl: -1, grantedTtl: 0, keys: [] };
    const ttl = Math.max(0, Math.ceil((l.expiresAt - Date.now()) / 1000));
    return { id, ttl, grantedTtl: l.ttl, keys: withKeys ? [...l.keys].map((x) => Buffer.from(x, 'latin1')) : [] };
  }

  private expireLeases(): void {
    const now = Date.now();
    for (const l of [...this.leases.values()]) if (l.expiresAt <= now) this.revokeNow(l.id);
  }

  async clusterId(): Promise<bigint> {
    return this.id;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const w of this.watchers) {
      w.cancelled = true;
      setImmediate(() => w.handler.onClosed(new KvError('closed', 'backend closed')));
    }
    this.watchers.clear();
  }
}

function cmp(c: KvCompare, kv: KvPair): boolean {
  let d: number;
  switch (c.target) {
    case 'version': d = kv.version - (c.value as number); break;
    case 'create': d = kv.createRevision - (c.value as number); break;
    case 'mod': d = kv.modRevision - (c.value as number); break;
    case 'lease': d = kv.lease === c.value ? 0 : kv.lease < (c.value as bigint) ? -1 : 1; break;
    case 'value': d = Buffer.compare(kv.value, c.value as Buffer); break;
  }
  switch (c.result) {
    case 'equal': return d === 0;
    case 'not_equal': return d !== 0;
    case 'greater': return d > 0;
    case 'less': return d < 0;
  }
}
