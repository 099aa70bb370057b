/**
 * Shared helpers for the WAL tests: entries, a sync hook that can be held or failed, and a way
 * to find record offsets in a segment file (for damaging a chosen record).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Entry, EntryType } from '../../../../core/raft/types';
import { WalIo } from '../../../../core/storage/wal';
import { scanFrames } from '../../../../core/storage/wal-record';
import { listSegments } from '../../../../core/storage/wal-segment';

/** An entry whose data names its index and term, `size` bytes long. */
export function entry(index: number, term: number, size = 32): Entry {
  const data = Buffer.alloc(size, 0x61);
  data.write(`${index}/${term}:`, 'latin1');
  return { index, term, type: EntryType.Normal, data: new Uint8Array(data) };
}

/** Entries `from..to` in `term`. */
export function entries(from: number, to: number, term: number, size = 32): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, size));
  return out;
}

/** `index/term` of each entry, for compact assertions. */
export function ids(es: readonly Entry[]): string[] {
  return es.map((e) => `${e.index}/${e.term}`);
}

/** A WalIo whose group-commit writes can be held in a queue and released one by one, or failed. */
export class HeldIo implements WalIo {
  calls = 0;
  syncCalls = 0;
  /** The descriptors the group commit wrote through. */
  readonly fds = new Set<number>();
  private queue: Array<{ write(): void; resolve(): void; reject(e: Error): void }> = [];
  hold = true;

  writeDurable(fd: number, chunks: Buffer[], position: number): Promise<void> {
    this.calls++;
    this.fds.add(fd);
    const write = (): void => void fs.writevSync(fd, chunks, position);
    if (!this.hold) return Promise.resolve(write());
    return new Promise<void>((resolve, reject) => this.queue.push({ write, resolve, reject }));
  }

  fdatasyncSync(fd: number): void {
    this.syncCalls++;
    fs.fdatasyncSync(fd);
  }

  /** Writes currently held. */
  get pending(): number {
    return this.queue.length;
  }

  /** Completes the oldest held write (really writing it first). */
  release(): void {
    const s = this.queue.shift();
    if (!s) throw new Error('no held write');
    s.write();
    s.resolve();
  }

  /** Fails the oldest held write with EIO (writing nothing). */
  fail(): void {
    const s = this.queue.shift();
    if (!s) throw new Error('no held write');
    s.reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
  }
}

/** Lets queued microtasks and I/O callbacks run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Full path of the segment files, ascending. */
export function segmentPaths(dir: string): string[] {
  return listSegments(dir).map((s) => path.join(dir, s.file));
}

/** Start and end offsets of every record in a segment file (header included). */
export function recordSpans(file: string): Array<{ start: number; end: number }> {
  const buf = fs.readFileSync(file);
  const spans: Array<{ start: number; end: number }> = [];
  const res = scanFrames(buf, 0, 0, (_type, payload, offset) => {
    spans.push({ start: offset, end: payload.byteOffset - buf.byteOffset + payload.length });
  });
  if (res.stop === 'torn') throw new Error(`fixture: ${file} is damaged already`);
  return spans;
}
