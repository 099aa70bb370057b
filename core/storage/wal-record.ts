/**
 * WAL record framing and payloads.
 *
 * Frame: `length:u32le crc:u32le type:u8 payload`, where `length` counts `type` and `payload`
 * (so a real record has length ≥ 1 and a zero length word marks the end of the segment: segments
 * are zero-filled before use, and the space after a torn tail is zeroed at open).
 *
 * Checksum: CRC-32C over `type ‖ payload`, **chained**: each record's CRC continues from the
 * previous record's CRC (the segment header starts a chain from 0 and names the predecessor's
 * last CRC). Why chained rather than per record: after a torn tail the next append overwrites
 * from the tail, and a crash can leave a shorter new record followed by an old record that was
 * completely written before (a multi-page write lands out of order). With per-record CRCs that
 * old record would validate and be resurrected; chained, its CRC continues from a record that no
 * longer exists, so it fails. The header's link to the predecessor also catches a non-last
 * segment that lost its tail or a missing segment. (etcd's WAL chains its CRC the same way.)
 *
 * Payloads (varints and byte strings as in core/util/byte-writer):
 *   SegmentHeader  magic:bytes("CORACLE-WAL") version:u8 seq:v firstIndex:v prevTerm:v prevCrc:v
 *                  hardState?:(bool bytes) snapshot?:(bool snapshotMeta) confState?:(bool bytes)
 *   Entries        count:v then count × bytes(encodeEntry(e))
 *   HardState      encodeHardState(hs)
 *   Snapshot       snapshotMeta = index:v term:v bytes(encodeConfState(cs))
 *   ConfState      encodeConfState(cs)
 */
import { ConfState, Entry, HardState, SnapshotMetadata } from '../raft/types';
import { decodeConfState, decodeEntry, decodeEntryHead, decodeHardState, encodeConfState, encodeEntryTransient, encodeHardState } from '../raft/codec';
import { logEntryBytes, pooledBytes } from '../util/bytes';
import { ByteReader } from '../util/byte-reader';
import { ByteWriter } from '../util/byte-writer';
import { crc32cUpdate } from '../util/crc32c';

/** Record types. Numbers are part of the on-disk format: never reuse one. */
export enum WalRecordType {
  SegmentHeader = 1,
  Entries = 2,
  HardState = 3,
  Snapshot = 4,
  ConfState = 5,
}

/** Bytes of the frame before the type byte: length word and CRC word. */
export const WAL_FRAME_HEADER_BYTES = 8;

const MAGIC = Buffer.from('CORACLE-WAL', 'latin1');
const FORMAT_VERSION = 1;

/** A record's type and payload, before framing. */
export interface WalRecord {
  type: WalRecordType;
  payload: Uint8Array;
}

/** The first record of every segment: where it sits and a copy of the state at its creation. */
export interface WalSegmentHeader {
  seq: number;
  /** The index the next appended entry had when the segment was cut (lastIndex + 1). */
  firstIndex: number;
  /** Term of entry `firstIndex - 1` (0 if none): lets a replay that starts here know it. */
  prevTerm: number;
  /** CRC of the predecessor's last record (0 for the first segment ever). */
  prevCrc: number;
  /** Copies of the state, so that deleting older segments never loses it. */
  hardState?: HardState;
  snapshot?: SnapshotMetadata;
  confState?: ConfState;
}

/**
 * Frames `records` back to back into one buffer, chaining the CRC from `seed`. Returns the
 * bytes and the CRC of the last record (the seed for the next frame).
 */
export function frameRecords(records: readonly WalRecord[], seed: number): { bytes: Buffer; crc: number } {
  let size = 0;
  for (const r of records) size += WAL_FRAME_HEADER_BYTES + 1 + r.payload.length;
  const bytes = Buffer.allocUnsafe(size);
  let crc = seed;
  let pos = 0;
  for (const r of records) {
    bytes.writeUInt32LE(1 + r.payload.length, pos);
    bytes[pos + 8] = r.type;
    bytes.set(r.payload, pos + 9);
    crc = crc32cUpdate(crc, bytes.subarray(pos + 8, pos + 9 + r.payload.length));
    bytes.writeUInt32LE(crc, pos + 4);
    pos += WAL_FRAME_HEADER_BYTES + 1 + r.payload.length;
  }
  return { bytes, crc };
}

/** Why a scan stopped. `zero` and `eof` are clean ends; `torn` is a damaged or partial record. */
export type WalScanStop = 'zero' | 'eof' | 'torn';

/** Result of {@link scanFrames}. */
export interface WalScanResult {
  /** Offset just after the last valid record (where the next append goes). */
  end: number;
  /** CRC of the last valid record (the seed if none). */
  crc: number;
  stop: WalScanStop;
  /** For `torn`: what was wrong at `end`. */
  reason?: string;
}

/**
 * Bytes that frames are scanned from: a whole buffer, or a window sliding over a segment file
 * (wal-segment-reader.ts), so that a replay never holds a whole 64 MiB segment in memory.
 */
export interface FrameSource {
  /** Total bytes available. */
  readonly size: number;
  /** The `n` bytes at `pos` (`pos + n ≤ size`), as a view valid only until the next call. */
  bytes(pos: number, n: number): Buffer;
}

/** A {@link FrameSource} over a buffer already in memory. */
function bufferSource(buf: Buffer): FrameSource {
  return { size: buf.length, bytes: (pos, n) => buf.subarray(pos, pos + n) };
}

/**
 * Walks the frames of `src` from `offset`, verifying the chained CRC from `seed`, and hands each
 * valid record to `onRecord`: `payload` is a view valid only during the call (copy what must
 * outlive it), `offset` the frame's position. Stops at the first zero length word, at the end of
 * the bytes, or at the first frame that does not fit or fails its CRC.
 */
export function scanFrames(
  src: Buffer | FrameSource,
  offset: number,
  seed: number,
  onRecord: (type: number, payload: Buffer, offset: number) => void,
): WalScanResult {
  const source = Buffer.isBuffer(src) ? bufferSource(src) : src;
  const size = source.size;
  let pos = offset;
  let crc = seed;
  for (;;) {
    if (pos + WAL_FRAME_HEADER_BYTES > size) {
      const tail = source.bytes(pos, size - pos);
      return tail.every((b) => b === 0) ? { end: pos, crc, stop: 'eof' } : { end: pos, crc, stop: 'torn', reason: 'partial frame header' };
    }
    const head = source.bytes(pos, WAL_FRAME_HEADER_BYTES);
    const length = head.readUInt32LE(0);
    const stored = head.readUInt32LE(4);
    if (length === 0) return { end: pos, crc, stop: 'zero' };
    if (pos + WAL_FRAME_HEADER_BYTES + length > size) return { end: pos, crc, stop: 'torn', reason: `record length ${length} runs past the end of the file` };
    const body = source.bytes(pos + WAL_FRAME_HEADER_BYTES, length);
    const next = crc32cUpdate(crc, body);
    if (next !== stored) return { end: pos, crc, stop: 'torn', reason: 'checksum mismatch' };
    onRecord(body[0]!, body.subarray(1), pos);
    crc = next;
    pos += WAL_FRAME_HEADER_BYTES + length;
  }
}

/** Reused by every Entries record (synchronous, never nested): only the exact-size payload is allocated. */
const entriesScratch = new ByteWriter(64 * 1024);

/** An Entries record for a batch (one record, so a batch is torn as a whole or not at all). */
export function entriesRecord(entries: readonly Entry[]): WalRecord {
  const w = entriesScratch;
  w.reset();
  w.varint(entries.length);
  for (const e of entries) w.bytes(encodeEntryTransient(e));
  return { type: WalRecordType.Entries, payload: w.finish(pooledBytes) };
}

/** A HardState record. */
export function hardStateRecord(hs: HardState): WalRecord {
  return { type: WalRecordType.HardState, payload: encodeHardState(hs) };
}

/** A snapshot marker: entries up to `meta.index` are covered by a snapshot (or the state). */
export function snapshotRecord(meta: SnapshotMetadata): WalRecord {
  const w = new ByteWriter();
  writeSnapshotMeta(w, meta);
  return { type: WalRecordType.Snapshot, payload: w.finish() };
}

/** A ConfState record. */
export function confStateRecord(cs: ConfState): WalRecord {
  return { type: WalRecordType.ConfState, payload: encodeConfState(cs) };
}

/** A segment's header record. */
export function segmentHeaderRecord(h: WalSegmentHeader): WalRecord {
  const w = new ByteWriter(128);
  w.bytes(MAGIC);
  w.u8(FORMAT_VERSION);
  w.varint(h.seq);
  w.varint(h.firstIndex);
  w.varint(h.prevTerm);
  w.varint(h.prevCrc);
  w.bool(h.hardState !== undefined);
  if (h.hardState) w.bytes(encodeHardState(h.hardState));
  w.bool(h.snapshot !== undefined);
  if (h.snapshot) writeSnapshotMeta(w, h.snapshot);
  w.bool(h.confState !== undefined);
  if (h.confState) w.bytes(encodeConfState(h.confState));
  return { type: WalRecordType.SegmentHeader, payload: w.finish() };
}

/** Decodes a header payload; throws DecodeError if it is not one. */
export function decodeSegmentHeader(payload: Uint8Array): WalSegmentHeader {
  const r = new ByteReader(payload);
  if (!Buffer.from(r.bytes()).equals(MAGIC)) r.fail('not a coracle WAL segment (bad magic)');
  const version = r.u8();
  if (version !== FORMAT_VERSION) r.fail(`unsupported WAL format version ${version}`);
  const h: WalSegmentHeader = { seq: r.varint(), firstIndex: r.varint(), prevTerm: r.varint(), prevCrc: r.varint() };
  if (r.bool()) h.hardState = decodeHardState(r.bytes());
  if (r.bool()) h.snapshot = readSnapshotMeta(r);
  if (r.bool()) h.confState = decodeConfState(r.bytes());
  r.end();
  return h;
}

/** Decodes an Entries payload; throws DecodeError if malformed. */
export function decodeEntriesPayload(payload: Uint8Array): Entry[] {
  // decodeEntry copies the entry's data out, so the encoded entry needs no copy of its own.
  return mapEntries(payload, (encoded) => decodeEntry(encoded, logEntryBytes));
}

/**
 * Each entry of an Entries payload as `make` shapes it from the entry's term, index and position
 * in the batch: checked as {@link decodeEntriesPayload} checks the entries (throws DecodeError
 * where it would) but without copying any entry's data.
 */
export function decodeEntryHeads<T>(payload: Uint8Array, make: (term: number, index: number, position: number) => T): T[] {
  return mapEntries(payload, (encoded, position) => {
    const head = decodeEntryHead(encoded);
    return make(head.term, head.index, position);
  });
}

/** `each` of an Entries payload's encoded entries (views into `payload`), checking its framing. */
function mapEntries<T>(payload: Uint8Array, each: (encoded: Uint8Array, position: number) => T): T[] {
  const r = new ByteReader(payload);
  const n = r.count(1);
  const out: T[] = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = each(r.bytesView(), i);
  r.end();
  return out;
}

/** Decodes a Snapshot payload. */
export function decodeSnapshotPayload(payload: Uint8Array): SnapshotMetadata {
  const r = new ByteReader(payload);
  const meta = readSnapshotMeta(r);
  r.end();
  return meta;
}

function writeSnapshotMeta(w: ByteWriter, meta: SnapshotMetadata): void {
  w.varint(meta.index);
  w.varint(meta.term);
  w.bytes(encodeConfState(meta.confState));
}

function readSnapshotMeta(r: ByteReader): SnapshotMetadata {
  const index = r.varint();
  const term = r.varint();
  return { index, term, confState: decodeConfState(r.bytes()) };
}
