/**
 * `ConnectionStats`: one connection's counters as ZooKeeper's ServerCnxn keeps them for `cons`,
 * `stat` and the AdminServer's `connections`: packets, the last op, cxid and zxid, latencies.
 */
import { opName } from '../../protocol/jute';
import { elapsedMs } from './elapsed-time';

/** Per-connection counters (`cons`). */
export interface ConnectionStats {
  remote: string;
  /** Over TLS (the secure port, or a unified plain port): the AdminServer lists these apart. */
  secure: boolean;
  /** False while reading is paused because the client sent more than the server has handled (back-pressure). */
  reading: boolean;
  sessionId: bigint;
  timeoutMs: number;
  received: number;
  sent: number;
  /** Requests started on the connection and not yet answered (cons' queued, outstanding_requests). */
  queued: number;
  lastOp: string;
  lastCxid: number;
  lastZxid: number;
  /** When the last reply went out, in elapsed ms (`elapsedMs`), as ZooKeeper's lresp. */
  lastResponse: number;
  /** Epoch ms of the accept. */
  established: number;
  /** Elapsed ms of the last read or write: the connection's place in `dump`'s expiry queue. */
  touched: number;
  /** Latency of the last reply, ms. */
  lastLat: number;
  minLat: number;
  maxLat: number;
  totalLat: number;
  countLat: number;
}

/**
 * `crst`: zero a connection's counters as ZooKeeper's ServerCnxn.resetStats does (the last op
 * back to NA, cxid and zxid to -1); what identifies the connection stays.
 */
export function resetConnectionStats(c: ConnectionStats): void {
  c.received = c.sent = 0;
  c.lastOp = 'NA';
  c.lastCxid = c.lastZxid = -1;
  c.lastResponse = c.lastLat = c.minLat = c.maxLat = c.totalLat = c.countLat = 0;
}

/** A new connection's counters: nothing received or answered yet, no session. */
export function newConnectionStats(remote: string, secure: boolean): ConnectionStats {
  return {
    remote, secure, reading: true, sessionId: 0n, timeoutMs: 0, received: 0, sent: 0,
    queued: 0, lastOp: 'NA', lastCxid: -1, lastZxid: -1, lastResponse: 0, established: Date.now(), touched: elapsedMs(), lastLat: 0, minLat: 0, maxLat: 0,
    totalLat: 0, countLat: 0,
  };
}

/** Records the reply to request `xid` of op code `type`, answered at `zxid` after `latency` ms. */
export function recordConnectionReply(c: ConnectionStats, xid: number, type: number, zxid: number, latency: number): void {
  c.lastOp = shortOpName(type);
  c.lastCxid = xid;
  c.lastZxid = zxid;
  c.lastResponse = elapsedMs();
  c.lastLat = latency;
  c.minLat = c.countLat === 0 ? latency : Math.min(c.minLat, latency);
  c.maxLat = Math.max(c.maxLat, latency);
  c.totalLat += latency;
  c.countLat++;
}

/** `cons`'s four-letter op name (ZooKeeper's lop=…), memoized: it is recorded per reply. */
const SHORT_OP_NAMES = new Map<number, string>();
function shortOpName(type: number): string {
  let name = SHORT_OP_NAMES.get(type);
  if (name === undefined) {
    name = opName(type).slice(0, 4).toUpperCase();
    // Clients can send any op code: remember only a bounded set.
    if (SHORT_OP_NAMES.size < 128) SHORT_OP_NAMES.set(type, name);
  }
  return name;
}
