/**
 * The wire form of a Raft snapshot on the peer port: `POST /raft/snapshot` on a connection of
 * its own (a large body never queues in front of heartbeats), body =
 *
 *   u32be headerLength | header (JSON, ≤ {@link MAX_SNAPSHOT_HEADER_BYTES}) |
 *   `size` bytes of the LMDB database file | sha256 of those bytes (32 bytes)
 *
 * The header carries the Raft metadata read from the file itself (index, term, conf state),
 * the MsgSnap's own term and ends, and the file size. The receiver checks size and checksum
 * before anything uses the file (etcd appends a sha256 to its snapshot db the same way).
 * 64-bit ids travel as hex strings (JSON has no 64-bit integers).
 */
import { ConfState } from '../raft/types';

/** Bound of the JSON header (ids of a few hundred members at most). */
export const MAX_SNAPSHOT_HEADER_BYTES = 64 * 1024;

/** Length of the checksum trailer. */
export const SNAPSHOT_TRAILER_BYTES = 32;

/** The header of a snapshot stream. */
export interface SnapshotHeader {
  from: bigint;
  to: bigint;
  cluster: bigint;
  /** The term of the MsgSnap (the leader's term when it decided to send). */
  msgTerm: number;
  /** Raft metadata of the state in the file. */
  index: number;
  term: number;
  confState: ConfState;
  /** Bytes of the database file. */
  size: number;
}

interface WireHeader {
  from: string;
  to: string;
  cluster: string;
  msgTerm: number;
  index: number;
  term: number;
  confState: { voters: string[]; learners: string[]; votersOutgoing: string[]; learnersNext: string[]; autoLeave: boolean };
  size: number;
}

const hex = (ids: bigint[]): string[] => ids.map((id) => id.toString(16));

/** The header frame (length prefix included). */
export function encodeSnapshotHeader(h: SnapshotHeader): Buffer {
  const cs = h.confState;
  const wire: WireHeader = {
    from: h.from.toString(16),
    to: h.to.toString(16),
    cluster: h.cluster.toString(16),
    msgTerm: h.msgTerm,
    index: h.index,
    term: h.term,
    confState: { voters: hex(cs.voters), learners: hex(cs.learners), votersOutgoing: hex(cs.votersOutgoing), learnersNext: hex(cs.learnersNext), autoLeave: cs.autoLeave },
    size: h.size,
  };
  const body = Buffer.from(JSON.stringify(wire), 'utf8');
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}

/** Decodes a header body (without its length prefix); throws on anything malformed. */
export function decodeSnapshotHeader(body: Buffer): SnapshotHeader {
  const w = JSON.parse(body.toString('utf8')) as WireHeader;
  const id = (s: unknown): bigint => {
    if (typeof s !== 'string' || !/^[0-9a-f]{1,16}$/.test(s)) throw new Error(`bad id ${String(s)} in snapshot header`);
    return BigInt('0x' + s);
  };
  const ids = (v: unknown): bigint[] => {
    if (!Array.isArray(v)) throw new Error('bad id list in snapshot header');
    return v.map(id);
  };
  const count = (n: unknown): number => {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new Error(`bad number ${String(n)} in snapshot header`);
    return n;
  };
  const cs = w.confState ?? {};
  return {
    from: id(w.from),
    to: id(w.to),
    cluster: id(w.cluster),
    msgTerm: count(w.msgTerm),
    index: count(w.index),
    term: count(w.term),
    confState: { voters: ids(cs.voters), learners: ids(cs.learners), votersOutgoing: ids(cs.votersOutgoing ?? []), learnersNext: ids(cs.learnersNext ?? []), autoLeave: cs.autoLeave === true },
    size: count(w.size),
  };
}
