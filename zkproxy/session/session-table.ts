/**
 * `SessionTable`: ZooKeeper sessions of this proxy (zk-protocol.md §2.1; DESIGN §5).
 *
 * A session IS a store lease: the session id is the lease id, the password is derived from it
 * (session-password.ts). Liveness is driven by client traffic, not by TCP: every packet
 * touches the session; the lease is kept alive at most every timeout/3 while traffic flows;
 * the proxy expires the session itself when `timeout` passes without a packet — removing its
 * ephemerals in one revision with the parents' pzxid/cversion updated — and only then revokes
 * the lease. The lease outlives the ZooKeeper timeout by a margin so the store does not expire
 * it first; if every proxy dies, the store's lease expiry is the fallback.
 *
 * Several proxies may know one session (the client reconnected elsewhere). Before expiring, a
 * proxy asks the store how long the lease has left: if someone renewed it after us, the session
 * lives on elsewhere and we only forget it.
 *
 * A proxy that cannot renew a session (its member is cut off from the quorum, or its etcd is
 * unreachable) must not keep the client: answering its pings from here would keep it attached
 * while the lease runs out in the majority, and it would learn nothing until long after its
 * ephemerals were gone. So, as a ZooKeeper server that loses quorum closes its connections, the
 * connection of a session whose keep-alives have failed (or gone unanswered) for
 * {@link ZK_UNRENEWED_CLOSE_FRACTION} of its timeout is closed: the client moves to another
 * server while the lease still holds. A keep-alive that finds the lease gone (expired in the
 * store) closes the connection too, so the client reconnects and is told the session expired.
 * A resume the store cannot confirm is an error (the connection closes without an answer, as a
 * ZooKeeper server that is not serving does), never "expired": only the store can say that.
 */
import { KvBackend, KvError, KvTxn } from '../backend/kv-backend';
import { ZkLogger } from '../logger';
import { ZK_EXPIRY_RETRY_FIRST_MS, ZK_EXPIRY_RETRY_MAX_MS, ZK_LEASE_MARGIN_SECONDS, ZK_UNRENEWED_CLOSE_FRACTION } from '../limits';
import { KeySchema } from '../mapping/key-schema';
import { ZnodeTree } from '../mapping/znode-tree';
import { ChangeFeed } from '../watch/change-feed';
import { TxnPlan, lastChange } from '../ops/txn-plan';
import { WriteRunner } from '../ops/write-runner';
import { parentOf } from '../mapping/path-rules';
import { passwordMatches, sessionPassword } from './session-password';
import { zooKeeperPassword, zooKeeperPasswordMatches } from './zookeeper-password';
import { SessionOrigin, encodeSessionRecord } from '../mapping/session-record';

/**
 * The lease TTL (s) of a session with timeout `timeoutMs`: keep-alives are sent at most every
 * timeout/3, so the lease must outlive timeout + timeout/3, plus a margin so that the store's
 * expiry never comes before the proxy's own.
 */
export function sessionLeaseTtl(timeoutMs: number): number {
  return Math.ceil((timeoutMs * 4) / 3 / 1000) + ZK_LEASE_MARGIN_SECONDS;
}

/** What a session needs from the connection that currently carries it. */
export interface SessionOwner {
  /** Closes the connection (session expired, or moved to another connection). */
  closeConnection(reason: string): void;
}

/** One ZooKeeper session. */
export interface Session {
  readonly id: bigint;
  readonly passwd: Buffer;
  timeoutMs: number;
  leaseTtl: number;
  lastSeen: number;
  lastKeepAlive: number;
  /**
   * When the oldest keep-alive not yet followed by a successful one was sent; undefined while
   * renewals succeed. Its age tells how long this proxy has been unable to renew the session.
   */
  unrenewedSince: number | undefined;
  owner: SessionOwner | undefined;
  /** Set once closing/expiring started: no new request may run. */
  closing: boolean;
  /** A read-only session (read-only-sessions.ts): held by this proxy alone, no lease. */
  readonly readOnly?: boolean;
  /** Failed attempts to expire the session in a row, and when the next may start (backoff). */
  expiryFailures?: number;
  expiryRetryAt?: number;
}

/**
 * Moves session `s` to the connection `owner`, closing the one that carried it before
 * (ZooKeeper closes the stale connection of a session resumed elsewhere too).
 */
export function attachOwner(s: Session, owner: SessionOwner): void {
  if (s.owner && s.owner !== owner) s.owner.closeConnection('session moved to a new connection');
  s.owner = owner;
}

/** Tunables of session handling. */
export interface SessionOptions {
  minTimeoutMs: number;
  maxTimeoutMs: number;
  maxTxnOps: number;
  /** How often deadlines are checked. */
  checkIntervalMs?: number;
  now?: () => number;
}

/** The sessions this proxy knows. */
export class SessionTable {
  private readonly sessions = new Map<bigint, Session>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(
    private readonly backend: KvBackend,
    private readonly keys: KeySchema,
    private readonly feed: ChangeFeed,
    private readonly writes: WriteRunner,
    private readonly opts: SessionOptions,
    private readonly logger: ZkLogger,
  ) {
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.checkDeadlines(), opts.checkIntervalMs ?? 200);
    this.timer.unref();
  }

  private get tree(): ZnodeTree {
    return this.feed.tree;
  }

  /** The timeout ZooKeeper would grant for `requested` ms (clamped to [min, max]). */
  negotiate(requested: number): number {
    return Math.min(this.opts.maxTimeoutMs, Math.max(this.opts.minTimeoutMs, requested));
  }

  /** Number of live sessions known here. */
  size(): number {
    return this.sessions.size;
  }

  /** Each live session known here with its deadline (ms since the epoch): the AdminServer's dump. */
  expiries(): { id: bigint; expiresAt: number }[] {
    return [...this.sessions.values()].filter((s) => !s.closing).map((s) => ({ id: s.id, expiresAt: s.lastSeen + s.timeoutMs }));
  }

  /** The session with `id`, if known here. */
  get(id: bigint): Session | undefined {
    return this.sessions.get(id);
  }

  private secret(): Buffer {
    const s = this.tree.secret;
    if (!s) throw new KvError('unavailable', 'cluster secret not loaded');
    return s;
  }

  /** The longest session timeout a lease of `ttl` seconds can carry (inverse of {@link sessionLeaseTtl}). */
  private maxTimeoutForLease(ttl: number): number {
    return Math.floor(((ttl - ZK_LEASE_MARGIN_SECONDS) * 3 * 1000) / 4);
  }

  /**
   * A fresh session record, seen and renewed `now`. Its password is the one its client holds:
   * derived from the cluster secret, or ZooKeeper's for a session carried over from one.
   */
  private record(id: bigint, timeoutMs: number, leaseTtl: number, owner: SessionOwner | undefined, now: number, origin: SessionOrigin = 'coracle'): Session {
    return {
      id, passwd: origin === 'zookeeper' ? zooKeeperPassword(id) : sessionPassword(this.secret(), id), timeoutMs, leaseTtl,
      lastSeen: now, lastKeepAlive: now, unrenewedSince: undefined, owner, closing: false,
    };
  }

  /** Creates a session: a lease plus a session record attached to it. */
  async create(timeoutMs: number, owner: SessionOwner): Promise<Session> {
    const ttl = sessionLeaseTtl(timeoutMs);
    const value = encodeSessionRecord({ timeoutMs, origin: 'coracle' });
    const recordTxn = (id: bigint): KvTxn => ({ compare: [], success: [{ type: 'put', key: this.keys.sessionKey(id), value, lease: id }, lastChange(this.keys)], failure: [] });
    let leaseId: bigint;
    let revision: number;
    if (this.backend.grantThenTxn) {
      // One durable round for the lease and the record (a reconnect storm is all handshakes).
      const out = await this.backend.grantThenTxn(ttl, recordTxn);
      leaseId = out.lease.id;
      revision = out.txn.revision;
    } else {
      leaseId = (await this.backend.leaseGrant(ttl)).id;
      revision = (await this.backend.txn(recordTxn(leaseId))).revision;
    }
    // ZooKeeper answers the handshake once createSession is applied, so no later reply of any
    // session can carry an older zxid; the replica must have the record's revision too.
    await this.feed.reach(revision);
    const now = this.now();
    const s = this.record(leaseId, timeoutMs, ttl, owner, now);
    this.sessions.set(s.id, s);
    return s;
  }

  /**
   * Resumes session `id` on a new connection, or undefined when the password is wrong or the
   * lease is gone (the client then sees an expired session). Any older connection of the
   * session on this proxy is closed (ZooKeeper closes the stale connection too). Rejects with
   * `unavailable` when the store cannot tell (its keep-alive failed) or the session is being
   * closed here right now: the caller closes without an answer and the client tries again,
   * elsewhere or later, instead of being told "expired" about a session that may be alive.
   */
  async resume(id: bigint, passwd: Buffer, timeoutMs: number, owner: SessionOwner): Promise<Session | undefined> {
    const origin = await this.originByPassword(id, passwd);
    if (!origin) return undefined;
    const local = this.sessions.get(id);
    if (local?.closing) throw new KvError('unavailable', 'session is being closed here');
    const ttl = await this.backend.leaseKeepAlive(id);
    if (ttl <= 0) {
      this.sessions.delete(id);
      return undefined;
    }
    const now = this.now();
    const s = local ?? this.record(id, timeoutMs, ttl, undefined, now, origin);
    attachOwner(s, owner);
    // A lease's TTL is fixed at grant: a longer timeout asked on reconnect is negotiated down to
    // what the lease can cover (ZooKeeper clients accept the negotiated value).
    s.leaseTtl = ttl;
    s.timeoutMs = Math.max(this.opts.minTimeoutMs, Math.min(timeoutMs, this.maxTimeoutForLease(ttl)));
    s.lastSeen = now;
    s.lastKeepAlive = now;
    s.unrenewedSince = undefined;
    this.sessions.set(id, s);
    return s;
  }

  /**
   * Starts tracking every session recorded in the store that this proxy does not know (called
   * once the tree is loaded). A proxy that restarts thus still expires the sessions of clients
   * that never came back — deleting their ephemerals with the parents' pzxid moved — instead of
   * leaving that to the store's lease expiry. Sessions alive on another proxy are recognised at
   * their deadline (their lease was renewed) and forgotten.
   */
  adoptRecorded(): number {
    let n = 0;
    const now = this.now();
    for (const id of this.tree.sessions().keys()) if (this.adopt(id, now)) n++;
    return n;
  }

  /**
   * Starts tracking session `id` as its record says, unless known here already or gone; false
   * then. From its adoption on, the session has its full timeout for its client to come back.
   */
  private adopt(id: bigint, now: number): boolean {
    const r = this.tree.sessions().get(id);
    if (!r || this.sessions.has(id)) return false;
    this.sessions.set(id, this.record(id, r.timeoutMs, sessionLeaseTtl(r.timeoutMs), undefined, now, r.origin));
    return true;
  }

  /**
   * Which password `passwd` is for session `id`: the cluster secret's, ZooKeeper's for a session
   * carried over from one (its record says so), or neither (undefined). The record is looked
   * up after a catch-up when not seen yet: a client may come back as soon as zk-migrate wrote it.
   */
  private async originByPassword(id: bigint, passwd: Buffer): Promise<SessionOrigin | undefined> {
    if (passwordMatches(this.secret(), id, passwd)) return 'coracle';
    if (!zooKeeperPasswordMatches(id, passwd)) return undefined;
    if (!this.tree.sessions().has(id)) await this.feed.catchUp();
    return this.tree.sessions().get(id)?.origin === 'zookeeper' ? 'zookeeper' : undefined;
  }

  /** Client traffic on the session: push the deadline, keep the lease alive (throttled). */
  touch(s: Session): void {
    const now = this.now();
    s.lastSeen = now;
    // A session the store could not expire came back: its next deadline starts a fresh backoff.
    if (s.expiryFailures !== undefined) s.expiryFailures = s.expiryRetryAt = undefined;
    this.renewIfDue(s, now);
  }

  /**
   * Sends a keep-alive if the last one is a third of the timeout old. Also called by the
   * deadline timer for traffic seen since the last keep-alive, so renewals follow every timeout/3
   * whatever the phase of the client's pings (else up to 2/3 apart), and a failing store is
   * noticed within that time.
   */
  private renewIfDue(s: Session, now: number): void {
    if (s.closing || now - s.lastKeepAlive < Math.min(s.timeoutMs, s.leaseTtl * 1000) / 3) return;
    s.lastKeepAlive = now;
    s.unrenewedSince ??= now;
    this.backend.leaseKeepAlive(s.id).then((ttl) => {
      // Renewed as of `now`: whatever failed before is superseded.
      if (ttl > 0) s.unrenewedSince = undefined;
      else this.leaseGone(s);
    }, (e: unknown) => {
      // A later attempt may have succeeded meanwhile and cleared the mark: this one counts from its own start.
      s.unrenewedSince ??= now;
      this.logger.warn({ session: s.id.toString(16), err: String(e) }, 'lease keep-alive failed');
    });
  }

  /**
   * The store no longer has the session's lease (it expired there, e.g. while this proxy was
   * cut off): forget the session and close its connection, so that the client reconnects and
   * is told it expired (a resume finds no lease) instead of talking to a dead session.
   */
  private leaseGone(s: Session): void {
    if (s.closing || this.sessions.get(s.id) !== s) return;
    this.logger.info({ session: s.id.toString(16) }, 'session lease gone from the store; closing its connection');
    s.closing = true;
    this.sessions.delete(s.id);
    s.owner?.closeConnection('session expired in the store');
  }

  /** The connection carrying `s` went away; the session lives on until its deadline. */
  detach(s: Session, owner: SessionOwner): void {
    if (s.owner === owner) s.owner = undefined;
  }

  private checkDeadlines(): void {
    const now = this.now();
    // Sessions zk-migrate carried over while this proxy ran: no proxy opened them.
    for (const id of this.tree.takeCarriedArrivals()) {
      if (this.adopt(id, now)) this.logger.info({ session: id.toString(16) }, 'session carried over from ZooKeeper adopted; it expires unless its client comes back within its timeout');
    }
    for (const s of this.sessions.values()) {
      if (s.closing) continue;
      if (now - s.lastSeen > s.timeoutMs) {
        if (now >= (s.expiryRetryAt ?? 0)) void this.expireIfDue(s);
        continue;
      }
      if (!s.owner) continue;
      if (s.lastSeen > s.lastKeepAlive) this.renewIfDue(s, now);
      if (s.unrenewedSince !== undefined && now - s.unrenewedSince > s.timeoutMs * ZK_UNRENEWED_CLOSE_FRACTION) this.unrenewable(s, now);
    }
  }

  /**
   * The session could not be renewed for a while: close its connection (the session itself
   * lives on in the store, and here, until its deadline) so that the client tries another
   * server while the lease still holds — what a ZooKeeper server that lost quorum does.
   */
  private unrenewable(s: Session, now: number): void {
    const owner = s.owner;
    if (!owner) return;
    this.logger.warn({ session: s.id.toString(16), unrenewedMs: now - (s.unrenewedSince ?? now), timeoutMs: s.timeoutMs }, 'session cannot be renewed (store unreachable); closing its connection so the client moves to another server');
    s.owner = undefined;
    owner.closeConnection('session cannot be renewed');
  }

  /** Expires `s` unless another proxy renewed its lease after us. */
  private async expireIfDue(s: Session): Promise<void> {
    s.closing = true;
    try {
      const info = await this.backend.leaseTimeToLive(s.id);
      const expectedLeft = s.leaseTtl - (this.now() - s.lastKeepAlive) / 1000;
      if (info.ttl > 0 && info.ttl > expectedLeft + 2) {
        this.logger.info({ session: s.id.toString(16) }, 'session renewed elsewhere; forgetting it here');
        this.sessions.delete(s.id);
        s.owner?.closeConnection('session moved');
        return;
      }
      this.logger.info({ session: s.id.toString(16), timeoutMs: s.timeoutMs, failedAttempts: s.expiryFailures ?? 0 }, 'session expired');
      await this.close(s);
      s.owner?.closeConnection('session expired');
    } catch (e) {
      s.closing = false;
      this.expiryFailed(s, e);
    }
  }

  /**
   * Schedules the next expiry attempt of `s` with a doubled delay. Logged at warn on the 1st,
   * 2nd, 4th, 8th… failure in a row (debug otherwise): a long outage leaves a few lines per
   * session, not one per deadline check.
   */
  private expiryFailed(s: Session, e: unknown): void {
    const failures = (s.expiryFailures ?? 0) + 1;
    const delayMs = Math.min(ZK_EXPIRY_RETRY_MAX_MS, ZK_EXPIRY_RETRY_FIRST_MS * 2 ** Math.min(failures - 1, 16));
    s.expiryFailures = failures;
    s.expiryRetryAt = this.now() + delayMs;
    const fields = { session: s.id.toString(16), err: String(e), failures, retryInMs: delayMs };
    const message = 'session expiry could not be confirmed in the store (is it reachable?); will retry';
    if ((failures & (failures - 1)) === 0) this.logger.warn(fields, message);
    else this.logger.debug(fields, message);
  }

  /**
   * Ends session `s`: deletes its ephemerals in one revision (parents' counters re-put so their
   * pzxid moves, as ZooKeeper's closeSession txn does) and revokes the lease. Resolves with the
   * revision of the deletion (the closeSession reply's zxid).
   */
  async close(s: Session): Promise<number> {
    s.closing = true;
    let revision = this.tree.revision;
    let tooBig = false;
    for (let attempt = 0; attempt < 16; attempt++) {
      const txn = this.cleanupTxn(s.id);
      if (!txn) {
        tooBig = true;
        break;
      }
      const res = await this.backend.txn(txn);
      if (res.succeeded) {
        revision = res.revision;
        break;
      }
      await this.feed.catchUp();
    }
    const parents = tooBig ? this.parentsOfEphemerals(s.id) : new Map<string, number>();
    try {
      await this.backend.leaseRevoke(s.id);
    } catch (e) {
      if (!(e instanceof KvError && e.code === 'lease-not-found')) throw e;
    }
    if (tooBig) revision = await this.touchParents(parents, revision);
    this.sessions.delete(s.id);
    return revision;
  }

  /** Parent path → number of the session's ephemerals under it. */
  private parentsOfEphemerals(id: bigint): Map<string, number> {
    const out = new Map<string, number>();
    for (const p of this.tree.ephemeralsOf(id)) {
      const parent = parentOf(p);
      out.set(parent, (out.get(parent) ?? 0) + 1);
    }
    return out;
  }

  /**
   * After a lease revoke deleted more ephemerals than one txn holds: one more txn moves their
   * parents' pzxid and cversion (ZooKeeper does both in the closeSession txn; here it is the
   * next revision).
   */
  private async touchParents(parents: Map<string, number>, fallback: number): Promise<number> {
    if (parents.size === 0) return fallback;
    await this.feed.catchUp();
    const out = await this.writes.run((plan) => {
      for (const [parent, removed] of parents) if (plan.get(parent)) plan.childrenRemovedElsewhere(parent, removed);
    }, { recordFailure: false }).catch(() => undefined);
    return out?.zxid ?? fallback;
  }

  /**
   * The guarded txn deleting every ephemeral of `id` (their parents' pzxid and cversion move, as
   * in ZooKeeper's closeSession txn) and the session record; undefined if it is too big for one
   * store txn, in which case the lease revoke deletes them in one revision instead (the parents'
   * pzxid then does not move: logged, rare).
   */
  private cleanupTxn(id: bigint): KvTxn | undefined {
    const paths = this.tree.ephemeralsOf(id);
    const plan = new TxnPlan(this.tree, this.keys, BigInt(this.now()));
    for (const p of paths) {
      plan.guard(p, 'node');
      if (plan.get(p)) plan.remove(p);
    }
    const txn = plan.commitTxn();
    txn.success.push({ type: 'delete', key: this.keys.sessionKey(id) });
    if (Math.max(txn.success.length, txn.compare.length) > this.opts.maxTxnOps) {
      this.logger.warn({ session: id.toString(16), ephemerals: paths.length }, 'too many ephemerals for one txn; revoking lease');
      return undefined;
    }
    return txn;
  }

  /** Stops the deadline timer (sessions stay in the store and expire there or elsewhere). */
  stop(): void {
    clearInterval(this.timer);
  }
}
