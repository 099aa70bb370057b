/**
 * The value of a session record (`<prefix>s/<id>`, key-schema.ts): JSON, so an operator reading
 * the key space with etcdctl can tell what it is. `timeoutMs` is the negotiated timeout, which a
 * proxy that adopts the session expires it by. `origin` says whose password the session has:
 * absent for a session a Coracle proxy opened (derived from the cluster secret,
 * session/session-password.ts); "zookeeper" for one `zk-migrate` carried over from a
 * ZooKeeper's files, whose clients still hold the password ZooKeeper gave them
 * (session/zookeeper-password.ts).
 */

/** Where a session was opened, which decides its password. */
export type SessionOrigin = 'coracle' | 'zookeeper';

/** A session record as stored. */
export interface SessionRecord {
  timeoutMs: number;
  origin: SessionOrigin;
}

/** The timeout of a record whose value cannot be read (a record some other tool wrote). */
const FALLBACK_TIMEOUT_MS = 10_000;

/** The stored value of `r`. */
export function encodeSessionRecord(r: SessionRecord): Buffer {
  const value = r.origin === 'zookeeper' ? { timeoutMs: r.timeoutMs, origin: r.origin } : { timeoutMs: r.timeoutMs };
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** The record a stored value holds; a value that does not parse is a Coracle session of 10 s. */
export function decodeSessionRecord(value: Buffer): SessionRecord {
  let parsed: { timeoutMs?: unknown; origin?: unknown };
  try {
    parsed = JSON.parse(value.toString('utf8')) as typeof parsed;
  } catch {
    return { timeoutMs: FALLBACK_TIMEOUT_MS, origin: 'coracle' };
  }
  const t = parsed?.timeoutMs;
  return {
    timeoutMs: typeof t === 'number' && t > 0 ? t : FALLBACK_TIMEOUT_MS,
    origin: parsed?.origin === 'zookeeper' ? 'zookeeper' : 'coracle',
  };
}
