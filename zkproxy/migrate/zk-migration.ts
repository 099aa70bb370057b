/**
 * Copies a ZooKeeper's tree into the ZooKeeper key space of a store (the embedded core's etcd
 * API, or the etcd cluster a `zk-proxy` serves), writing the key schema directly, so that what
 * clients see of each znode arrives intact: data, ACL, version, aversion, ctime and mtime, and
 * the parent's cversion and next sequential suffix. A conditional setData or setACL written
 * against the old cluster's versions works on the new one, and a sequential create there cannot
 * reuse a name the old one gave out.
 *
 * The source is either a live ZooKeeper read as a client, node by node (stop its writers first
 * for an exact copy), or the tree its data directory holds (zk-image-loader.ts: exact as of its
 * last txn written). A node that already exists in the store is left as it is and counted, so an
 * interrupted copy can simply run again.
 *
 * What cannot move: zxids (czxid, mzxid and pzxid are the store's revisions of the copy; the
 * copy raises the store's zxids past the source's so its clients can switch over, zxid-raise.ts),
 * the ephemerals of a live source (their sessions live on there; they are skipped and counted,
 * and their parents' cversion is what the old cluster reports once those sessions end), `/zookeeper`,
 * `/zookeeper/quota` and `/zookeeper/config` themselves (the store has its own; the quota
 * entries under `/zookeeper/quota`, which `setquota` made, are copied like any znode).
 *
 * The client protocol does not reveal the container and TTL kinds (their Stat says
 * ephemeralOwner 0): a live copy learns them from the source's data directory when given it
 * (`kinds`), else they arrive as persistent znodes. With them, the store reaps them as
 * ZooKeeper would.
 *
 * A copy of the files carries the open sessions over (session-carrier.ts): each keeps its id,
 * timeout and password, its ephemerals are copied on its lease, and its client, reconnecting,
 * carries on with it, as after a ZooKeeper restart.
 */
import { KvBackend } from '../backend/kv-backend';
import { bootstrapKeySpace } from '../mapping/bootstrap';
import { KeySchema } from '../mapping/key-schema';
import { CopiedNode, absentNodes, rootUnused, setChildCount, writeNodes, writeRoot } from './node-writer';
import { MigrationError, NodeReader } from './zk-source';
import { NodeKindLookup } from './special-node';
import { ZxidOutcome, raiseZxidBase } from './zxid-raise';
import { CarriedSessions, SessionCarrier } from './session-carrier';
import { childPath, isSystemPath, parentOf } from '../mapping/path-rules';

/** Where to copy from and to. */
export interface MigrationOptions {
  /** The source: a live ZooKeeper read through a session (with whatever auth it needs to read every node), or its files. */
  source: NodeReader;
  /** The store whose ZooKeeper key space receives the copy. */
  target: KvBackend;
  keys: KeySchema;
  /** The subtree to copy (default `/`). */
  path?: string;
  /** Parents whose children are copied at once (default 4). */
  concurrency?: number;
  /** Read everything, write nothing: the report says what a copy would write. */
  dryRun?: boolean;
  /** Containers and TTL znodes, from the source's data directory (without it every copy is plain). */
  kinds?: NodeKindLookup;
  /** Raise the store's zxids past the source's even when its ZooKeeper space is in use (zxid-raise.ts). */
  raiseZxid?: boolean;
  /** Leave the source's open sessions (and so every ephemeral) behind even when it tells them (default: carry them). */
  skipSessions?: boolean;
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
  /** Ephemeral znodes copied with their carried-over session (counted in `copied` too). */
  ephemeralsCopied: number;
  /** Data bytes copied. */
  bytes: number;
  /** Of the znodes written, the containers and the TTL znodes (each kept its kind). */
  containers: number;
  ttlNodes: number;
  /** What became of the store's zxids (absent when the subtree was not found). */
  zxid?: ZxidOutcome;
  /** What became of the source's open sessions (absent for a live source, which does not tell them). */
  sessions?: CarriedSessions;
}

/** A node read from the source, ready to write. */
interface Prepared {
  node: CopiedNode;
  /** Its children's names (ephemerals among them: only their own reads tell). */
  children: string[];
}

/** What a read of one znode found: the node (`owner`: an ephemeral's session), or nothing (gone). */
type Read = (Prepared & { owner: bigint }) | undefined;

/** A node whose children are still to copy, and whether this run wrote it. */
interface Parent extends Prepared {
  written: boolean;
}

/** Children read and written together: enough to fill txns, few enough to hold in memory. */
const CHUNK = 256;

/** `/zookeeper`, its quota and config nodes: the store has its own, so they are walked, not written. */
const serverOwned = (path: string): boolean => path !== '/' && isSystemPath(path);

/** Copies the subtree at `o.path` of the source into the store; resolves with what it did. */
export async function migrateFromZooKeeper(o: MigrationOptions): Promise<MigrationReport> {
  if (!o.dryRun) await bootstrapKeySpace(o.target, o.keys);
  const src = o.source;
  const report: MigrationReport = { copied: 0, existing: 0, ephemeralsSkipped: 0, ephemeralsCopied: 0, bytes: 0, containers: 0, ttlNodes: 0 };
  const count = (written: CopiedNode[], tried: number): void => {
    report.copied += written.length;
    report.bytes += written.reduce((n, w) => n + (w.data?.length ?? 0), 0);
    for (const w of written) {
      if (w.kind === 'container') report.containers++;
      else if (w.kind === 'ttl') report.ttlNodes++;
      if (w.stat.ephemeralOwner !== 0n) report.ephemeralsCopied++;
    }
    report.existing += tried - written.length;
    o.onProgress?.(report);
  };
  const top = await read(src, o.path ?? '/', o.kinds);
  if (top === undefined || top.owner !== 0n) return report;
  if (top.node.path !== '/') await requireParent(o.target, o.keys, top.node.path);
  // Before any znode is written: a copy resumed after a failure finds the store's space in use.
  report.zxid = await raiseZxidBase(o.target, o.keys, src.lastZxid, { force: o.raiseZxid, dryRun: o.dryRun });
  const carrier = await startCarrier(o, report.zxid, report);
  try {
    await copyTree(o, top, carrier, count, report);
    if (carrier) report.sessions = await carrier.finish();
  } finally {
    carrier?.stop();
  }
  return report;
}

/**
 * The carrier of the source's open sessions, when it tells them (its files do) and they are
 * wanted; undefined otherwise. Not when the zxids stayed below the source's: its clients would
 * be refused, and the sessions would only expire (said in the report).
 */
async function startCarrier(o: MigrationOptions, zxid: ZxidOutcome, report: MigrationReport): Promise<SessionCarrier | undefined> {
  const open = o.source.openSessions?.();
  if (!open || o.skipSessions) return undefined;
  if (zxid.kind === 'held' && open.size > 0) {
    report.sessions = { carried: 0, timeoutsMs: { min: 0, max: 0 }, left: [`${open.size} sessions: Coracle's zxids were left below the source's, so their clients would be refused`] };
    return undefined;
  }
  return SessionCarrier.start(o.target, o.keys, open, o.dryRun ?? false);
}

/** Writes the top node, then every node under it, parents before children. */
async function copyTree(o: MigrationOptions, top: Prepared, carrier: SessionCarrier | undefined, count: (written: CopiedNode[], tried: number) => void, report: MigrationReport): Promise<void> {
  const write = o.dryRun ? (nodes: CopiedNode[]) => absentNodes(o.target, o.keys, nodes) : (nodes: CopiedNode[]) => writeNodes(o.target, o.keys, nodes);
  const writeTop = top.node.path !== '/' ? write([top.node]) : (o.dryRun ? rootUnused(o.target, o.keys) : writeRoot(o.target, o.keys, top.node)).then((w) => (w ? [top.node] : []));
  const topWritten = await writeTop;
  count(topWritten, 1);
  // A parent's children are written only after the parent: the queue holds written nodes.
  const queue: Parent[] = [{ ...top, written: topWritten.length > 0 && !o.dryRun }];
  await drain(queue, async (parent) => {
    let ephemerals = 0;
    for (let i = 0; i < parent.children.length; i += CHUNK) {
      const found = await Promise.all(parent.children.slice(i, i + CHUNK).map((c) => read(o.source, childPath(parent.node.path, c), o.kinds)));
      const nodes: Prepared[] = [];
      for (const p of found) {
        if (p === undefined) continue;
        if (p.owner === 0n) nodes.push(p);
        else if (carrier?.carries(p.owner)) nodes.push({ ...p, node: { ...p.node, lease: p.owner } });
        else {
          ephemerals++;
          report.ephemeralsSkipped++;
        }
      }
      const ready = nodes.filter((p) => !serverOwned(p.node.path));
      const written = await write(ready.map((p) => p.node));
      count(written, ready.length);
      const mine = new Set(written);
      for (const p of nodes) if (p.children.length > 0) queue.push({ ...p, written: mine.has(p.node) && !o.dryRun });
    }
    // Skipped ephemerals leave the parent as the old cluster reports it once their sessions end:
    // each delete raises cversion by one, and the next sequential suffix stays the same.
    if (ephemerals > 0 && parent.written) await setChildCount(o.target, o.keys, parent.node.path, parent.node.cversion + ephemerals);
  }, o.concurrency ?? 4);
}

/** A subtree's parent must be in the store already: a znode without its parent is no tree. */
async function requireParent(target: KvBackend, keys: KeySchema, path: string): Promise<void> {
  const parent = parentOf(path);
  if ((await target.range(keys.nodeKey(parent))).kvs.length === 0) {
    throw new MigrationError(`${parent} is not in the store: copy it (or a subtree holding it) before ${path}`);
  }
}

/**
 * Reads `path` from the source: three requests (data with Stat, ACL, children). Its kind comes
 * from `kinds` (a container's or TTL znode's Stat shows ephemeralOwner 0, like a plain one's).
 */
async function read(src: NodeReader, path: string, kinds: NodeKindLookup | undefined): Promise<Read> {
  const node = await src.read(path);
  if (!node) return undefined;
  const special = node.stat.ephemeralOwner === 0n ? kinds?.kindOf(path, node.stat.czxid) : undefined;
  return {
    node: { path, stat: node.stat, data: node.data, acl: node.acl, cversion: node.stat.cversion, kind: special?.kind ?? 'plain', ttl: special?.ttl ?? 0n },
    children: node.children,
    owner: node.stat.ephemeralOwner,
  };
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
