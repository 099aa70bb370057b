/**
 * The four-letter words that list sessions and watches (`wchc`, `wchp`, `dump`), in ZooKeeper
 * 3.8's text, and the session expiry buckets the AdminServer's `dump` shares with them.
 */
import { elapsedToEpochMs } from './elapsed-time';
import type { FourLetterSource } from './four-letter-words';

/** A session id as Java's Long.toHexString prints it (never negative). */
const hex = (id: bigint): string => `0x${BigInt.asUintN(64, id).toString(16)}`;

/** ZooKeeper's `zookeeper.nio.sessionlessCnxnTimeout` default: also its connection queue's interval. */
const SESSIONLESS_CNXN_TIMEOUT_MS = 10_000;

/**
 * Live sessions grouped by deadline, each deadline rounded up to the next tick as ZooKeeper's
 * ExpiryQueue rounds it; buckets in time order.
 */
export function expiryBuckets(src: FourLetterSource): Map<number, bigint[]> {
  const queue = expiryQueue(src.sessionExpiries(), src.config().tickTime, (s) => s.expiresAt);
  return new Map([...queue].map(([at, ss]) => [at, ss.map((s) => s.id)]));
}

/** `items` grouped as ZooKeeper's ExpiryQueue groups them: deadlines rounded up to the next `interval`, in time order. */
function expiryQueue<T>(items: T[], interval: number, deadline: (t: T) => number): Map<number, T[]> {
  const buckets = new Map<number, T[]>();
  const placed = items.map((t) => [(Math.floor(deadline(t) / interval) + 1) * interval, t] as const).sort((x, y) => x[0] - y[0]);
  for (const [at, t] of placed) {
    const bucket = buckets.get(at);
    if (bucket) bucket.push(t);
    else buckets.set(at, [t]);
  }
  return buckets;
}

/** ExpiryQueue.dump's text: `Sets (buckets)/(elements):`, then each bucket's size, Java date (of epoch ms) and elements. */
function expiryQueueText<T>(buckets: Map<number, T[]>, epochMs: (at: number) => number, element: (t: T) => string): string {
  const count = [...buckets.values()].reduce((n, b) => n + b.length, 0);
  let out = `Sets (${buckets.size})/(${count}):\n`;
  for (const [at, b] of buckets) out += `${b.length} expire at ${javaDate(epochMs(at))}:\n${b.map((t) => `\t${element(t)}\n`).join('')}`;
  return out;
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
  let out = `SessionTracker dump:\nSession ${expiryQueueText(expiryBuckets(src), (at) => at, hex)}`;
  const ephemerals = src.ephemeralsBySession();
  out += `ephemeral nodes dump:\nSessions with Ephemerals (${ephemerals.size}):\n`;
  for (const [id, paths] of ephemerals) out += `${hex(id)}:\n${paths.map((p) => `\t${p}\n`).join('')}`;
  // NIOServerCnxnFactory's connection queue: every open connection (in its handshake, answering a
  // four-letter word, or with a session) by last read or write plus its session timeout (10 s
  // without a session), in 10 s buckets of ZooKeeper's elapsed time.
  const conns = expiryQueue(src.connections(), SESSIONLESS_CNXN_TIMEOUT_MS, (c) => c.touched + (c.sessionId === 0n ? SESSIONLESS_CNXN_TIMEOUT_MS : c.timeoutMs));
  out += `Connections dump:\nConnections ${expiryQueueText(conns, elapsedToEpochMs, (c) => `ip: /${c.remote} sessionId: ${hex(c.sessionId)}`)}`;
  return out;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Java's Date.toString in UTC: `Mon Nov 23 17:44:56 UTC 2026`. */
function javaDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}
