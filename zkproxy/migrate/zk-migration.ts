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
 * parents' cversion is what the old cluster reports once those sessions end), `/zookeeper` (the
 * store has its own), and the container and TTL kinds, which the client protocol does not
 * reveal (their Stat says ephemeralOwner 0): they arrive as persistent znodes.
 *
 * The source is read live, node by node, not as one snapshot: stop its writers first for an
 * exact copy. A node that already exists in the store is left as it is and counted, so an
 * interrupted copy can simply run again.
 */
import { Acl, Stat } from '../../protocol/jute';
import { KvBackend, KvOp, KvTxn } from '../backend/kv-backend';
import { ZkWireClient } from '../dispatch/zk-wire-client';
import { bootstrapKeySpace } from '../mapping/bootstrap';
import { KeySchema } from '../mapping/key-schema';
import { encodeAclValue, encodeCounterValue, encodeNodeValue } from '../mapping/node-codec';
import { OPEN_ACL_UNSAFE } from '../mapping/acl-rules';
import { MigrationError, NodeSource } from './zk-source';

/** Where to copy from and to. */
export interface MigrationOptions {
  /** A session on the source ZooKeeper (with whatever auth it needs to read every node). */
  source: ZkWireClient;
  /** The store whose ZooKeeper key space receives the copy. */
  target: KvBackend;
  keys: KeySchema;
  /** The subtree to copy (default `/`). */
  path?: string;
  /** Source requests in flight at once (default 16). */
  concurrency?: number;
  /** Called after every node, with the counts so far. */
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

const isSystem = (path: string): boolean => path === '/zookeeper' || path.startsWith('/zookeeper/');
const childPath = (parent: string, name: string): string => (parent === '/' ? `/${name}` : `${parent}/${name}`);

/** Copies the subtree at `o.path` of the source into the store; resolves with what it did. */
export async function migrateFromZooKeeper(o: MigrationOptions): Promise<MigrationReport> {
  await bootstrapKeySpace(o.target, o.keys);
  const src = new NodeSource(o.source);
  const report: MigrationReport = { copied: 0, existing: 0, ephemeralsSkipped: 0, bytes: 0 };
  const queue: string[] = [o.path ?? '/'];
  const work = async (path: string): Promise<void> => {
    const node = await src.read(path);
    if (!node) return; // deleted on the source meanwhile
    const children = node.children.filter((c) => !isSystem(childPath(path, c)));
    const stats = await statsOf(src, path, children);
    const ephemeral = stats.filter((s) => s !== undefined && s.ephemeralOwner !== 0n).length;
    // Skipped ephemerals leave the parent as the old cluster reports it once their sessions end:
    // each delete raises cversion by one, and the next sequential suffix stays the same.
    const written = await writeNode(o.target, o.keys, path, node.stat, node.data, node.acl, node.stat.cversion + ephemeral);
    if (written) {
      report.copied++;
      report.bytes += node.data?.length ?? 0;
    } else report.existing++;
    report.ephemeralsSkipped += ephemeral;
    children.forEach((c, i) => {
      if (stats[i] && stats[i]!.ephemeralOwner === 0n) queue.push(childPath(path, c));
    });
    o.onProgress?.(report);
  };
  await drain(queue, work, o.concurrency ?? 16);
  return report;
}

/** The Stat of each child (undefined for one gone meanwhile), asked a batch at a time: a parent may have 100k children. */
async function statsOf(src: NodeSource, parent: string, children: string[]): Promise<(Stat | undefined)[]> {
  const out: (Stat | undefined)[] = [];
  for (let i = 0; i < children.length; i += STAT_BATCH) {
    out.push(...(await Promise.all(children.slice(i, i + STAT_BATCH).map((c) => src.stat(childPath(parent, c))))));
  }
  return out;
}

const STAT_BATCH = 512;

/** Runs `work` over `queue` (which grows as it runs) with at most `limit` at once; parents always finish before their children start. */
async function drain(queue: string[], work: (path: string) => Promise<void>, limit: number): Promise<void> {
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

/** True when `acl` is exactly the open ACL, which the schema stores as no ACL key. */
function isOpen(acl: readonly Acl[]): boolean {
  const o = OPEN_ACL_UNSAFE[0]!;
  return acl.length === 1 && acl[0]!.perms === o.perms && acl[0]!.id.scheme === o.id.scheme && acl[0]!.id.id === o.id.id;
}

/**
 * Writes one node's keys in one txn. A new node: node key (header with version, times, data),
 * ACL key when the ACL is not the open one or aversion is not 0, child-change key when cversion
 * is not 0; offsets make the reported numbers equal the source's (a key written once has version
 * 1, so its offset is the whole number). The root exists in every store: while nothing has used
 * it, its keys are rewritten over the bootstrap's, guarded by what was read. Resolves false when
 * the node already existed (or the root was in use).
 */
async function writeNode(target: KvBackend, keys: KeySchema, path: string, stat: Stat, data: Buffer | null, acl: Acl[], cversion: number): Promise<boolean> {
  const isRoot = path === '/';
  const current = isRoot ? await versionsOf(target, keys, path) : { node: 0, acl: 0, counter: 0, guards: [] };
  // The root's child-change key is at version 1 until anything is created under it (the
  // bootstrap wrote it once; the copy writes children without it): a later version means clients
  // or an earlier copy used the root already, and its numbers are the store's to keep.
  if (isRoot && current.counter !== 1) return false;
  const value = encodeNodeValue({ kind: isRoot ? 'system' : 'plain', version: stat.version, ctime: stat.ctime, mtime: stat.mtime, ttl: 0n, data });
  const ops: KvOp[] = [{ type: 'put', key: keys.nodeKey(path), value }];
  if (!isOpen(acl) || stat.aversion !== 0 || current.acl !== 0) {
    ops.push({ type: 'put', key: keys.aclKey(path), value: encodeAclValue(acl, stat.aversion - current.acl) });
  }
  if (cversion !== 0 || current.counter !== 0) ops.push({ type: 'put', key: keys.counterKey(path), value: encodeCounterValue(cversion - current.counter) });
  ops.push({ type: 'put', key: keys.errorKey(), value: Buffer.alloc(0) });
  const txn: KvTxn = {
    compare: isRoot ? current.guards : [{ key: keys.nodeKey(path), target: 'create', result: 'equal', value: 0 }],
    success: ops,
    failure: [],
  };
  const r = await target.txn(txn);
  if (!r.succeeded && isRoot) throw new MigrationError('the root znode changed in the store during the copy; run the copy again');
  return r.succeeded;
}

/** The versions of a node's ACL and child-change keys now, and compares that they stay so. */
async function versionsOf(target: KvBackend, keys: KeySchema, path: string): Promise<{ node: number; acl: number; counter: number; guards: KvTxn['compare'] }> {
  const read = async (key: Buffer): Promise<{ version: number; mod: number }> => {
    const kv = (await target.range(key)).kvs[0];
    return { version: kv?.version ?? 0, mod: kv?.modRevision ?? 0 };
  };
  const [node, acl, counter] = await Promise.all([read(keys.nodeKey(path)), read(keys.aclKey(path)), read(keys.counterKey(path))]);
  const guard = (key: Buffer, mod: number): KvTxn['compare'][number] => ({ key, target: 'mod', result: 'equal', value: mod });
  return {
    node: node.version, acl: acl.version, counter: counter.version,
    guards: [guard(keys.nodeKey(path), node.mod), guard(keys.aclKey(path), acl.mod), guard(keys.counterKey(path), counter.mod)],
  };
}
