/**
 * Which copied znodes are containers and TTL znodes, learned from the source ZooKeeper's data
 * directory (its client protocol does not say: zk-migration.ts). The newest snapshot whose seal
 * holds gives the ones that existed when it was taken, the logs from there on the ones created
 * since. A znode keeps its kind only when its path and its czxid both match what the files say,
 * so a stale file (a node deleted and created again as a plain one, a snapshot older than the
 * logs read) can never give a kind to the wrong incarnation: at worst a znode the files do not
 * know yet arrives plain, as without them.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { SpecialNode } from './special-node';
import { ZkDataFile, listZkDataFiles } from './zk-data-files';
import { ZkDataFileError } from './zk-data-file-error';
import { readSnapshot } from './zk-snapshot-reader';
import { readTxnLog } from './zk-txn-log-reader';
import { MigrationError } from './zk-source';

/** What was read, for the user. */
export interface NodeKindsReport {
  /** The snapshot used (file path), if any. */
  snapshot?: string;
  /** Znodes in that snapshot. */
  snapshotZnodes: number;
  /** Logs read, and txns in them. */
  logs: number;
  txns: number;
  /** Snapshots passed over and log tails not read, with the reason each. */
  warnings: string[];
}

/** Container and TTL znodes by path: the newest incarnation the files know of each. */
export class NodeKinds {
  private readonly byPath = new Map<string, SpecialNode>();

  /** Records a container or TTL znode; an older incarnation of the same path is replaced. */
  add(n: SpecialNode): void {
    const had = this.byPath.get(n.path);
    if (!had || n.czxid >= had.czxid) this.byPath.set(n.path, n);
  }

  /** The container or TTL znode created at `czxid` under `path`; undefined for a plain znode. */
  kindOf(path: string, czxid: bigint): SpecialNode | undefined {
    const n = this.byPath.get(path);
    return n && n.czxid === czxid ? n : undefined;
  }

  /** How many of each kind are known. */
  counts(): { containers: number; ttls: number } {
    let containers = 0;
    for (const n of this.byPath.values()) if (n.kind === 'container') containers++;
    return { containers, ttls: this.byPath.size - containers };
  }
}

/**
 * Reads the snapshot and logs of a ZooKeeper data directory (`dataDir`, and `logDir` for a
 * separate dataLogDir). Throws {@link MigrationError} when the directory cannot be read or holds
 * neither snapshots nor logs.
 */
export function loadNodeKinds(dataDir: string, logDir = dataDir): { kinds: NodeKinds; report: NodeKindsReport } {
  let files;
  try {
    files = listZkDataFiles(dataDir, logDir);
  } catch (e) {
    throw new MigrationError(`cannot read the ZooKeeper data directory: ${(e as Error).message}`);
  }
  if (files.snapshots.length === 0 && files.logs.length === 0) {
    const where = logDir === dataDir ? dataDir : `${dataDir} or ${logDir}`;
    throw new MigrationError(`no ZooKeeper snapshot or transaction log in ${where} (nor in its version-2 directory): give ZooKeeper's dataDir (zoo.cfg) with --from-data-dir, and its dataLogDir with --from-log-dir when that is another directory`);
  }
  const kinds = new NodeKinds();
  const report: NodeKindsReport = { snapshotZnodes: 0, logs: 0, txns: 0, warnings: [] };
  const snap = newestValidSnapshot(files.snapshots, report);
  if (snap) {
    report.snapshot = snap.file.path;
    report.snapshotZnodes = snap.znodes;
    for (const n of snap.special) kinds.add(n);
  }
  for (const log of logsAfter(files.logs, snap?.file.zxid)) {
    const c = readTxnLog(readFileSync(log.path), log.path);
    report.logs++;
    report.txns += c.txns;
    if (c.damage) report.warnings.push(`${c.damage}; the log is read up to there`);
    if (c.unreadable > 0) report.warnings.push(`${log.path}: ${c.unreadable} txns did not parse; znodes they created arrive plain`);
    for (const n of c.special) kinds.add(n);
  }
  return { kinds, report };
}

/** The newest snapshot that reads whole, as ZooKeeper picks it at start; the others passed over are warned of. */
function newestValidSnapshot(snapshots: ZkDataFile[], report: NodeKindsReport): { file: ZkDataFile; special: SpecialNode[]; znodes: number } | undefined {
  for (const file of snapshots) {
    if (file.compression === 'snappy') {
      report.warnings.push(`${file.path} is snappy-compressed, which zk-migrate does not read (ZooKeeper writes plain or gz snapshots with snapshot.compression.method unset or gz); passed over`);
      continue;
    }
    try {
      const raw = readFileSync(file.path);
      const bytes = file.compression === 'gz' ? gunzipSync(raw) : raw;
      return { file, ...readSnapshot(bytes, file.path) };
    } catch (e) {
      if (e instanceof ZkDataFileError) report.warnings.push(`${e.message}; passed over`);
      else if (isZlibError(e)) report.warnings.push(`${file.path} does not inflate (${(e as Error).message}); passed over`);
      else throw e;
    }
  }
  return undefined;
}

/** A gz snapshot that does not inflate (cut short while ZooKeeper wrote it). */
function isZlibError(e: unknown): boolean {
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('Z_');
}

/**
 * The logs that may hold txns after zxid `from` (ZooKeeper's rule: the last log starting at or
 * before it, and every later one). Without a snapshot, all of them.
 */
function logsAfter(logs: ZkDataFile[], from: bigint | undefined): ZkDataFile[] {
  if (from === undefined) return logs;
  let first = 0;
  for (let i = 0; i < logs.length; i++) if (logs[i]!.zxid <= from) first = i;
  return logs.slice(first);
}
