/**
 * The zxid base: how the store's revisions map to the zxids ZooKeeper clients see.
 *
 * A zxid is the store's revision plus the key space's zxid base (`<p>zxid-base`, 16 hex
 * digits; absent = 0, so by default a zxid is the revision). The base exists for moving off a
 * ZooKeeper: a client that switches over keeps the zxid it last saw there, and a server whose
 * zxids are below it must refuse the client ("it has seen zxid …, client must try another
 * server"), which the client then retries without end. `coracle zk-migrate` therefore raises the
 * base past the source's epoch, as a ZooKeeper leader election does, so those clients are served:
 * they resume a session the copy carried over, or are told theirs expired and start a new one.
 *
 * Everything behind the connection works in revisions; the connection converts at the wire
 * (net/connection.ts; net/session-admission.ts for the handshake): replies' header zxids and
 * Stats going out, lastZxidSeen and SetWatches' relativeZxid coming in. Zero and negative zxids are literals (auth replies say 0, notifications -1, system nodes'
 * zxids are 0), never revisions, and pass unchanged.
 */
import { MultiResult, Stat, ZkRequest, ZkResponse } from '../../protocol/jute';

/** The 32-bit shift of a zxid's epoch (ZooKeeper's ZxidUtils). */
const EPOCH_SHIFT = 32n;
const HEX64 = /^[0-9a-f]{16}$/;

/** The zxid a client sees for revision `rev` (≤ 0: a literal, unchanged). */
export function wireZxid(rev: number, base: bigint): bigint {
  return rev > 0 ? BigInt(rev) + base : BigInt(rev);
}

/**
 * {@link wireZxid} as a number, for statistics (cons, the AdminServer): no bigint made per reply.
 * Exact, since a base is below 2^52 (see {@link decodeZxidBase}).
 */
export function wireZxidNumber(rev: number, base: bigint): number {
  return rev > 0 ? rev + Number(base) : rev;
}

/**
 * The revision a client's zxid stands for: zxids below the base were seen elsewhere (the
 * ZooKeeper the data came from) and stand for nothing here, 0.
 */
export function revisionOfZxid(zxid: bigint, base: bigint): bigint {
  const rev = zxid - base;
  return rev > 0n ? rev : 0n;
}

/** The first zxid of the epoch after `zxid`'s: where a base must start to be past every zxid of that epoch. */
export function nextEpochStart(zxid: bigint): bigint {
  return ((zxid >> EPOCH_SHIFT) + 1n) << EPOCH_SHIFT;
}

/** The base's stored form: 16 lowercase hex digits. */
export function encodeZxidBase(base: bigint): Buffer {
  return Buffer.from(BigInt.asUintN(64, base).toString(16).padStart(16, '0'), 'latin1');
}

/** The base a stored value holds, or undefined when it is not one (a foreign write under our prefix). */
export function decodeZxidBase(value: Buffer): bigint | undefined {
  const text = value.toString('latin1');
  if (!HEX64.test(text)) return undefined;
  const base = BigInt(`0x${text}`);
  // Past 2^53 a zxid would no longer be a revision plus the base in a JavaScript number.
  return base < 2n ** 52n ? base : undefined;
}

/** `s` as clients see it. */
function wireStat(s: Stat, base: bigint): Stat {
  const shift = (z: bigint): bigint => (z > 0n ? z + base : z);
  return { ...s, czxid: shift(s.czxid), mzxid: shift(s.mzxid), pzxid: shift(s.pzxid) };
}

function wireResult(r: MultiResult, base: bigint): MultiResult {
  return 'stat' in r ? { ...r, stat: wireStat(r.stat, base) } : r;
}

/** A reply body as clients see it: every Stat's zxids shifted by `base` (the same object when 0). */
export function wireResponse(body: ZkResponse, base: bigint): ZkResponse {
  if (base === 0n) return body;
  switch (body.op) {
    case 'multi': return { ...body, results: body.results.map((r) => wireResult(r, base)) };
    case 'create2': case 'stat': case 'getData': case 'getACL': case 'getChildren2':
      return { ...body, stat: wireStat(body.stat, base) };
    default: return body;
  }
}

/** A request as the handlers take it: SetWatches' relativeZxid as a revision (the same object when the base is 0). */
export function requestInRevisions(req: ZkRequest, base: bigint): ZkRequest {
  if (base === 0n || (req.op !== 'setWatches' && req.op !== 'setWatches2')) return req;
  return { ...req, relativeZxid: revisionOfZxid(req.relativeZxid, base) };
}
