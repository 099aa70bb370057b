/**
 * The write-ahead log: Raft's entries and hard state, durable by group-committed `O_DSYNC` writes
 * to preallocated segment files (etcd `server/storage/wal`, reference/etcd.md §3.4). It is what makes
 * a write durable; the applied state goes to LMDB later, off the acknowledgement path, and
 * `releaseTo` deletes segments once LMDB's durable applied index has passed them.
 *
 * Contracts:
 * - `append` frames its records synchronously, in call order, into the tail's buffer
 *   (wal-tail-buffer.ts) and resolves only after a durable write that took them has completed.
 *   The group commit is one write of everything framed so far through a descriptor opened
 *   `O_DSYNC` (a `pwrite` and an `fdatasync` in one system call, on a pool thread). At most one
 *   is in flight; appends made meanwhile share the next one.
 * - Any failed write or sync poisons the WAL: all waiting appends and every later one reject with
 *   {@link WalFailedError}. Nothing is retried (fsyncgate). Restart and replay instead.
 * - Segments are preallocated (zero-filled by default, in the background ahead of need), so an
 *   append never changes a file's size and a durable write flushes only the data pages.
 * - A segment is cut when the next batch would not fit: the old segment is fdatasynced first
 *   (so the new one can never be durable ahead of it), then the new one gets its header, is
 *   synced, renamed into place and the directory fsynced. Each header carries a copy of the hard
 *   state, snapshot marker and conf state, so deleting older segments loses none of them.
 * - `open` replays the directory (see wal-replay.ts for the torn-tail and corruption rules) and
 *   continues appending after the last valid record of the last segment.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfState, Entry, HardState, SnapshotMetadata } from '../raft/types';
import { WAL_SEGMENT_BYTES_DEFAULT } from '../util/limits';
import { WalFilePipeline } from './wal-file-pipeline';
import { WalGroupSync } from './wal-group-sync';
import { WalTailBuffer } from './wal-tail-buffer';
import { syncDir, syncDirAsync } from './sync-dir';
import { WalLogState } from './wal-log-state';
import { confStateRecord, entriesRecord, frameRecords, hardStateRecord, segmentHeaderRecord, snapshotRecord, WAL_FRAME_HEADER_BYTES, WalRecord, WalSegmentHeader } from './wal-record';
import { repairTail, replaySegments, WalReplay } from './wal-replay';
import { createPreallocated, createPreallocatedSync, listSegments, removeTempFiles, segmentFileName, WalPreallocation, WalSegmentName, writeChunks, writeChunksSync, writeFullySync } from './wal-segment';

export type { WalReplay } from './wal-replay';

/** The durable writes the WAL makes; injectable so tests can hold or fail one. */
export interface WalIo {
  /**
   * The group commit, off the event loop: writes `chunks` back to back at `position` of `fd`, a
   * descriptor the WAL opened `O_DSYNC` (plain with `noSync`), so it resolves once they are durable.
   */
  writeDurable(fd: number, chunks: Buffer[], position: number): Promise<void>;
  /** Synchronous sync, used only when cutting a segment. */
  fdatasyncSync(fd: number): void;
}

/** Options for {@link Wal.open}. */
export interface WalOptions {
  /** Capacity of each segment (default 64 MiB). A batch larger than this gets a larger segment. */
  segmentBytes?: number;
  /** How segments reserve space (default `zero`: see wal-segment.ts). */
  preallocation?: WalPreallocation;
  /** Prepare the next segment in the background (default true). */
  pipeline?: boolean;
  /** Replaces the real writes and syncs (tests). */
  io?: Partial<WalIo>;
  /** Never sync (`--unsafe-no-fsync`): appends are written without `O_DSYNC`, cuts not synced. */
  noSync?: boolean;
}

/**
 * One append. Records are written in this order: snapshot marker, entries, hard state, conf
 * state. Entries must be consecutive and start at most one past the last index (after the
 * snapshot marker, if any); an entry at index i replaces i and everything after it.
 */
export interface WalBatch {
  entries?: readonly Entry[];
  hardState?: HardState;
  /** Entries up to `snapshot.index` are covered by a snapshot or the applied state. */
  snapshot?: SnapshotMetadata;
  confState?: ConfState;
}

/** Result of {@link Wal.open}. */
export interface WalOpenResult {
  wal: Wal;
  /** The log as recorded, to restore Raft's storage and hard state from. */
  replay: WalReplay;
}

const DEFAULT_IO: WalIo = { writeDurable: writeChunks, fdatasyncSync: (fd) => fs.fdatasyncSync(fd) };
// Unsafe mode writes on the main thread and answers at once, as a page-cache write needs no pool.
const NO_SYNC_IO: WalIo = { writeDurable: async (fd, chunks, at) => writeChunksSync(fd, chunks, at), fdatasyncSync: () => {} };

/** The open tail segment. */
interface Tail {
  segment: WalSegmentName;
  fd: number;
  /** The same file opened `O_DSYNC` (the plain `fd` with `noSync`): the group commit writes here. */
  durableFd: number;
  size: number;
  /** Where the next record goes. */
  end: number;
  /** CRC of the last record written (the chain seed). */
  crc: number;
}

/** A write-ahead log in one directory. Open with {@link Wal.open}. */
export class Wal {
  private readonly group: WalGroupSync;
  private readonly io: WalIo;
  private readonly segmentBytes: number;
  private readonly mode: WalPreallocation;
  private readonly noSync: boolean;
  private readonly pipeline: WalFilePipeline | undefined;
  private readonly buffer = new WalTailBuffer();
  /** Old tails whose files an in-flight sync still uses; closed when it settles. */
  private retired: Tail[] = [];
  private closed = false;
  private syncObserver: ((seconds: number) => void) | undefined;

  private constructor(
    private readonly dir: string,
    private readonly state: WalLogState,
    private readonly segments: WalSegmentName[],
    private tail: Tail,
    options: WalOptions,
  ) {
    this.io = resolveIo(options);
    this.segmentBytes = options.segmentBytes ?? WAL_SEGMENT_BYTES_DEFAULT;
    this.mode = options.preallocation ?? 'zero';
    this.noSync = options.noSync ?? false;
    this.pipeline = options.pipeline === false ? undefined : new WalFilePipeline(dir, this.segmentBytes, this.mode);
    this.group = new WalGroupSync(
      () => this.syncTail(),
      () => this.closeRetired(),
    );
    this.pipeline?.start();
  }

  /**
   * Opens (creating if needed) the WAL in `dir` and replays it. Throws
   * {@link WalCorruptionError} for damage other than a torn tail of the last segment.
   */
  static async open(dir: string, options: WalOptions = {}): Promise<WalOpenResult> {
    fs.mkdirSync(dir, { recursive: true });
    removeTempFiles(dir);
    const names = listSegments(dir);
    if (names.length === 0) {
      const state = new WalLogState();
      const size = options.segmentBytes ?? WAL_SEGMENT_BYTES_DEFAULT;
      const tmp = path.join(dir, 'first.tmp');
      const fd = await createPreallocated(tmp, size, options.preallocation ?? 'zero');
      const tail = installSegment(dir, tmp, fd, size, { seq: 0, firstIndex: 1, prevTerm: 0, prevCrc: 0 }, resolveIo(options), options.noSync);
      const replay: WalReplay = { compacted: { index: 0, term: 0 }, entries: [], lastIndex: 0, tornBytes: 0, segments: 1 };
      return { wal: new Wal(dir, state, [tail.segment], tail, options), replay };
    }
    const { replay, state, tail } = replaySegments(dir, names);
    const fd = fs.openSync(path.join(dir, tail.segment.file), 'r+');
    try {
      repairTail(tail, fd);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    const open: Tail = { segment: tail.segment, fd, durableFd: openDurable(path.join(dir, tail.segment.file), fd, options.noSync), size: tail.size, end: tail.end, crc: tail.crc };
    // The live WAL keeps only terms: drop the replayed entries' references (the caller has them).
    const live = new WalLogState();
    live.resetBase(replay.compacted);
    live.append(replay.entries);
    live.hardState = state.hardState;
    live.snapshot = state.snapshot;
    live.confState = state.confState;
    return { wal: new Wal(dir, live, names, open, options), replay };
  }

  /** Index of the last entry (or of the compaction point when the log is empty). */
  get lastIndex(): number {
    return this.state.lastIndex;
  }

  /** Number of segment files. */
  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Resolves when no background preallocation is running (benchmarks and tests that want to
   * measure appends without the next segment's zero fill competing for the disk).
   */
  async preallocated(): Promise<void> {
    await this.pipeline?.settled();
  }

  /** Sets the observer told the duration of each group commit's durable write (metrics). Must not throw. */
  observeSyncs(observer: ((seconds: number) => void) | undefined): void {
    this.syncObserver = observer;
  }

  /**
   * Writes `batch` at the tail now and resolves once it is durable. Rejects without writing if
   * the batch breaks the log rules (a caller bug); rejects with {@link WalFailedError} once the
   * WAL is poisoned. An empty batch resolves when everything appended before it is durable.
   */
  append(batch: WalBatch, options: { sync?: boolean } = {}): Promise<void> {
    if (this.closed) return Promise.reject(new Error('wal: closed'));
    if (this.group.failed) return Promise.reject(this.group.failed);
    const entries = batch.entries ?? [];
    const problem = this.state.checkBatch(entries, batch.snapshot);
    if (problem) return Promise.reject(new Error(`wal: bad append: ${problem}`));
    const records = this.batchRecords(batch);
    if (records.length === 0) return this.group.waitAll();
    try {
      this.writeRecords(records);
    } catch (err) {
      return Promise.reject(this.group.fail(err));
    }
    const written = this.group.noteWrite();
    // Unsynced (a hard state whose only change is the commit index, which Raft can recover):
    // in the page cache now, on disk with the next synced append.
    if (options.sync === false) return Promise.resolve();
    return this.group.wait(written);
  }

  /**
   * Deletes whole segments whose entries are all ≤ `index` (the durable applied index of the
   * state machine): segment k goes when segment k+1 starts at or before `index + 1`. The tail
   * segment always stays. Deletes oldest first, fsyncing the directory after each, so a crash
   * leaves a contiguous suffix. Resolves with the number of segments deleted.
   */
  async releaseTo(index: number): Promise<number> {
    let removed = 0;
    while (!this.closed && this.segments.length > 1 && this.segments[1]!.firstIndex <= index + 1) {
      const seg = this.segments.shift()!;
      await fs.promises.rm(path.join(this.dir, seg.file), { force: true });
      await syncDirAsync(this.dir);
      removed++;
    }
    return removed;
  }

  /** Waits for appends already made, stops the preallocator and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.group.waitAll();
    } catch {
      // A poisoned WAL closes anyway; its appends were already rejected.
    }
    await this.pipeline?.close();
    this.closeRetired();
    closeTail(this.tail);
  }

  /**
   * Frames and writes records at the tail and applies each to the log state. The common case is
   * one write for the whole batch. When the batch does not fit, records go one by one and a
   * segment is cut before the first that does not fit, so that the new segment's header
   * describes the log exactly as it is before that record (a batch may then span two segments;
   * both are synced before the append resolves).
   */
  private writeRecords(records: PendingRecord[]): void {
    const total = records.reduce((n, r) => n + recordBytes(r.record), 0);
    if (this.tail.end + total <= this.tail.size) {
      this.writeFramed(records.map((r) => r.record));
      for (const r of records) r.apply();
      return;
    }
    for (const r of records) {
      if (this.tail.end + recordBytes(r.record) > this.tail.size) this.cut(recordBytes(r.record), r.firstIndex);
      this.writeFramed([r.record]);
      r.apply();
    }
  }

  private writeFramed(records: WalRecord[]): void {
    const { bytes, crc } = frameRecords(records, this.tail.crc);
    this.buffer.add(bytes, this.tail.end);
    this.tail.end += bytes.length;
    this.tail.crc = crc;
  }

  /** The records of one append, in the documented order, each with its effect on the log state. */
  private batchRecords(batch: WalBatch): PendingRecord[] {
    const out: PendingRecord[] = [];
    const { snapshot, entries, hardState, confState } = batch;
    if (snapshot) out.push({ record: snapshotRecord(snapshot), apply: () => this.state.applySnapshot(snapshot) });
    if (entries && entries.length > 0) out.push({ record: entriesRecord(entries), apply: () => this.state.append(entries), firstIndex: entries[0]!.index });
    if (hardState) out.push({ record: hardStateRecord(hardState), apply: () => (this.state.hardState = hardState) });
    if (confState) out.push({ record: confStateRecord(confState), apply: () => (this.state.confState = confState) });
    return out;
  }

  /**
   * Starts a new segment with room for `needed` more bytes (see the contract above). When the
   * next record is entries starting at `entriesFrom`, the segment starts there if that is below
   * the last index + 1 (the entries overwrite a suffix): then the header's first index and
   * previous term describe the log this segment really continues, and the previous segment holds
   * no live entry at or above that first index (what `releaseTo` relies on).
   */
  private cut(needed: number, entriesFrom: number | undefined): void {
    const old = this.tail;
    this.buffer.flushSync(old.fd);
    this.io.fdatasyncSync(old.fd);
    this.group.markSynced(this.group.noteWrite());
    const seq = old.segment.seq + 1;
    const next = this.state.lastIndex + 1;
    const firstIndex = entriesFrom === undefined ? next : Math.min(next, Math.max(entriesFrom, this.state.compacted.index + 1));
    const header: WalSegmentHeader = {
      seq,
      firstIndex,
      prevTerm: this.state.termAt(firstIndex - 1) ?? 0,
      prevCrc: old.crc,
      hardState: this.state.hardState,
      snapshot: this.state.snapshot,
      confState: this.state.confState,
    };
    const minSize = recordBytes(segmentHeaderRecord(header)) + needed;
    const ready = this.pipeline?.take(minSize);
    let file: string;
    let fd: number;
    let size: number;
    if (ready) {
      ({ file, fd, size } = ready);
    } else {
      // Nothing ready (appends outran the background fill, or a huge batch): a sparse file now
      // rather than stalling every append for a 64 MiB zero fill.
      file = path.join(this.dir, `cut-${seq}.tmp`);
      size = Math.max(this.segmentBytes, minSize);
      fd = createPreallocatedSync(file, size, 'sparse');
    }
    this.tail = installSegment(this.dir, file, fd, size, header, this.io, this.noSync);
    this.segments.push(this.tail.segment);
    if (this.group.syncing) this.retired.push(old);
    else closeTail(old);
  }

  /**
   * The group commit: writes what is pending, durably. Nothing pending means every write the
   * group counted is already durable (a cut synced it) or was in the flight that just landed,
   * since each counted write is either framed into the buffer or synced at a cut.
   */
  private async syncTail(): Promise<void> {
    const flight = this.buffer.take();
    if (!flight) return;
    const started = performance.now();
    try {
      await this.io.writeDurable(this.tail.durableFd, flight.chunks, flight.position);
    } finally {
      this.buffer.landed();
    }
    this.syncObserver?.((performance.now() - started) / 1000);
  }

  private closeRetired(): void {
    for (const t of this.retired) closeTail(t);
    this.retired = [];
  }
}

/** The injected writes over the real ones (methods bound: the hook may be a class instance). */
function resolveIo(options: WalOptions): WalIo {
  const { io } = options;
  const base = options.noSync ? NO_SYNC_IO : DEFAULT_IO;
  return {
    writeDurable: io?.writeDurable ? io.writeDurable.bind(io) : base.writeDurable,
    fdatasyncSync: io?.fdatasyncSync ? io.fdatasyncSync.bind(io) : base.fdatasyncSync,
  };
}

/** The segment `file` opened for the group commit's durable writes (`fd` itself with `noSync`). */
function openDurable(file: string, fd: number, noSync: boolean | undefined): number {
  return noSync ? fd : fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_DSYNC);
}

/** Closes a tail's descriptors (one, with `noSync`). */
function closeTail(tail: Tail): void {
  if (tail.durableFd !== tail.fd) fs.closeSync(tail.durableFd);
  fs.closeSync(tail.fd);
}

/** A record to write and what it does to the log state once written. */
interface PendingRecord {
  record: WalRecord;
  apply(): void;
  /** For an entries record: the index of its first entry. */
  firstIndex?: number;
}

/** Framed size of a record. */
function recordBytes(r: WalRecord): number {
  return WAL_FRAME_HEADER_BYTES + 1 + r.payload.length;
}

/**
 * Writes the header into the preallocated `.tmp` file, syncs it, renames it to its segment name
 * and fsyncs the directory: only then does the segment exist for a replay.
 */
function installSegment(
  dir: string,
  tmpFile: string,
  fd: number,
  size: number,
  header: WalSegmentHeader,
  io: WalIo,
  noSync: boolean | undefined,
): Tail {
  const { bytes, crc } = frameRecords([segmentHeaderRecord(header)], 0);
  try {
    writeFullySync(fd, bytes, 0);
    io.fdatasyncSync(fd);
    const segment = { seq: header.seq, firstIndex: header.firstIndex, file: segmentFileName(header.seq, header.firstIndex) };
    fs.renameSync(tmpFile, path.join(dir, segment.file));
    syncDir(dir);
    return { segment, fd, durableFd: openDurable(path.join(dir, segment.file), fd, noSync), size, end: bytes.length, crc };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}
