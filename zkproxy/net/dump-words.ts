/**
 * The four-letter words that list sessions and watches (`wchc`, `wchp`, `dump`), in ZooKeeper
 * 3.8's text, and the session expiry buckets the AdminServer's `dump` shares with them.
 */
import type { ConnectionStats } from './connection-stats';
import { elapsedToEpochMs } from './elapsed-time';
import type { FourLetterSource } from './four-letter-words';

/** A session id as Java's Long.toHexString prints it (never negative). */
const hex = (id: bigint): string => `0x${BigInt.asUintN(64, id).toString(16)}`;

/**
 * Live sessions grouped by deadline, each deadline rounded up to the next tick as ZooKeeper's
 * ExpiryQueue rounds it; buckets in time order.
 */
export function expiryBuckets(src: FourLetterSource): Map<number, bigint[]> {
  const tick = src.config().tickTime;
  const buckets = new Map<number, bigint[]>();
  for (const { id, expiresAt } of src.sessionExpiries().sort((a, b) => a.expiresAt - b.expiresAt)) {
    const at = (Math.floor(expiresAt / tick) + 1) * tick;
    const ids = buckets.get(at);
    if (ids) ids.push(id);
    else buckets.set(at, [id]);
  }
  return buckets;
}

/** wchc: each session with the paths it watches (data table), tab-indented. */
export function watchesBySessionText(src: FourLetterSource): string {
  let out = '';
  for (const [id, paths] of src.dataWatchesBySession()) out += `${hex(id)}\n${paths.map((p) => `\t${p}\n`).join('')}`;
  return `${out}\n`;
}

/** wchp: each watched path with the sessions watching it. */
export function watchesByPathText(src: FourLetterSource): string {
  let out = '';
  for (const [path, ids] of watchersByPath(src)) out += `${path}\n${ids.map((id) => `\t${hex(id)}\n`).join('')}`;
  return `${out}\n`;
}

/** The data-table watches turned around: each watched path with the sessions watching it (wchp). */
export function watchersByPath(src: FourLetterSource): Map<string, bigint[]> {
  const byPath = new Map<string, bigint[]>();
  for (const [id, paths] of src.dataWatchesBySession()) {
    for (const p of paths) {
      const ids = byPath.get(p);
      if (ids) ids.push(id);
      else byPath.set(p, [id]);
    }
  }
  return byPath;
}

/** dump: the session tracker's buckets, the ephemerals per session, the connections by expiry. */
export function dumpText(src: FourLetterSource): string {
  const buckets = expiryBuckets(src);
  const sessions = [...buckets.values()].reduce((n, ids) => n + ids.length, 0);
  let out = `SessionTracker dump:\nSession Sets (${buckets.size})/(${sessions}):\n`;
  for (const [at, ids] of buckets) out += `${ids.length} expire at ${javaDate(at)}:\n${ids.map((id) => `\t${hex(id)}\n`).join('')}`;
  const ephemerals = src.ephemeralsBySession();
  out += `ephemeral nodes dump:\nSessions with Ephemerals (${ephemerals.size}):\n`;
  for (const [id, paths] of ephemerals) out += `${hex(id)}:\n${paths.map((p) => `\t${p}\n`).join('')}`;
  const conns = connectionBuckets(src);
  out += `Connections dump:\nConnections Sets (${conns.size})/(${src.connections().length}):\n`;
  for (const [at, cs] of conns) {
    out += `${cs.length} expire at ${javaDate(elapsedToEpochMs(at))}:\n${cs.map((c) => `\tip: /${c.remote} sessionId: ${hex(c.sessionId)}\n`).join('')}`;
  }
  return out;
}

/** ZooKeeper's `zookeeper.nio.sessionlessCnxnTimeout` default: also its connection queue's interval. */
const SESSIONLESS_CNXN_TIMEOUT_MS = 10_000;

/**
 * Every open connection (in its handshake, answering a four-letter word, or with a session)
 * grouped as NIOServerCnxnFactory's connection ExpiryQueue groups them: last read or write plus
 * the session timeout (10 s without a session), rounded up to the next 10 s; in time order.
 */
function connectionBuckets(src: FourLetterSource): Map<number, ConnectionStats[]> {
  const buckets = new Map<number, ConnectionStats[]>();
  const deadline = (c: ConnectionStats): number => {
    const timeout = c.sessionId === 0n ? SESSIONLESS_CNXN_TIMEOUT_MS : c.timeoutMs;
    return (Math.floor((c.touched + timeout) / SESSIONLESS_CNXN_TIMEOUT_MS) + 1) * SESSIONLESS_CNXN_TIMEOUT_MS;
  };
  for (const c of src.connections().sort((a, b) => deadline(a) - deadline(b))) {
    const at = deadline(c);
    const cs = buckets.get(at);
    if (cs) cs.push(c);
    else buckets.set(at, [c]);
  }
  return buckets;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Java's Date.toString in UTC: `Mon Nov 23 17:44:56 UTC 2026`. */
function javaDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}
