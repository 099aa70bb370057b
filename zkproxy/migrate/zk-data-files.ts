/**
 * The files of a ZooKeeper data directory (its `dataDir` or `dataLogDir`): snapshots named
 * `snapshot.<zxid in hex>` (with `.gz` or `.snappy` when compressed) and transaction logs named
 * `log.<zxid in hex>`, kept in a `version-2` subdirectory (zookeeper-internals: the file
 * names carry the first zxid a log holds, or the last zxid a snapshot was started at).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** One snapshot or log file. */
export interface ZkDataFile {
  path: string;
  /** The zxid in its name. */
  zxid: bigint;
  /** For a snapshot: how it is compressed ('none' for a plain one). */
  compression: 'none' | 'gz' | 'snappy';
}

/** The snapshots (newest first) and logs (oldest first) found. */
export interface ZkDataFiles {
  snapshots: ZkDataFile[];
  logs: ZkDataFile[];
}

const SNAPSHOT = /^snapshot\.([0-9a-f]+)(?:\.(gz|snappy))?$/;
const LOG = /^log\.([0-9a-f]+)$/;

/**
 * The directory that holds the files: `dir/version-2` when it exists (the dataDir of zoo.cfg),
 * else `dir` itself (the version-2 directory given directly).
 */
export function versionDir(dir: string): string {
  const v2 = join(dir, 'version-2');
  return existsSync(v2) && statSync(v2).isDirectory() ? v2 : dir;
}

/** Lists the snapshots in `snapDir` and the logs in `logDir` (read as {@link versionDir}). */
export function listZkDataFiles(snapDir: string, logDir = snapDir): ZkDataFiles {
  const scan = (dir: string, pattern: RegExp): ZkDataFile[] => {
    const at = versionDir(dir);
    const out: ZkDataFile[] = [];
    for (const name of readdirSync(at)) {
      const m = pattern.exec(name);
      if (m) out.push({ path: join(at, name), zxid: BigInt(`0x${m[1]!}`), compression: (m[2] as 'gz' | 'snappy' | undefined) ?? 'none' });
    }
    return out;
  };
  const byZxid = (a: ZkDataFile, b: ZkDataFile): number => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0);
  return { snapshots: scan(snapDir, SNAPSHOT).sort(byZxid).reverse(), logs: scan(logDir, LOG).sort(byZxid) };
}
