/**
 * The lessor: every lease, its TTL, its expiry and its attached keys (etcd.md §2.7).
 *
 * Rules kept from etcd:
 * - Grants and revokes are applied from the log, so every member holds the same leases.
 * - Expiry is decided only by the primary (the leader): followers hold every lease "forever".
 *   The primary finds expired leases and *proposes* their revocation through the log; nothing
 *   is deleted locally (etcd.md §7.7).
 * - When a member becomes primary (including a restart of a single member), every lease is
 *   refreshed to its full TTL plus an extension (one election timeout), unless a checkpointed
 *   remaining TTL is known, so keys never expire early because of a leader change.
 * - Renewal (keep-alive) happens on the primary only and is not logged.
 * Time comes from an injected {@link Clock}; this file never reads the wall clock.
 */
import { WriteTxn, ReadTxn } from '../storage/backend';
import { DB, encodeU64, decodeU64 } from '../storage/schema';
import { assert } from '../util/assert';
import { Clock } from '../util/clock';
import { CoreError } from '../util/core-error';
import { KeyString } from '../util/bytes';
import { MAX_LEASE_TTL_SECONDS } from '../util/limits';
import { LeaseAttacher } from '../mvcc/kv-write-txn';

/** One lease. */
export interface Lease {
  readonly id: bigint;
  /** Granted TTL in seconds (after the minimum was applied). */
  ttl: number;
  /** Remaining TTL (seconds) last checkpointed through the log; 0 = none. */
  remainingTtl: number;
  /** Monotonic ms when it expires; Infinity while this member is not primary. */
  expiryMs: number;
  /** Attached keys. */
  readonly keys: Set<KeyString>;
}

/** Lease state for TimeToLive. */
export interface LeaseTimeToLive {
  id: bigint;
  /** Whole seconds remaining; -1 when the lease does not exist. */
  ttl: number;
  grantedTtl: number;
  keys: KeyString[];
}

/** The lessor. */
export class Lessor implements LeaseAttacher {
  private readonly leases = new Map<bigint, Lease>();
  private primary = false;

  /**
   * @param minTtlSeconds etcd's minimum TTL: ceil(1.5 × election timeout) (2 s with defaults).
   */
  constructor(
    private readonly clock: Clock,
    readonly minTtlSeconds: number,
  ) {
    assert(minTtlSeconds >= 1, 'minimum lease TTL must be at least 1s');
  }

  /** True while this member decides expiry. */
  get isPrimary(): boolean {
    return this.primary;
  }

  /** Number of leases. */
  get size(): number {
    return this.leases.size;
  }

  /** Loads persisted leases and the key attachments found by the store, replacing what it held. */
  load(txn: ReadTxn, attachments: Array<{ lease: bigint; key: KeyString }>): void {
    this.leases.clear();
    for (const { key, value } of txn.iterate(DB.lease)) {
      const id = BigInt.asIntN(64, decodeU64(key));
      this.leases.set(id, { id, ttl: Number(value.readBigInt64BE(0)), remainingTtl: Number(value.readBigInt64BE(8)), expiryMs: Infinity, keys: new Set() });
    }
    for (const a of attachments) this.leases.get(a.lease)?.keys.add(a.key);
  }

  hasLease(id: bigint): boolean {
    return this.leases.has(id);
  }

  attach(id: bigint, key: KeyString): void {
    const l = this.leases.get(id);
    assert(l, `attach to unknown lease ${id}`);
    l.keys.add(key);
  }

  detach(id: bigint, key: KeyString): void {
    this.leases.get(id)?.keys.delete(key);
  }

  /** Validates a grant before proposing it (etcd checks the TTL at the API layer). */
  checkGrantTtl(ttl: number): void {
    if (ttl > MAX_LEASE_TTL_SECONDS) throw new CoreError('lease-ttl-too-large');
  }

  /** Applies a grant; returns the effective TTL. Throws lease-exists. */
  grant(txn: WriteTxn, id: bigint, ttl: number): number {
    if (this.leases.has(id)) throw new CoreError('lease-exists');
    const effective = Math.max(ttl, this.minTtlSeconds);
    const lease: Lease = { id, ttl: effective, remainingTtl: 0, expiryMs: Infinity, keys: new Set() };
    if (this.primary) lease.expiryMs = this.clock.nowMs() + effective * 1000;
    this.leases.set(id, lease);
    persist(txn, lease);
    return effective;
  }

  /**
   * Applies a revoke: returns the attached keys (sorted) for the caller to delete in one
   * revision, and removes the lease. Throws lease-not-found.
   */
  revoke(txn: WriteTxn, id: bigint): KeyString[] {
    const l = this.leases.get(id);
    if (!l) throw new CoreError('lease-not-found');
    const keys = [...l.keys].sort();
    this.leases.delete(id);
    txn.del(DB.lease, encodeU64(id));
    return keys;
  }

  /** Applies checkpoints of remaining TTLs (so a new primary does not reset them to full). */
  checkpoint(txn: WriteTxn, checkpoints: Array<{ id: bigint; remainingTtl: number }>): void {
    for (const c of checkpoints) {
      const l = this.leases.get(c.id);
      if (!l) continue;
      l.remainingTtl = c.remainingTtl;
      if (this.primary) l.expiryMs = this.clock.nowMs() + c.remainingTtl * 1000;
      persist(txn, l);
    }
  }

  /** Renews on the primary; returns the granted TTL, or 0 when the lease does not exist (etcd answers TTL 0). */
  renew(id: bigint): number {
    const l = this.leases.get(id);
    if (!l) return 0;
    if (!this.primary) throw new CoreError('not-leader');
    if (l.expiryMs <= this.clock.nowMs()) return 0; // expired; its revoke is on the way
    l.remainingTtl = 0;
    l.expiryMs = this.clock.nowMs() + l.ttl * 1000;
    return l.ttl;
  }

  /** TimeToLive: whole seconds remaining (truncated, as etcd), -1 when unknown. */
  timeToLive(id: bigint): LeaseTimeToLive {
    const l = this.leases.get(id);
    if (!l) return { id, ttl: -1, grantedTtl: 0, keys: [] };
    const remainingMs = l.expiryMs === Infinity ? l.ttl * 1000 : Math.max(0, l.expiryMs - this.clock.nowMs());
    return { id, ttl: Math.floor(remainingMs / 1000), grantedTtl: l.ttl, keys: [...l.keys].sort() };
  }

  /** Every lease id. */
  ids(): bigint[] {
    return [...this.leases.keys()];
  }

  /** Becomes primary: every lease expires after its (remaining or full) TTL plus `extendMs`. */
  promote(extendMs: number): void {
    this.primary = true;
    const now = this.clock.nowMs();
    for (const l of this.leases.values()) {
      const ttl = l.remainingTtl > 0 ? l.remainingTtl : l.ttl;
      l.expiryMs = now + ttl * 1000 + extendMs;
    }
  }

  /** Stops being primary: leases no longer expire here. */
  demote(): void {
    this.primary = false;
    for (const l of this.leases.values()) l.expiryMs = Infinity;
  }

  /** Up to `max` expired leases (primary only), oldest expiry first, for the caller to revoke through the log. */
  expired(max: number): bigint[] {
    if (!this.primary) return [];
    const now = this.clock.nowMs();
    const out: Lease[] = [];
    for (const l of this.leases.values()) if (l.expiryMs <= now) out.push(l);
    out.sort((a, b) => a.expiryMs - b.expiryMs);
    return out.slice(0, max).map((l) => l.id);
  }

  /** Remaining TTLs of leases, for a checkpoint proposal (primary only). */
  remainingTtls(max: number): Array<{ id: bigint; remainingTtl: number }> {
    if (!this.primary) return [];
    const now = this.clock.nowMs();
    const out: Array<{ id: bigint; remainingTtl: number }> = [];
    for (const l of this.leases.values()) {
      if (out.length >= max) break;
      const remaining = Math.ceil((l.expiryMs - now) / 1000);
      if (remaining > 0 && remaining < l.ttl) out.push({ id: l.id, remainingTtl: remaining });
    }
    return out;
  }
}

function persist(txn: WriteTxn, l: Lease): void {
  const v = Buffer.allocUnsafe(16);
  v.writeBigInt64BE(BigInt(l.ttl), 0);
  v.writeBigInt64BE(BigInt(l.remainingTtl), 8);
  txn.put(DB.lease, encodeU64(l.id), v);
}
