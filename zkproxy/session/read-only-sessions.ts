/**
 * `ReadOnlySessions`: the sessions a proxy grants while it serves read-only (read-only-mode.ts).
 *
 * A read-only session exists only here: no lease, nothing in the store, which cannot be written
 * from a member cut off from the quorum anyway. ZooKeeper's read-only server likewise keeps such
 * sessions to itself, and a client that never saw a read/write server reconnects with session
 * id 0 once it finds one (ClientCnxn's seenRwServerBefore), so nothing of them has to survive.
 * Liveness is client traffic, as for every session: one that hears nothing for its timeout is
 * forgotten and its connection closed. Ids are random 63-bit numbers (a lease id of the store
 * colliding with one is as likely as guessing it), passwords derive from the cluster secret as
 * for any session, so a read/write server handed one finds no lease and answers "expired".
 */
import { randomBytes } from 'node:crypto';
import { ZkLogger } from '../logger';
import { passwordMatches, sessionPassword } from './session-password';
import { Session, SessionOwner, attachOwner } from './session-table';

/** Tunables of {@link ReadOnlySessions}. */
export interface ReadOnlySessionOptions {
  /** How often idle sessions are looked for (default 200 ms). */
  checkIntervalMs?: number;
  now?: () => number;
}

/** The read-only sessions of one proxy. */
export class ReadOnlySessions {
  private readonly sessions = new Map<bigint, Session>();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  /** @param secret the cluster secret, read when a session is made (the tree loads it). */
  constructor(private readonly secret: () => Buffer, private readonly logger: ZkLogger, opts: ReadOnlySessionOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.expireIdle(), opts.checkIntervalMs ?? 200);
    this.timer.unref();
  }

  /** Number of live read-only sessions. */
  size(): number {
    return this.sessions.size;
  }

  /** A new read-only session carried by `owner`. */
  create(timeoutMs: number, owner: SessionOwner): Session {
    const id = randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn || 1n;
    const now = this.now();
    const s: Session = {
      id, passwd: sessionPassword(this.secret(), id), timeoutMs, leaseTtl: 0, readOnly: true,
      lastSeen: now, lastKeepAlive: now, unrenewedSince: undefined, owner, closing: false,
    };
    this.sessions.set(id, s);
    return s;
  }

  /**
   * Session `id` on a new connection, or undefined when it is not one of ours or the password
   * is wrong. An older connection of the session is closed, as on a read/write server.
   */
  resume(id: bigint, passwd: Buffer, owner: SessionOwner): Session | undefined {
    const s = this.sessions.get(id);
    if (!s || s.closing || !passwordMatches(this.secret(), id, passwd)) return undefined;
    attachOwner(s, owner);
    s.lastSeen = this.now();
    return s;
  }

  /** Client traffic on `s`: pushes its deadline. */
  touch(s: Session): void {
    s.lastSeen = this.now();
  }

  /** The connection carrying `s` went away; the session lives on until its deadline. */
  detach(s: Session, owner: SessionOwner): void {
    if (s.owner === owner) s.owner = undefined;
  }

  /** Ends `s` (closeSession): forgotten at once. */
  close(s: Session): void {
    s.closing = true;
    this.sessions.delete(s.id);
  }

  /** Ends every session and closes their connections (the proxy is read/write again). */
  closeAll(reason: string): void {
    for (const s of this.sessions.values()) {
      s.closing = true;
      s.owner?.closeConnection(reason);
    }
    this.sessions.clear();
  }

  /** Stops the deadline timer. */
  stop(): void {
    clearInterval(this.timer);
  }

  private expireIdle(): void {
    const now = this.now();
    for (const s of this.sessions.values()) {
      if (now - s.lastSeen <= s.timeoutMs) continue;
      this.logger.info({ session: s.id.toString(16), timeoutMs: s.timeoutMs }, 'read-only session expired');
      this.close(s);
      s.owner?.closeConnection('session expired');
    }
  }
}
