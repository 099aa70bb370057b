/**
 * Installs a Raft snapshot received from the leader (snapshot-receiver.ts put it, verified and
 * fsynced, in `member/snap/<index>/data.mdb`) as this member's applied state.
 *
 * Order (the driver runs this inside its apply chain, so no apply runs meanwhile):
 *
 * 1. **Commit point**: the WAL append of the snapshot marker (index, term, conf state) and the
 *    hard state is durable (raft-persistence.ts, before this runs). From now on the member's
 *    log starts after the snapshot, so its state must be the snapshot's.
 * 2. Wait for the write buffer to flush and for a running compaction to finish (nothing may
 *    still write to the old database), open the snapshot database where it lies, swap it in
 *    under the write buffer (snapshot-backend-slot.ts: one assignment, no read falls between),
 *    and rebuild everything kept in memory from it (`rebuild`: MVCC index, leases, alarms,
 *    member table, watchers resynced). Close the old database.
 * 3. Make the new database the member's durable one: hard-link the snapshot file as
 *    `member/data.mdb.new`, rename that over `member/data.mdb`, fsync `member/` (an atomic
 *    replace). The open database keeps using the same inode under both names.
 *
 * Crashes (the restart side is snapshot-recovery.ts):
 * - before 1: the WAL has no marker for the snapshot, LMDB is the old state; the restart
 *   deletes the received file and the member catches up again from the leader (old state).
 * - between 1 and 3: the WAL's marker is at or beyond the snapshot's index while
 *   `member/data.mdb` holds an older applied index; the restart moves the snapshot file (which
 *   may hold further applies made after step 2: same inode) over `member/data.mdb` (new state).
 * - after 3: `member/data.mdb` is the new state; the restart deletes the leftover directory.
 * The received file is never deleted before step 3 is durable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LmdbBackend } from '../storage/lmdb-backend';
import { Logger } from '../util/logger';
import { SnapshotMetadata } from '../raft/types';
import { SnapshotBackendSlot } from './snapshot-backend-slot';
import { snapshotDirName } from './snapshot-receiver';
import { syncDir } from '../storage/sync-dir';

/** Options of {@link SnapshotInstaller}. */
export interface SnapshotInstallerOptions {
  /** The member directory (`<data-dir>/member`), holding `data.mdb`, `wal/` and `snap/`. */
  memberDir: string;
  /** The slot under the write buffer. */
  slot: SnapshotBackendSlot;
  /** The write buffer over the slot: flushed before the swap. */
  buffer: { flush(): Promise<void> };
  /** Resolves when nothing else writes to the backend (a running compaction finished). */
  quiesce(): Promise<void>;
  /** Rebuilds the in-memory state from the (new) backend. */
  rebuild(): void;
  noSync: boolean;
  logger: Logger;
}

/** Installs received snapshots. */
export class SnapshotInstaller {
  /** The snapshot directory whose database is open now (undefined: `member/` itself). */
  private active: string | undefined;
  private installedCount = 0;

  constructor(private readonly o: SnapshotInstallerOptions) {}

  /** Snapshots installed by this process. */
  get installed(): number {
    return this.installedCount;
  }

  /** Steps 2 and 3 for the snapshot `meta` (step 1 is durable). Throws if its file is missing. */
  async install(meta: SnapshotMetadata): Promise<void> {
    const dir = path.join(this.o.memberDir, 'snap', snapshotDirName(meta.index));
    const file = path.join(dir, 'data.mdb');
    if (!fs.existsSync(file)) throw new Error(`raft snapshot ${meta.index} adopted but its database ${file} is missing`);
    await this.o.quiesce();
    await this.o.buffer.flush();
    const next = LmdbBackend.open({ path: dir, noSync: this.o.noSync });
    const old = this.o.slot.swap(next);
    this.o.rebuild();
    await old.close();
    const live = path.join(this.o.memberDir, 'data.mdb');
    const staged = live + '.new';
    fs.rmSync(staged, { force: true });
    fs.linkSync(file, staged);
    fs.renameSync(staged, live);
    syncDir(this.o.memberDir);
    // The previous snapshot directory's database is closed now: its name can go.
    if (this.active && this.active !== dir) fs.rmSync(this.active, { recursive: true, force: true });
    this.active = dir;
    this.installedCount++;
    this.o.logger.info({ index: meta.index, term: meta.term }, 'installed raft snapshot');
  }
}
