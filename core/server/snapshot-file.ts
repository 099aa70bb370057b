/**
 * Reading a snapshot file that `etcdctl snapshot save` wrote from our Maintenance/Snapshot
 * stream (services/snapshot-stream.ts): the LMDB database, zero-padded to a multiple of 512
 * bytes, followed by the 32-byte SHA-256 of everything before it.
 *
 * The trailer is recognised as etcd 3.4 does (`v3_snapshot.go` saveDB): a file holds one iff its
 * size % 512 == 32. A file without one is either truncated or a database copied straight out of
 * a data dir (`member/data.mdb`, whose size is a multiple of the page size); etcd accepts the
 * latter only with `--skip-hash-check`, and so do we.
 *
 * Extraction copies the payload and hashes it in the same pass, so a multi-gigabyte snapshot is
 * read once; the copy is fsynced before it is reported done, because the restore that follows
 * renames it into a data dir that must survive a crash.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { open } from 'node:fs/promises';
import { SNAPSHOT_ALIGN_BYTES } from './services/snapshot-stream';

/** Bytes of the SHA-256 trailer. */
export const SNAPSHOT_HASH_BYTES = 32;

/** Bytes read per step while copying (bounded memory whatever the file's size). */
const COPY_CHUNK_BYTES = 1024 * 1024;

/** LMDB's meta-page magic (`MDB_MAGIC`), little-endian on every platform LMDB runs on here. */
const LMDB_MAGIC = 0xbeefc0de;
/** bbolt's meta-page magic: the file is an etcd snapshot, not ours. */
const BBOLT_MAGIC = 0xed0cdaed;
/**
 * Where LMDB's magic can sit: after a 16-byte page header (LMDB 0.9) or a 24-byte one (the LMDB
 * 1.0 line lmdb-js builds, whose page header also holds a txnid).
 */
const LMDB_MAGIC_OFFSETS = [16, 24];
/** bbolt's page header is 16 bytes; its meta starts with the magic. */
const BBOLT_MAGIC_OFFSET = 16;

/** A snapshot file that cannot be used; the message says why and what to do. */
export class SnapshotFileError extends Error {}

/** True when a file of `size` bytes ends with the SHA-256 trailer (etcd's rule). */
export function hasHashTrailer(size: number): boolean {
  return size % SNAPSHOT_ALIGN_BYTES === SNAPSHOT_HASH_BYTES;
}

/** What {@link extractSnapshotDb} found. */
export interface ExtractedSnapshot {
  /** Bytes copied (the file without its trailer). */
  payloadBytes: number;
  /** Whether the SHA-256 trailer was present and matched (false: skipped or absent). */
  hashVerified: boolean;
}

/** Options of {@link extractSnapshotDb}. */
export interface ExtractOptions {
  /** Accept a file without a trailer, and do not compare the trailer (etcd `--skip-hash-check`). */
  skipHashCheck: boolean;
  /** The hint for a file without a trailer (it differs between `status` and `restore`). */
  missingHashHint: string;
  /** Whether the caller has a `--skip-hash-check` flag (restore); the message names it then. */
  offersSkip: boolean;
}

/**
 * Copies the database held in the snapshot file `source` to `dest` (created; must not exist),
 * fsyncs it, and checks it: the trailer must be present and match unless `skipHashCheck`, and
 * the payload must be an LMDB database. Throws {@link SnapshotFileError} (after removing `dest`)
 * when it is not usable; the caller owns `dest` afterwards.
 */
export async function extractSnapshotDb(source: string, dest: string, options: ExtractOptions): Promise<ExtractedSnapshot> {
  let size: number;
  try {
    const st = fs.statSync(source);
    if (!st.isFile()) throw new SnapshotFileError(`snapshot ${source} is not a file`);
    size = st.size;
  } catch (err) {
    if (err instanceof SnapshotFileError) throw err;
    throw new SnapshotFileError(`cannot read snapshot ${source}: ${(err as Error).message}`);
  }
  const trailer = hasHashTrailer(size);
  if (!trailer && !options.skipHashCheck) {
    // etcd's text where etcd has the flag (restore); status has none to name.
    const what = options.offersSkip ? 'snapshot missing hash but --skip-hash-check=false' : 'snapshot missing hash';
    throw new SnapshotFileError(
      `${what}: ${source} is ${size} bytes, which is not the size of a whole ` +
        `'etcdctl snapshot save' file (it may be truncated or not a snapshot). ${options.missingHashHint}`,
    );
  }
  const payloadBytes = trailer ? size - SNAPSHOT_HASH_BYTES : size;
  try {
    const { digest, expected, head } = await copyHashing(source, dest, payloadBytes, trailer);
    const hashVerified = trailer && !options.skipHashCheck;
    if (hashVerified && !digest.equals(expected!)) {
      throw new SnapshotFileError(
        `snapshot integrity check failed for ${source}: expected sha256 ${expected!.toString('hex')}, got ${digest.toString('hex')}. ` +
          `The file is corrupt or was cut short; take a new one with 'etcdctl snapshot save'.`,
      );
    }
    checkFormat(source, head);
    return { payloadBytes, hashVerified };
  } catch (err) {
    fs.rmSync(dest, { force: true });
    throw err;
  }
}

/** Copies the first `length` bytes to `dest` hashing them, fsyncs, and reads the trailer. */
async function copyHashing(source: string, dest: string, length: number, trailer: boolean): Promise<{ digest: Buffer; expected?: Buffer; head: Buffer }> {
  const input = await open(source, 'r');
  try {
    const output = await open(dest, 'wx', 0o600);
    try {
      const sha = createHash('sha256');
      const buf = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
      const head = Buffer.alloc(64);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await input.read(buf, 0, Math.min(buf.length, length - done), done);
        if (bytesRead === 0) throw new SnapshotFileError(`snapshot ${source} shrank while it was read (at ${done} bytes)`);
        const chunk = buf.subarray(0, bytesRead);
        if (done < head.length) chunk.copy(head, done, 0, Math.min(bytesRead, head.length - done));
        sha.update(chunk);
        await output.write(chunk, 0, bytesRead, done);
        done += bytesRead;
      }
      await output.sync();
      let expected: Buffer | undefined;
      if (trailer) {
        expected = Buffer.alloc(SNAPSHOT_HASH_BYTES);
        const { bytesRead } = await input.read(expected, 0, SNAPSHOT_HASH_BYTES, length);
        if (bytesRead !== SNAPSHOT_HASH_BYTES) throw new SnapshotFileError(`snapshot ${source} shrank while it was read (trailer)`);
      }
      return { digest: sha.digest(), expected, head };
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/** Throws unless the first bytes are an LMDB meta page; names an etcd (bbolt) file as such. */
function checkFormat(source: string, head: Buffer): void {
  if (LMDB_MAGIC_OFFSETS.some((o) => head.readUInt32LE(o) === LMDB_MAGIC)) return;
  if (head.readUInt32LE(BBOLT_MAGIC_OFFSET) === BBOLT_MAGIC) {
    throw new SnapshotFileError(
      `${source} is an etcd (bbolt) snapshot, not a Coracle one: use it with etcd's own 'etcdctl snapshot status/restore'`,
    );
  }
  throw new SnapshotFileError(`${source} is not a Coracle snapshot (no LMDB database at its start); save one with 'etcdctl snapshot save' against Coracle`);
}
