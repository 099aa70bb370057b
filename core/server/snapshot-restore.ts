/**
 * `snapshot restore`: a new data dir, for one member of a NEW cluster, holding the keyspace of a
 * saved snapshot (etcd 3.4 `clientv3/snapshot/v3_snapshot.go` Restore, done our way).
 *
 * What is kept: the MVCC history with every revision and the current revision, the compaction
 * point, leases (their TTLs start again in full when the new cluster elects a leader, as in etcd,
 * whose restored lessor likewise forgets remaining TTLs), auth users, roles and settings.
 *
 * What is dropped: everything that belonged to the old cluster's Raft and membership — hard
 * state, conf state, log entries and log compaction point kept in LMDB, member ids and the
 * cluster id, the member table and removed ids (etcd deletes its `members` and
 * `members_removed` buckets), and alarms, which name old member ids. There is no WAL and no
 * snapshot marker in the new dir: the snapshot file never carries them.
 *
 * What is written instead is exactly what a first boot with `--initial-cluster-state new` writes
 * (cluster-first-write.ts `writeBootstrap`): member ids from the peer URLs and the token, the
 * cluster id from the member ids, one AddNode conf-change entry per member at indexes 1..n, term
 * 1, committed, and the consistent (applied) index set to n — etcd writes the same entries into
 * the new WAL and sets its consistent index to their count, so the new cluster's first entries
 * (n+1 onwards) are applied and none is skipped as "already applied" under the old cluster's
 * index. The restored dir then starts through the normal path: the stored ids mark it as
 * bootstrapped (the --initial-* flags are ignored, as on any restart) and the WAL is created from
 * the entries found in LMDB, as after a first boot (raft-persistence.ts).
 *
 * Crash safety: everything is built in a temporary directory next to the target, fsynced, and
 * renamed into place, then the parent is fsynced. A crash leaves either no data dir or a complete
 * one (plus, at worst, a `.<name>.restore-*` directory to delete).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WriteTxn } from '../storage/backend';
import { LmdbBackend } from '../storage/lmdb-backend';
import { DB, META } from '../storage/schema';
import { MemberRecord } from '../cluster/member-table';
import { initialMembers, parseInitialCluster, verifyInitialCluster } from '../cluster/initial-cluster';
import { Logger } from '../util/logger';
import { writeBootstrap } from './cluster-first-write';
import { extractSnapshotDb } from './snapshot-file';
import { syncDir } from '../storage/sync-dir';
import { SnapshotStatus, statusOf } from './snapshot-status';

/** Options of {@link restoreSnapshot}, with etcdctl 3.4's flag names in the comments. */
export interface RestoreOptions {
  /** The snapshot file (the positional argument). */
  snapshotPath: string;
  /** `--data-dir`: must not exist, or be an empty directory. */
  dataDir: string;
  /** `--name`: this member's name in `initialCluster`. */
  name: string;
  /** `--initial-cluster`: `name=peerURL,…` of the new cluster. */
  initialCluster: string;
  /** `--initial-cluster-token`: part of every member id and so of the cluster id. */
  initialClusterToken: string;
  /** `--initial-advertise-peer-urls`: must equal this member's URLs in `initialCluster`. */
  peerUrls: string[];
  /** `--skip-hash-check`: accept a file without a trailer, or with a wrong one. */
  skipHashCheck: boolean;
  logger: Logger;
}

/** What a restore produced. */
export interface RestoreResult {
  memberId: bigint;
  clusterId: bigint;
  /** The new cluster's members (ordered by id). */
  members: MemberRecord[];
  /** The snapshot's figures (as `snapshot status` prints them). */
  status: SnapshotStatus;
  /** Whether the SHA-256 trailer was checked. */
  hashVerified: boolean;
}

/** A restore refused before anything was written (bad flags, existing dir, bad file). */
export class RestoreError extends Error {}

/** Meta keys that belong to the old cluster's Raft state or identity. */
const OLD_CLUSTER_META: readonly Buffer[] = [
  META.raftHardState,
  META.raftConfState,
  META.raftLogCompacted,
  META.consistentIndex,
  META.consistentTerm,
  META.memberId,
  META.clusterId,
];

/** Sub-databases emptied: old log entries, old membership, alarms raised by old members. */
const OLD_CLUSTER_DBS: readonly string[] = [DB.raftLog, DB.members, DB.membersRemoved, DB.alarm];

/**
 * Restores `snapshotPath` into a new data dir `dataDir` for member `name` of a new cluster (see
 * the file comment). Throws {@link RestoreError} or `SnapshotFileError` (snapshot-file.ts), with
 * nothing left behind, when the flags, the target or the file are not usable.
 */
export async function restoreSnapshot(o: RestoreOptions): Promise<RestoreResult> {
  const cluster = parseInitialCluster(o.initialCluster, o.name, o.peerUrls);
  verifyInitialCluster(cluster, o.name, o.peerUrls, false);
  const { members, clusterId } = initialMembers(cluster, o.initialClusterToken);
  const self = members.find((m) => m.name === o.name)!;
  const target = path.resolve(o.dataDir);
  checkTarget(o.dataDir, target);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, `.${path.basename(target)}.restore-`));
  o.logger.info({ path: o.snapshotPath, 'data-dir': o.dataDir, staging }, 'restoring snapshot');
  try {
    const memberDir = path.join(staging, 'member');
    fs.mkdirSync(memberDir, { mode: 0o700 });
    const extracted = await extractSnapshotDb(o.snapshotPath, path.join(memberDir, 'data.mdb'), {
      skipHashCheck: o.skipHashCheck,
      offersSkip: true,
      missingHashHint: "Take a new snapshot with 'etcdctl snapshot save'; a data.mdb copied out of a data dir needs --skip-hash-check.",
    });
    const status = await rewriteForNewCluster(memberDir, self.id, clusterId, members, extracted.payloadBytes);
    syncDir(memberDir);
    syncDir(staging);
    // rename(2) replaces an empty directory atomically, so an empty target is fine too.
    fs.renameSync(staging, target);
    syncDir(parent);
    o.logger.info({ path: o.snapshotPath, 'data-dir': o.dataDir, 'member-id': self.id.toString(16), 'cluster-id': clusterId.toString(16), revision: status.revision }, 'restored snapshot');
    return { memberId: self.id, clusterId, members, status, hashVerified: extracted.hashVerified };
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Refuses a target that exists and is not an empty directory (etcd refuses any that exists). */
function checkTarget(given: string, target: string): void {
  let entries: string[];
  try {
    entries = fs.readdirSync(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new RestoreError(`data-dir "${given}" exists`);
    throw new RestoreError(`data-dir "${given}" could not be read: ${(err as Error).message}`);
  }
  if (entries.length > 0) throw new RestoreError(`data-dir "${given}" exists (and is not empty): restore into a new directory, or move the old one away first`);
}

/**
 * Drops the old cluster's state and writes the new cluster's bootstrap into the database in
 * `memberDir`; returns the snapshot's figures. Both transactions are durable when this resolves.
 */
async function rewriteForNewCluster(memberDir: string, memberId: bigint, clusterId: bigint, members: MemberRecord[], payloadBytes: number): Promise<SnapshotStatus> {
  const db = LmdbBackend.open({ path: memberDir });
  try {
    const status = { ...db.read(statusOf), totalSize: payloadBytes };
    await db.write(dropOldCluster);
    await writeBootstrap(db, memberId, clusterId, members);
    return status;
  } finally {
    await db.close();
    // LMDB's reader table: recreated at every open, so it has no place in a fresh data dir.
    fs.rmSync(path.join(memberDir, 'lock.mdb'), { force: true });
  }
}

/** Deletes what {@link OLD_CLUSTER_META} and {@link OLD_CLUSTER_DBS} name. */
function dropOldCluster(txn: WriteTxn): void {
  for (const key of OLD_CLUSTER_META) txn.del(DB.meta, key);
  for (const name of OLD_CLUSTER_DBS) {
    // Collected first: deleting while an iterator over the same sub-database is open is not
    // part of the Backend contract.
    const keys = [...txn.iterate(name)].map((e) => Buffer.from(e.key));
    for (const k of keys) txn.del(name, k);
  }
}
