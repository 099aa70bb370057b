/**
 * `SessionCarrier`: carries a ZooKeeper's open sessions over in a copy of its files
 * (zk-migration.ts), as ZooKeeper itself restores them when it restarts on those files. Each
 * session becomes a store lease with the same id, its ephemerals are written on that lease, and
 * a session record marked as ZooKeeper's (mapping/session-record.ts) makes the proxies accept
 * the password ZooKeeper gave it. A client that reconnects within its timeout thus carries on
 * with its session, its ephemerals (locks, leader elections, registrations) and its watches; one
 * that never comes back is expired by the proxies, which adopt the record when it arrives.
 *
 * Order matters: the leases are granted before any ephemeral is written (a key's lease must
 * exist) and kept alive while the copy runs; the records are written last, after one more
 * keep-alive, so a proxy's deadline (adoption + timeout) starts when the copy is done and the
 * lease outlives it.
 */
import { KvBackend, KvError, KvTxn } from '../backend/kv-backend';
import { KeySchema } from '../mapping/key-schema';
import { decodeSessionRecord, encodeSessionRecord } from '../mapping/session-record';
import { lastChange } from '../ops/txn-plan';
import { sessionLeaseTtl } from '../session/session-table';
import { MigrationError } from './zk-source';

/** Calls issued at once when granting, renewing or recording many sessions. */
const PARALLEL = 64;
/** Session records per txn (a compare and a put each, under etcd's default --max-txn-ops of 128). */
const RECORDS_PER_TXN = 32;

/** What became of the source's open sessions. */
export interface CarriedSessions {
  /** Sessions carried over (a dry run: that would be). */
  carried: number;
  /** The shortest and longest timeout among them, ms (0 and 0 when none). */
  timeoutsMs: { min: number; max: number };
  /** Sessions left behind, each with the reason. */
  left: string[];
}

/** The open sessions of a copy's source, as leases of the store; see the file comment. */
export class SessionCarrier {
  /** Carried sessions: id → timeout in ms. */
  private readonly granted = new Map<bigint, number>();
  private readonly left: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;
  private failure: unknown;

  private constructor(private readonly target: KvBackend, private readonly keys: KeySchema, private readonly dryRun: boolean) {}

  /**
   * Grants a lease for each of the `open` sessions (id → timeout in ms) and keeps them alive
   * until {@link finish}. A dry run grants nothing and only says which would be carried.
   */
  static async start(target: KvBackend, keys: KeySchema, open: ReadonlyMap<bigint, number>, dryRun: boolean): Promise<SessionCarrier> {
    const c = new SessionCarrier(target, keys, dryRun);
    const ids = [...open.keys()].filter((id) => c.eligible(id));
    await inChunks(ids, async (id) => {
      const timeoutMs = open.get(id)!;
      if (dryRun || (await c.grant(id, timeoutMs))) c.granted.set(id, timeoutMs);
    });
    if (!dryRun && c.granted.size > 0) c.startRenewing();
    return c;
  }

  /** Whether the ephemerals of session `id` are copied (on its lease, whose id is the session's). */
  carries(id: bigint): boolean {
    return this.granted.has(id);
  }

  /**
   * Ends the carrying once every ephemeral is written: renews each lease once more and writes
   * the session records, which the proxies adopt. Rejects with {@link MigrationError} when a
   * lease ran out meanwhile (its ephemerals are gone with it; a new run carries it again).
   */
  async finish(): Promise<CarriedSessions> {
    this.stop();
    if (this.failure !== undefined) throw this.failure;
    if (!this.dryRun) {
      await this.renewAll();
      const ids = [...this.granted.keys()];
      for (let i = 0; i < ids.length; i += RECORDS_PER_TXN) await this.record(ids.slice(i, i + RECORDS_PER_TXN));
    }
    const timeouts = [...this.granted.values()];
    const timeoutsMs = timeouts.length === 0 ? { min: 0, max: 0 } : { min: timeouts.reduce((a, b) => Math.min(a, b)), max: timeouts.reduce((a, b) => Math.max(a, b)) };
    return { carried: this.granted.size, timeoutsMs, left: [...this.left] };
  }

  /** Stops the keep-alives (the copy failed: the leases run out and take their ephemerals). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Ids the store can take as a lease id (etcd's are positive int64s). */
  private eligible(id: bigint): boolean {
    if (id > 0n && id < 1n << 63n) return true;
    this.left.push(`session 0x${BigInt.asUintN(64, id).toString(16)}: its id is no valid lease id (negative)`);
    return false;
  }

  /**
   * Grants the lease of session `id`. A lease already there is this copy's own from an earlier
   * run when its record is absent or ZooKeeper's; a Coracle session of that id (unlikely: ids
   * are time-based on both sides) keeps it, and this session stays behind.
   */
  private async grant(id: bigint, timeoutMs: number): Promise<boolean> {
    try {
      await this.target.leaseGrant(sessionLeaseTtl(timeoutMs), id);
      return true;
    } catch (e) {
      if (!(e instanceof KvError && e.code === 'lease-exists')) throw e;
    }
    const kv = (await this.target.range(this.keys.sessionKey(id))).kvs[0];
    if (kv === undefined || decodeSessionRecord(kv.value).origin === 'zookeeper') return (await this.target.leaseKeepAlive(id)) > 0;
    this.left.push(`session 0x${id.toString(16)}: the store has a session of that id already`);
    return false;
  }

  /** Renews every lease each third of the shortest TTL while the copy runs. */
  private startRenewing(): void {
    let shortest = Infinity;
    for (const timeoutMs of this.granted.values()) shortest = Math.min(shortest, sessionLeaseTtl(timeoutMs));
    this.timer = setInterval(() => {
      if (this.renewing || this.failure !== undefined) return;
      this.renewing = true;
      this.renewAll().catch((e: unknown) => void (this.failure ??= e)).finally(() => (this.renewing = false));
    }, Math.max(500, (shortest * 1000) / 3));
    this.timer.unref();
  }

  private async renewAll(): Promise<void> {
    await inChunks([...this.granted.keys()], async (id) => {
      if ((await this.target.leaseKeepAlive(id)) <= 0) {
        throw new MigrationError(`the lease of session 0x${id.toString(16)} ran out during the copy (was the store stopped?); run the copy again`);
      }
    });
  }

  /** Writes the records of `ids` (one txn; one by one when some exist from an earlier run). */
  private async record(ids: bigint[]): Promise<void> {
    const txn = (some: bigint[]): KvTxn => ({
      compare: some.map((id) => ({ key: this.keys.sessionKey(id), target: 'create', result: 'equal', value: 0 })),
      success: [...some.map((id) => ({ type: 'put' as const, key: this.keys.sessionKey(id), value: encodeSessionRecord({ timeoutMs: this.granted.get(id)!, origin: 'zookeeper' }), lease: id })), lastChange(this.keys)],
      failure: [],
    });
    if ((await this.target.txn(txn(ids))).succeeded || ids.length === 1) return;
    for (const id of ids) await this.target.txn(txn([id]));
  }
}

/** Runs `work` on every item, at most {@link PARALLEL} at once; the first failure rejects. */
async function inChunks<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += PARALLEL) await Promise.all(items.slice(i, i + PARALLEL).map(work));
}
