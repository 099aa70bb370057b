/**
 * Rebuilds a ZooKeeper's tree from its data directory as ZooKeeper does when it starts
 * (FileTxnSnapLog.restore): the newest snapshot whose seal holds, then every txn logged after
 * its zxid, from the last log that starts at or before it on. The files are only read, so the
 * source may keep running: the tree is then its state at the last txn fully written.
 *
 * A copy uses the tree two ways (zk-migration.ts): the whole tree (`zk-migrate` without
 * `--from`), or only to learn which znodes of a live source are containers and TTL znodes, which
 * its client protocol does not tell.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ZkDataFile, listZkDataFiles } from './zk-data-files';
import { ZkDataFileError } from './zk-data-file-error';
import { ZkImage } from './zk-image';
import { SnappyFormatError, inflateSnappyStream } from './snappy';
import { readSnapshot } from './zk-snapshot-reader';
import { readTxnLog } from './zk-txn-log-reader';
import { MigrationError } from './zk-source';

/** What was read, for the user. */
export interface ZkImageReport {
  /** The snapshot used (file path), if any. */
  snapshot?: string;
  /** Znodes in that snapshot. */
  snapshotZnodes: number;
  /** Logs read, and the txns in them applied (those after the snapshot). */
  logs: number;
  txns: number;
  /** Checksummed txns that did not parse, so were not applied (the tree may lack their changes). */
  unreadable: number;
  /** Where the txns skip zxids (a log missing), as "0x…–0x…" ranges of what is missing. */
  gaps: string[];
  /** Snapshots passed over and log tails not read, with the reason each. */
  warnings: string[];
}

/**
 * Reads the snapshots and logs of a ZooKeeper data directory (`dataDir`, and `logDir` for a
 * separate dataLogDir) into a tree. Throws {@link MigrationError} when the directory cannot be
 * read, holds neither snapshots nor logs, or its newest sealed snapshot holds no valid tree.
 */
export function loadZkImage(dataDir: string, logDir = dataDir): { image: ZkImage; report: ZkImageReport } {
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
  const report: ZkImageReport = { snapshotZnodes: 0, logs: 0, txns: 0, unreadable: 0, gaps: [], warnings: [] };
  const snap = newestValidSnapshot(files.snapshots, report);
  const image = snap ? snap.image : ZkImage.empty();
  if (snap) {
    report.snapshot = snap.file.path;
    report.snapshotZnodes = snap.znodes;
  }
  replayLogs(image, logsAfter(files.logs, snap?.file.zxid), report);
  return { image, report };
}

/** Applies the logs' txns after the image's zxid, in order, noting gaps and damage. */
function replayLogs(image: ZkImage, logs: ZkDataFile[], report: ZkImageReport): void {
  let last = image.lastZxid;
  for (const log of logs) {
    // One log at a time: only the tree keeps what a log's txns hold.
    const c = readTxnLog(readFileSync(log.path), log.path);
    report.logs++;
    report.unreadable += c.unreadable;
    if (c.damage) report.warnings.push(`${c.damage}; the log is read up to there`);
    if (c.unreadable > 0) report.warnings.push(`${log.path}: ${c.unreadable} txns did not parse and were not applied`);
    for (const t of c.txns) {
      if (t.zxid <= image.lastZxid) continue;
      if (!follows(last, t.zxid)) report.gaps.push(`0x${(last + 1n).toString(16)}–0x${(t.zxid - 1n).toString(16)}`);
      image.apply(t);
      report.txns++;
      last = t.zxid;
    }
  }
}

/**
 * Whether zxid `next` may come right after `prev`: the next counter of the same epoch (the
 * high 32 bits), or the first txn of a later epoch (a new leader numbers from 1).
 */
function follows(prev: bigint, next: bigint): boolean {
  const epoch = (z: bigint): bigint => z >> 32n;
  if (epoch(next) === epoch(prev)) return next === prev + 1n;
  return epoch(next) > epoch(prev) && (next & 0xffffffffn) === 1n;
}

/** The newest snapshot that reads whole, as ZooKeeper picks it at start; the others passed over are warned of. */
function newestValidSnapshot(snapshots: ZkDataFile[], report: ZkImageReport): { file: ZkDataFile; image: ZkImage; znodes: number } | undefined {
  for (const file of snapshots) {
    let contents;
    try {
      contents = readSnapshot(inflate(file, readFileSync(file.path)), file.path);
    } catch (e) {
      if (e instanceof ZkDataFileError) report.warnings.push(`${e.message}; passed over`);
      else if (isZlibError(e) || e instanceof SnappyFormatError) report.warnings.push(`${file.path} does not inflate (${(e as Error).message}); passed over`);
      else throw e;
      continue;
    }
    try {
      return { file, image: ZkImage.fromSnapshot(contents.nodes, file.zxid, file.path, contents.sessions), znodes: contents.nodes.length };
    } catch (e) {
      // Sealed yet no tree: ZooKeeper would refuse to start on it, and so does the copy.
      if (e instanceof ZkDataFileError) throw new MigrationError(e.message);
      throw e;
    }
  }
  return undefined;
}

/** The snapshot's bytes, inflated as its name says (snapshot.compression.method gz or snappy). */
function inflate(file: ZkDataFile, raw: Buffer): Buffer {
  if (file.compression === 'gz') return gunzipSync(raw);
  if (file.compression === 'snappy') return inflateSnappyStream(raw);
  return raw;
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
