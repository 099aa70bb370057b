/**
 * What a member's data directory holds on disk now: the state (LMDB and received snapshots, what
 * ZooKeeper calls dataDir) and the Raft log (the WAL, ZooKeeper's dataLogDir), in bytes. Read at
 * call time (a few stat calls); used by monitoring, never on a request's path.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The state and log directories of a member and their sizes. */
export interface StorageUsage {
  stateDir: string;
  stateBytes: number;
  logDir: string;
  logBytes: number;
}

/** The usage of the member under `dataDir` (the `--data-dir` layout: member/, member/snap, member/wal). */
export function storageUsage(dataDir: string): StorageUsage {
  const stateDir = path.join(dataDir, 'member');
  const logDir = path.join(stateDir, 'wal');
  return { stateDir, stateBytes: filesBytes(stateDir) + filesBytes(path.join(stateDir, 'snap')), logDir, logBytes: filesBytes(logDir) };
}

/** Bytes of the regular files directly in `dir` (0 when it cannot be read; a file gone meanwhile counts 0). */
function filesBytes(dir: string): number {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let n = 0;
  for (const e of entries) {
    if (!e.isFile()) continue;
    try {
      n += fs.statSync(path.join(dir, e.name)).size;
    } catch {
      // Removed between the listing and the stat (a WAL segment released, a snapshot installed).
    }
  }
  return n;
}
