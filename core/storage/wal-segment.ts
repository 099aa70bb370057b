/**
 * WAL segment files: names, listing, preallocation and the directory fsync.
 *
 * A segment is `%016x-%016x.wal` (sequence, first index), so names sort by sequence. It is
 * created under a `.tmp` name, sized, its header written and synced, and only then renamed into
 * place and the directory fsynced (etcd's cut): a `.wal` file therefore always starts with a
 * durable header, and a crash mid-creation leaves only a `.tmp` file, deleted at open.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

/** How a new segment reserves its space. */
export type WalPreallocation = 'zero' | 'sparse';

const writeAsync = promisify(fs.write);
const openAsync = promisify(fs.open);
const fdatasyncAsync = promisify(fs.fdatasync);
const closeAsync = promisify(fs.close);
const writevAsync = promisify(fs.writev);

/** Zero-fill chunk: big enough for few syscalls, small enough not to hog the thread pool. */
const ZERO_CHUNK = Buffer.alloc(1024 * 1024);

/** A segment named in the directory. */
export interface WalSegmentName {
  seq: number;
  firstIndex: number;
  file: string;
}

/** File name of segment `seq` whose first index is `firstIndex`. */
export function segmentFileName(seq: number, firstIndex: number): string {
  return `${seq.toString(16).padStart(16, '0')}-${firstIndex.toString(16).padStart(16, '0')}.wal`;
}

/** Parses a segment file name; undefined for anything else. */
export function parseSegmentFileName(file: string): WalSegmentName | undefined {
  const m = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/.exec(file);
  if (!m) return undefined;
  return { seq: parseInt(m[1]!, 16), firstIndex: parseInt(m[2]!, 16), file };
}

/** The segments in `dir`, ascending by sequence. */
export function listSegments(dir: string): WalSegmentName[] {
  const out: WalSegmentName[] = [];
  for (const f of fs.readdirSync(dir)) {
    const s = parseSegmentFileName(f);
    if (s) out.push(s);
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/** Deletes leftover `.tmp` files (a crash during segment creation or preallocation). */
export function removeTempFiles(dir: string): void {
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.tmp')) fs.rmSync(path.join(dir, f), { force: true });
}

/**
 * Creates a preallocated file at `file` synchronously and returns its open fd. `zero` writes
 * zeros over the whole size (every block allocated: later fdatasyncs journal nothing); `sparse`
 * only sets the size (fast, but each first write into a block allocates it).
 */
export function createPreallocatedSync(file: string, size: number, mode: WalPreallocation): number {
  const fd = fs.openSync(file, 'w+');
  try {
    if (mode === 'zero') {
      for (let pos = 0; pos < size; pos += ZERO_CHUNK.length) fs.writeSync(fd, ZERO_CHUNK, 0, Math.min(ZERO_CHUNK.length, size - pos), pos);
    } else {
      fs.ftruncateSync(fd, size);
    }
    fs.fdatasyncSync(fd);
    return fd;
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/**
 * Like {@link createPreallocatedSync}, on the thread pool, one chunk at a time so the event loop
 * and the WAL's own writes keep going (the background half of etcd's file pipeline).
 */
export async function createPreallocated(file: string, size: number, mode: WalPreallocation): Promise<number> {
  const fd = await openAsync(file, 'w+');
  try {
    if (mode === 'zero') {
      for (let pos = 0; pos < size; pos += ZERO_CHUNK.length) await writeAsync(fd, ZERO_CHUNK, 0, Math.min(ZERO_CHUNK.length, size - pos), pos);
    } else {
      fs.ftruncateSync(fd, size);
    }
    await fdatasyncAsync(fd);
    return fd;
  } catch (err) {
    await closeAsync(fd);
    throw err;
  }
}

/** Writes all of `bytes` at `position` (regular files take whole writes; loop anyway). */
export function writeFullySync(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/** Writes `chunks` back to back at `position` of `fd`, synchronously. */
export function writeChunksSync(fd: number, chunks: readonly Uint8Array[], position: number): void {
  let at = position;
  for (const c of chunks) {
    writeFullySync(fd, c, at);
    at += c.length;
  }
}

/** Writes `chunks` back to back at `position` of `fd`, off the event loop, however many calls it takes. */
export async function writeChunks(fd: number, chunks: Buffer[], position: number): Promise<void> {
  let rest = chunks;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await writevAsync(fd, rest, at);
    at += bytesWritten;
    rest = dropBytes(rest, bytesWritten);
  }
}

/** `chunks` without their first `n` bytes. */
function dropBytes(chunks: Buffer[], n: number): Buffer[] {
  let skip = n;
  let i = 0;
  while (i < chunks.length && skip >= chunks[i]!.length) skip -= chunks[i++]!.length;
  if (i === chunks.length) return [];
  return [chunks[i]!.subarray(skip), ...chunks.slice(i + 1)];
}
