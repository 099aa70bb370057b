/**
 * Reads a WAL directory back: every segment in sequence order, every record verified against
 * the chained CRC, applied to a {@link WalLogState}.
 *
 * Damage policy (etcd `wal.ReadAll` / `Repair`, Jepsen's bitflip-wal):
 * - In the **last** segment, the first zero length word, partial frame or checksum mismatch is
 *   the end of the log: a torn tail from a crash during an unsynced write. Nothing after it was
 *   acknowledged (an append answers only after a durable write covering it). The bytes after the
 *   tail that are not zero are reported and zeroed by {@link repairTail} so no later replay can
 *   read them as records.
 * - Anywhere else the same damage is corruption of acknowledged data: {@link WalCorruptionError}
 *   naming the file and offset. So is a record whose checksum is valid but whose content is not
 *   (a bug, not a torn write), a missing segment, or a header that does not chain to its
 *   predecessor (a non-last segment that lost its tail).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfState, Entry, HardState, SnapshotMetadata } from '../raft/types';
import { decodeConfState, decodeHardState } from '../raft/codec';
import { WalCorruptionError } from './wal-errors';
import { IndexTerm, WalLogState } from './wal-log-state';
import {
  decodeEntriesPayload,
  decodeEntryHeads,
  decodeSegmentHeader,
  decodeSnapshotPayload,
  FrameSource,
  scanFrames,
  WAL_FRAME_HEADER_BYTES,
  WalRecordType,
  WalSegmentHeader,
} from './wal-record';
import { WalSegmentReader } from './wal-segment-reader';
import { WalSegmentName } from './wal-segment';

/** What a WAL holds, as handed to the member that restarts from it. */
export interface WalReplay {
  /** The last hard state written (undefined if none ever was). */
  hardState?: HardState;
  /** The latest conf state (from a ConfState record or a snapshot marker, whichever came last). */
  confState?: ConfState;
  /** The latest snapshot marker. */
  snapshot?: SnapshotMetadata;
  /**
   * Entries up to `compacted.index` are gone: covered by the snapshot marker, or in segments
   * deleted by `releaseTo` (then `term` is the term of that last deleted entry).
   */
  compacted: IndexTerm;
  /** Retained entries, ascending and consecutive, starting at `compacted.index + 1`. */
  entries: Entry[];
  /** Index of the last entry (`compacted.index` when there is none). */
  lastIndex: number;
  /** Non-zero bytes found after the torn tail of the last segment (now zeroed); 0 after a clean stop. */
  tornBytes: number;
  /** Segment files read. */
  segments: number;
}

/** Where appends continue after a replay. */
export interface WalTail {
  segment: WalSegmentName;
  /** Offset after the last valid record. */
  end: number;
  /** CRC of the last valid record (the chain's seed for the next append). */
  crc: number;
  /** The file's size (its preallocated capacity). */
  size: number;
  /** Offset just past the last non-zero byte after `end` (equals `end` if the rest is zero). */
  garbageEnd: number;
}

/** A replay: the state, the live log index, and the tail. */
export interface WalReplayOutcome {
  replay: WalReplay;
  /** The log's state as the records left it (its entries are positions, not entries). */
  state: WalLogState<IndexTerm>;
  tail: WalTail;
}

/**
 * Where a replayed entry is: the first pass keeps only this, and the second decodes the entries
 * still retained at the end. Why two passes: most of a long WAL lies below the snapshot marker
 * that comes after it, and decoding those entries (copying every one's data) only to drop them
 * was half of a replay's time (bench/RESULTS.md, session 30).
 */
interface EntryRef extends IndexTerm {
  /** The Entries record holding it, and its position in that record's batch. */
  record: RecordPlace;
  position: number;
}

/** An Entries record's payload in a segment file. */
interface RecordPlace {
  segment: number;
  offset: number;
  length: number;
}

/** Replays `segments` (ascending, non-empty) of `dir`. Throws {@link WalCorruptionError}. */
export function replaySegments(dir: string, segments: readonly WalSegmentName[]): WalReplayOutcome {
  const refs: EntryRef[] = [];
  const state = new WalLogState<EntryRef>(refs);
  const window = new WalSegmentReader();
  let prevCrc = 0;
  let tail: WalTail | undefined;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (i > 0 && seg.seq !== segments[i - 1]!.seq + 1) {
      throw new WalCorruptionError(seg.file, 0, `segment ${segments[i - 1]!.seq + 1} is missing before it`);
    }
    const last = i === segments.length - 1;
    const fd = fs.openSync(path.join(dir, seg.file), 'r');
    try {
      window.open(fd, seg.file);
      const scan = replaySegment(seg, i, window, state, i === 0 ? undefined : prevCrc);
      if (scan.stop === 'torn' && !last) throw new WalCorruptionError(seg.file, scan.end, `${scan.reason} in a segment that is not the last`);
      prevCrc = scan.crc;
      if (last) tail = { segment: seg, end: scan.end, crc: scan.crc, size: window.size, garbageEnd: window.lastNonZero(scan.end) };
    } finally {
      fs.closeSync(fd);
    }
  }
  const replay: WalReplay = {
    hardState: state.hardState,
    confState: state.confState,
    snapshot: state.snapshot,
    compacted: { ...state.compacted },
    entries: decodeRetained(dir, segments, state.retained(), window),
    lastIndex: state.lastIndex,
    tornBytes: tail!.garbageEnd - tail!.end,
    segments: segments.length,
  };
  return { replay, state, tail: tail! };
}

/**
 * The second pass: decodes the entries `refs` names (ascending), reading the records that hold
 * any of them once more, in file order through `window`. The first pass verified those bytes
 * against their checksums, and the data directory's lock keeps writers out, so a record that now
 * decodes differently is damage.
 */
function decodeRetained(dir: string, segments: readonly WalSegmentName[], refs: readonly EntryRef[], window: WalSegmentReader): Entry[] {
  const out: Entry[] = new Array<Entry>(refs.length);
  let open: { segment: number; fd: number } | undefined;
  try {
    for (let k = 0; k < refs.length; ) {
      const place = refs[k]!.record;
      const file = segments[place.segment]!.file;
      if (open?.segment !== place.segment) {
        if (open) fs.closeSync(open.fd);
        open = { segment: place.segment, fd: fs.openSync(path.join(dir, file), 'r') };
        window.open(open.fd, file);
      }
      const batch = decodeAgain(window.bytes(place.offset, place.length), file, place.offset);
      for (; k < refs.length && refs[k]!.record === place; k++) {
        const e = batch[refs[k]!.position];
        if (!e || e.index !== refs[k]!.index || e.term !== refs[k]!.term) throw new WalCorruptionError(file, place.offset, 'record changed between two reads');
        out[k] = e;
      }
    }
  } finally {
    if (open) fs.closeSync(open.fd);
  }
  return out;
}

/** An Entries payload of the second pass; damage is a {@link WalCorruptionError}, as in the first. */
function decodeAgain(payload: Buffer, file: string, offset: number): Entry[] {
  try {
    return decodeEntriesPayload(payload);
  } catch (err) {
    throw new WalCorruptionError(file, offset, `record changed between two reads: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Zeroes the garbage after the tail and syncs it, so that the next append, which overwrites from
 * the tail, can never be followed by stale bytes a later replay would read.
 */
export function repairTail(tail: WalTail, fd: number): void {
  if (tail.garbageEnd <= tail.end) return;
  const zeros = Buffer.alloc(Math.min(tail.garbageEnd - tail.end, 1024 * 1024));
  for (let pos = tail.end; pos < tail.garbageEnd; pos += zeros.length) {
    fs.writeSync(fd, zeros, 0, Math.min(zeros.length, tail.garbageEnd - pos), pos);
  }
  fs.fdatasyncSync(fd);
}

/**
 * Applies one segment's records (`index`: its place in the replay); `prevCrc` is undefined for
 * the first segment read.
 */
function replaySegment(seg: WalSegmentName, index: number, src: FrameSource, state: WalLogState<EntryRef>, prevCrc: number | undefined) {
  let sawHeader = false;
  const scan = scanFrames(src, 0, 0, (type, payload, offset) => {
    const fail = (reason: string): never => {
      throw new WalCorruptionError(seg.file, offset, reason);
    };
    try {
      if (!sawHeader) {
        if (type !== WalRecordType.SegmentHeader) fail(`first record has type ${type}, not a segment header`);
        applyHeader(seg, decodeSegmentHeader(payload), state, prevCrc, fail);
        sawHeader = true;
        return;
      }
      const place = { segment: index, offset: offset + WAL_FRAME_HEADER_BYTES + 1, length: payload.length };
      applyRecord(type, payload, place, state, fail);
    } catch (err) {
      if (err instanceof WalCorruptionError) throw err;
      fail(err instanceof Error ? err.message : String(err));
    }
  });
  if (!sawHeader) throw new WalCorruptionError(seg.file, 0, `no valid segment header (${scan.reason ?? 'empty file'})`);
  return scan;
}

function applyHeader(seg: WalSegmentName, h: WalSegmentHeader, state: WalLogState<EntryRef>, prevCrc: number | undefined, fail: (r: string) => never): void {
  if (h.seq !== seg.seq || h.firstIndex !== seg.firstIndex) fail(`header says segment ${h.seq} at index ${h.firstIndex}, the file name disagrees`);
  if (prevCrc === undefined) {
    // The first segment read: its predecessors were released, so the log starts here.
    state.resetBase({ index: h.firstIndex - 1, term: h.prevTerm });
    state.hardState = h.hardState;
    state.snapshot = h.snapshot;
    state.confState = h.confState;
    return;
  }
  if (h.prevCrc !== prevCrc) fail('header does not chain to the previous segment (that segment lost records)');
  // A segment starts at most one past the log so far (below it when its first entries overwrite
  // a suffix), and continues the log: the entry before its start has the term it names.
  if (h.firstIndex > state.lastIndex + 1 || state.termAt(h.firstIndex - 1) !== h.prevTerm) {
    fail(`segment starts at index ${h.firstIndex} after term ${h.prevTerm}, but the log so far ends at ${state.lastIndex} with term ${state.termAt(h.firstIndex - 1)} there`);
  }
}

function applyRecord(type: number, payload: Buffer, place: RecordPlace, state: WalLogState<EntryRef>, fail: (r: string) => never): void {
  switch (type) {
    case WalRecordType.Entries: {
      const batch = decodeEntryHeads(payload, (term, index, position): EntryRef => ({ term, index, record: place, position }));
      const problem = state.checkAppend(batch);
      if (problem) fail(problem);
      state.append(batch);
      return;
    }
    case WalRecordType.HardState:
      state.hardState = decodeHardState(payload);
      return;
    case WalRecordType.Snapshot:
      state.applySnapshot(decodeSnapshotPayload(payload));
      return;
    case WalRecordType.ConfState:
      state.confState = decodeConfState(payload);
      return;
    default:
      fail(`unexpected record type ${type}`);
  }
}
