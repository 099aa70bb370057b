/**
 * `admitClient`: what the answer to a ConnectRequest is (zk-protocol.md §2.1), decided apart
 * from the connection that writes it. Three answers, as a ZooKeeper server gives them:
 * - refuse: close without a reply, so the client tries another server (its lastZxidSeen is
 *   ahead of us, the store cannot be reached, or read-only mode cannot serve it);
 * - expired: a ConnectResponse with timeout 0 (the session is gone, or the password is wrong);
 * - open: a new or resumed session.
 * lastZxidSeen is a client's zxid: it is read back as a revision through the zxid base
 * (mapping/zxid-base.ts), so a client that saw only another ZooKeeper's lower zxids is served.
 */
import { ConnectRequest } from '../../protocol/jute';
import { KvError } from '../backend/kv-backend';
import { revisionOfZxid } from '../mapping/zxid-base';
import { ZkServices } from '../ops/services';
import { ReadOnlySessions } from '../session/read-only-sessions';
import { Session, SessionOwner } from '../session/session-table';

/** The answer to a ConnectRequest. */
export type Admission =
  /** Close without a reply; `why` goes to the log. */
  | { kind: 'refuse'; why: string }
  /** Say the session expired (read-only: as a read-only server says it). */
  | { kind: 'expired'; readOnly: boolean }
  /** Serve `session`; `resumed` when the client brought its id. */
  | { kind: 'open'; session: Session; resumed: boolean };

/** Decides the answer to `req`; a session made or resumed is attached to `owner`. */
export async function admitClient(req: ConnectRequest, s: ZkServices, owner: SessionOwner): Promise<Admission> {
  if (s.readOnly?.mode.active) return admitReadOnly(req, s, s.readOnly.sessions, owner);
  // ZooKeeper: "client must try another server" (§2.1).
  if (!(await caughtUpTo(s, req.lastZxidSeen))) return { kind: 'refuse', why: 'client is ahead of us' };
  const timeout = s.sessions.negotiate(req.timeOut);
  const resumed = req.sessionId !== 0n;
  try {
    const session = resumed ? await s.sessions.resume(req.sessionId, req.passwd, timeout, owner) : await s.sessions.create(timeout, owner);
    return session ? { kind: 'open', session, resumed } : { kind: 'expired', readOnly: false };
  } catch (e) {
    if (!(e instanceof KvError && (e.code === 'unavailable' || e.code === 'closed'))) throw e;
    // Cut off from the quorum: like a ZooKeeper server that is not serving, never "expired",
    // which only the store may say.
    return { kind: 'refuse', why: `store unavailable during handshake: ${e.message}` };
  }
}

/**
 * Read-only mode (ZooKeeper's read-only server): only a client that allows read-only sessions
 * is served; a session of the store (a client that has seen a read/write server) is refused, so
 * the client looks for one; an unknown or forgotten read-only session is told it expired.
 */
function admitReadOnly(req: ConnectRequest, s: ZkServices, sessions: ReadOnlySessions, owner: SessionOwner): Admission {
  if (!req.readOnly) return { kind: 'refuse', why: 'read-only mode refuses a client that does not allow read-only sessions' };
  if (revisionOfZxid(req.lastZxidSeen, s.tree.zxidBase) > BigInt(s.tree.revision)) return { kind: 'refuse', why: 'client is ahead of us' };
  if (req.sessionId !== 0n && s.tree.sessions().has(req.sessionId)) return { kind: 'refuse', why: 'read-only mode refuses a session of the store' };
  const timeout = s.sessions.negotiate(req.timeOut);
  const session = req.sessionId === 0n ? sessions.create(timeout, owner) : sessions.resume(req.sessionId, req.passwd, owner);
  return session ? { kind: 'open', session, resumed: req.sessionId !== 0n } : { kind: 'expired', readOnly: true };
}

/** True once our replica has every zxid the client has seen (waiting a little if the store has it). */
async function caughtUpTo(s: ZkServices, lastZxidSeen: bigint): Promise<boolean> {
  if (revisionOfZxid(lastZxidSeen, s.tree.zxidBase) <= BigInt(s.tree.revision)) return true;
  const now = await s.feed.catchUp();
  // The base is read after the catch-up too: it may have risen meanwhile.
  return revisionOfZxid(lastZxidSeen, s.tree.zxidBase) <= BigInt(now);
}
