/**
 * Copies a live ZooKeeper's tree into the ZooKeeper key space of a store (the embedded core's
 * etcd API, or the etcd cluster a `zk-proxy` serves), reading the source as a client and
 * writing the key schema directly, so that what clients see of each znode arrives intact:
 * data, ACL, version, aversion, ctime and mtime, and the parent's cversion and next sequential
 * suffix. A conditional setData or setACL written against the old cluster's versions works on
 * the new one, and a sequential create there cannot reuse a name the old one gave out.
 *
 * What cannot move: zxids (czxid, mzxid and pzxid are the store's revisions of the copy),
 * ephemerals (their sessions live on the old cluster; they are skipped and counted, and their
 * parents' cversion is what the old cluster reports once those sessions end), `/zookeeper`,
 * `/zookeeper/quota` and `/zookeeper/config` themselves (the store has its own; the quota
 * entries under `/zookeeper/quota`, which `setquota` made, are copied like any znode), and the
 * container and TTL kinds, which the client protocol does not reveal (their Stat says
 * ephemeralOwner 0): they arrive as persistent znodes.
 *
 * The source is read live, node by node, not as one snapshot: stop its writers first for an
 * exact copy. A node that already exists in the store is left as it is and counted, so an
 * interrupted copy can simply run again.
 */
import { Stat } from '../../protocol/jute';
import { KvBackend } from '../backend/kv-backend';
import { ZkWireClient } from '../dispatch/zk-wire-client';
import { bootstrapKeySpace } from '../mapping/bootstrap';
import { KeySchema } from '../mapping/key-schema';
import { CopiedNode, absentNodes, rootUnused, writeNodes, writeRoot } from './node-writer';
import { MigrationError, NodeSource } from './zk-source';
import { childPath, isSystemPath, parentOf } from '../mapping/path-rules';

/** Where to copy from and to. */
export interface MigrationOptions {
  /** A session on the source ZooKeeper (with whatever auth it needs to read every node). */
  source: ZkWireClient;
  /** The store whose ZooKeeper key space receives the copy. */
  target: KvBackend;
  keys: KeySchema;
  /** The subtree to copy (default `/`). */
  path?: string;
  /** Parents whose children are copied at once (default 4). */
  concurrency?: number;
  /** Read everything, write nothing: the report says what a copy would write. */
  dryRun?: boolean;
  /** Called after every batch of nodes, with the counts so far. */
  onProgress?(r: MigrationReport): void;
}

/** What a copy did. */
export interface MigrationReport {
  /** Znodes written to the store. */
  copied: number;
  /** Znodes the store had already (left as they are). */
  existing: number;
  /** Ephemeral znodes not copied. */
  ephemeralsSkipped: number;
  /** Data bytes copied. */
  bytes: number;
}

/** A node read from the source with its children sorted out, ready to write. */
interface Prepared {
  node: CopiedNode;
  /** Children to copy (ephemerals and /zookeeper left out). */
  children: string[];
  ephemeralChildren: number;
}

/** Children read and written together: enough to fill txns, few enough to hold in memory. */
const CHUNK = 256;
/** Stat requests in flight at once for one node's children (a parent may have 100k). */
const STAT_BATCH = 512;

/** `/zookeeper`, its quota and config nodes: the store has its own, so they are walked, not written. */
const serverOwned = (path: string): boolean => path !== '/' && isSystemPath(path);

/** Copies the subtree at `o.path` of the source into the store; resolves with what it did. */
export async function migrateFromZooKeeper(o: MigrationOptions): Promise<MigrationReport> {
  if (!o.dryRun) await bootstrapKeySpace(o.target, o.keys);
  const src = new NodeSource(o.source);
  const report: MigrationReport = { copied: 0, existing: 0, ephemeralsSkipped: 0, bytes: 0 };
  const count = (written: CopiedNode[], tried: Prepared[]): void => {
    report.copied += written.length;
    report.bytes += written.reduce((n, w) => n + (w.data?.length ?? 0), 0);
    report.existing += tried.length - written.length;
    report.ephemeralsSkipped += tried.reduce((n, p) => n + p.ephemeralChildren, 0);
    o.onProgress?.(report);
  };
  const top = await prepare(src, o.path ?? '/');
  if (!top) return report;
  if (top.node.path !== '/') await requireParent(o.target, o.keys, top.node.path);
  const write = o.dryRun ? (nodes: CopiedNode[]) => absentNodes(o.target, o.keys, nodes) : (nodes: CopiedNode[]) => writeNodes(o.target, o.keys, nodes);
  const writeTop = top.node.path !== '/' ? write([top.node]) : (o.dryRun ? rootUnused(o.target, o.keys) : writeRoot(o.target, o.keys, top.node)).then((w) => (w ? [top.node] : []));
  const topWritten = await writeTop;
  count(topWritten, [top]);
  // A parent's children are written only after the parent: the queue holds written nodes.
  const queue: Array<{ path: string; children: string[] }> = [{ path: top.node.path, children: top.children }];
  await drain(queue, async ({ path, children }) => {
    for (let i = 0; i < children.length; i += CHUNK) {
      const read = (await Promise.all(children.slice(i, i + CHUNK).map((c) => prepare(src, childPath(path, c))))).filter((p): p is Prepared => p !== undefined);
      const ready = read.filter((p) => !serverOwned(p.node.path));
      count(await write(ready.map((p) => p.node)), ready);
      for (const p of read) if (p.children.length > 0) queue.push({ path: p.node.path, children: p.children });
    }
  }, o.concurrency ?? 4);
  return report;
}

/** A subtree's parent must be in the store already: a znode without its parent is no tree. */
async function requireParent(target: KvBackend, keys: KeySchema, path: string): Promise<void> {
  const parent = parentOf(path);
  if ((await target.range(keys.nodeKey(parent))).kvs.length === 0) {
    throw new MigrationError(`${parent} is not in the store: copy it (or a subtree holding it) before ${path}`);
  }
}

/**
 * Reads `path` and the Stats of its children; undefined when it is gone, or is an ephemeral
 * (its parent counted it when it read the Stats).
 */
async function prepare(src: NodeSource, path: string): Promise<Prepared | undefined> {
  const node = await src.read(path);
  if (!node || node.stat.ephemeralOwner !== 0n) return undefined;
  const names = node.children;
  const stats = await statsOf(src, path, names);
  const children = names.filter((_, i) => stats[i] !== undefined && stats[i]!.ephemeralOwner === 0n);
  const ephemeralChildren = stats.filter((s) => s !== undefined && s.ephemeralOwner !== 0n).length;
  // Skipped ephemerals leave the parent as the old cluster reports it once their sessions end:
  // each delete raises cversion by one, and the next sequential suffix stays the same.
  return { node: { path, stat: node.stat, data: node.data, acl: node.acl, cversion: node.stat.cversion + ephemeralChildren }, children, ephemeralChildren };
}

/** The Stat of each child (undefined for one gone meanwhile), {@link STAT_BATCH} at a time. */
async function statsOf(src: NodeSource, parent: string, children: string[]): Promise<(Stat | undefined)[]> {
  const out: (Stat | undefined)[] = [];
  for (let i = 0; i < children.length; i += STAT_BATCH) {
    out.push(...(await Promise.all(children.slice(i, i + STAT_BATCH).map((c) => src.stat(childPath(parent, c))))));
  }
  return out;
}

/** Runs `work` over `queue` (which grows as it runs) with at most `limit` at once; the first failure stops it. */
async function drain<T>(queue: T[], work: (item: T) => Promise<void>, limit: number): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: unknown;
  while ((queue.length > 0 || running.size > 0) && failure === undefined) {
    while (queue.length > 0 && running.size < limit) {
      const p: Promise<void> = work(queue.shift()!).catch((e: unknown) => void (failure ??= e)).finally(() => running.delete(p));
      running.add(p);
    }
    if (running.size > 0) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
}
