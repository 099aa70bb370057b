/**
 * At start, before the member's database is opened: finishes or forgets a snapshot install
 * that a crash interrupted (the order and the cases are in snapshot-installer.ts).
 *
 * For the received snapshots in `member/snap/<index>/` (highest first): if the WAL's snapshot
 * marker is at or beyond that index (the install's commit point was durable) and
 * `member/data.mdb` holds an older applied index, the snapshot's database replaces it
 * (rename, directory fsync). Everything else in `snap/` is then deleted: unfinished transfers,
 * snapshots never adopted, leftovers of a finished install, copies being sent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Wal } from '../storage/wal';
import { Logger } from '../util/logger';
import { readSnapshotDb } from './snapshot-db';
import { syncDir } from '../storage/sync-dir';

/** Recovers `memberDir` (`<data-dir>/member`); resolves with the index installed, or 0. */
export async function recoverSnapshotInstall(memberDir: string, logger: Logger): Promise<number> {
  const snapDir = path.join(memberDir, 'snap');
  if (!fs.existsSync(snapDir)) return 0;
  fs.rmSync(path.join(memberDir, 'data.mdb.new'), { force: true });
  const candidates = fs
    .readdirSync(snapDir)
    .filter((n) => /^[0-9a-f]{16}$/.test(n) && fs.existsSync(path.join(snapDir, n, 'data.mdb')))
    .map((n) => ({ dir: path.join(snapDir, n), index: parseInt(n, 16) }))
    .sort((a, b) => b.index - a.index);
  let installed = 0;
  if (candidates.length > 0) {
    const marker = await walSnapshotIndex(path.join(memberDir, 'wal'));
    const live = fs.existsSync(path.join(memberDir, 'data.mdb')) ? (await readSnapshotDb(memberDir)).index : 0;
    const pick = candidates.find((c) => c.index <= marker && c.index > live);
    if (pick) {
      fs.renameSync(path.join(pick.dir, 'data.mdb'), path.join(memberDir, 'data.mdb'));
      syncDir(memberDir);
      installed = pick.index;
      logger.warn({ index: pick.index, previousApplied: live }, 'finished installing a raft snapshot interrupted by a restart');
    }
  }
  fs.rmSync(snapDir, { recursive: true, force: true });
  return installed;
}

/** The index of the WAL's latest snapshot marker (0 when none or no WAL). */
async function walSnapshotIndex(dir: string): Promise<number> {
  if (!fs.existsSync(dir)) return 0;
  const { wal, replay } = await Wal.open(dir, { pipeline: false, preallocation: 'sparse' });
  await wal.close();
  return replay.snapshot?.index ?? 0;
}
