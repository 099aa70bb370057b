/**
 * `snapshot status`: what a saved snapshot holds, in the four figures etcdctl 3.4 prints
 * (`v3_snapshot.go` Status: hash, revision, totalKey, totalSize).
 *
 * - **hash**: etcd hashes every bucket of its bbolt file, which no other store can reproduce.
 *   Ours is the HashKV of the snapshot's keyspace at its revision (core/mvcc/hash.ts), the very
 *   number `etcdctl endpoint hashkv` prints for that revision on the member that was saved and
 *   on a cluster restored from the file, before anything new is written. So an operator can
 *   check a restore against its backup with one command.
 * - **revision**: the store's current revision when the snapshot was taken.
 * - **totalKey**: as etcd counts it, every entry of every sub-database (keys and their history,
 *   leases, members, meta, …), not the number of live keys.
 * - **totalSize**: the bytes of the database in the file (its size without the 32-byte trailer),
 *   as etcd reports its database's size rather than the number of live bytes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ReadTxn } from '../storage/backend';
import { LmdbBackend } from '../storage/lmdb-backend';
import { ALL_DBS, DB, META, decodeIndex, decodeRevisionMain } from '../storage/schema';
import { hashKv } from '../mvcc/hash';
import { extractSnapshotDb } from './snapshot-file';

/** The figures `snapshot status` prints (field names as etcd's JSON). */
export interface SnapshotStatus {
  /** HashKV of the keyspace at `revision` (unsigned 32-bit). */
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

/**
 * Status of the snapshot file `file`: verifies its SHA-256 trailer (a file without one, or with
 * a wrong one, is refused with a `SnapshotFileError` (snapshot-file.ts) that says what to do), opens a
 * scratch copy of its database under `scratchParent` (default: the system temp dir) and reads
 * the figures. The scratch copy is always removed.
 */
export async function snapshotFileStatus(file: string, scratchParent = os.tmpdir()): Promise<SnapshotStatus> {
  const scratch = fs.mkdtempSync(path.join(scratchParent, 'coracle-snapshot-status-'));
  try {
    const { payloadBytes } = await extractSnapshotDb(file, path.join(scratch, 'data.mdb'), {
      skipHashCheck: false,
      offersSkip: false,
      missingHashHint: "Take a new snapshot with 'etcdctl snapshot save'.",
    });
    const db = LmdbBackend.open({ path: scratch });
    try {
      return { ...db.read(statusOf), totalSize: payloadBytes };
    } finally {
      await db.close();
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Hash, revision and entry count of a database (the size is the caller's: it knows the file). */
export function statusOf(txn: ReadTxn): Omit<SnapshotStatus, 'totalSize'> {
  const revision = currentRevision(txn);
  const compacted = readNumber(txn, META.scheduledCompactRevision);
  const hash = hashKv(txn, revision, compacted) >>> 0;
  let totalKey = 0;
  for (const db of ALL_DBS) for (const _entry of txn.iterate(db)) totalKey++;
  return { hash, revision, totalKey };
}

/** The current revision: the one recorded by the last apply, else the newest in the history. */
function currentRevision(txn: ReadTxn): number {
  const recorded = readNumber(txn, META.currentRevision);
  let newest = 0;
  for (const { key } of txn.iterate(DB.kv, { reverse: true, limit: 1 })) newest = decodeRevisionMain(key);
  return Math.max(recorded, newest);
}

function readNumber(txn: ReadTxn, key: Buffer): number {
  const raw = txn.get(DB.meta, key);
  return raw ? decodeIndex(raw) : 0;
}
