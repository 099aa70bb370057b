/**
 * Writes copied znodes into the key schema (zk-migration.ts): a node's keys with the offsets
 * that make the store report the source's numbers, many new nodes per txn when they fit, and
 * the root over what the bootstrap wrote.
 */
import { Acl, Stat } from '../../protocol/jute';
import { KvBackend, KvError, KvOp, KvPair, KvTxn } from '../backend/kv-backend';
import { KeySchema } from '../mapping/key-schema';
import { NodeKind, encodeAclValue, encodeCounterValue, encodeNodeValue } from '../mapping/node-codec';
import { isOpenAcl } from '../mapping/acl-rules';
import { lastChange } from '../ops/txn-plan';
import { MigrationError } from './zk-source';

/** A source znode ready to be written. */
export interface CopiedNode {
  path: string;
  stat: Stat;
  data: Buffer | null;
  acl: Acl[];
  /** The cversion to report (the source's, plus its children not copied). */
  cversion: number;
  /** What it is: a plain znode unless the source's data directory says container or TTL (zk-image-loader.ts). */
  kind: Exclude<NodeKind, 'system'>;
  /** A TTL znode's TTL in ms (0 otherwise). */
  ttl: bigint;
  /** An ephemeral's: the lease of its carried-over session (session-carrier.ts). */
  lease?: bigint;
}

/** Most nodes per txn: each takes a compare and up to three puts, under etcd's default --max-txn-ops of 128. */
const BATCH_NODES = 32;
/** Most data per txn, well under etcd's default --max-request-bytes (1.5 MiB). */
const BATCH_BYTES = 512 * 1024;

/**
 * A node's puts: the node key (header with version, times, data), the ACL key when the ACL is
 * not the open one or aversion is not 0, the child-change key when cversion is not 0. `had`
 * holds the versions those keys have now (0: absent): the schema reports version − 1 + offset,
 * so the offset written makes the next version report the source's number.
 */
function nodeOps(keys: KeySchema, n: CopiedNode, kind: NodeKind, had = { acl: 0, counter: 0 }): KvOp[] {
  const value = encodeNodeValue({ kind, version: n.stat.version, ctime: n.stat.ctime, mtime: n.stat.mtime, ttl: n.ttl, data: n.data });
  const ops: KvOp[] = [{ type: 'put', key: keys.nodeKey(n.path), value, ...(n.lease !== undefined ? { lease: n.lease } : {}) }];
  if (!isOpenAcl(n.acl) || n.stat.aversion !== 0 || had.acl !== 0) ops.push({ type: 'put', key: keys.aclKey(n.path), value: encodeAclValue(n.acl, n.stat.aversion - had.acl) });
  if (n.cversion !== 0 || had.counter !== 0) ops.push({ type: 'put', key: keys.counterKey(n.path), value: encodeCounterValue(n.cversion - had.counter) });
  return ops;
}

/**
 * Writes new (non-root) nodes, as many per txn as fit, each only if its node key is absent.
 * Resolves with the nodes written; the others existed already.
 */
export async function writeNodes(target: KvBackend, keys: KeySchema, nodes: CopiedNode[]): Promise<CopiedNode[]> {
  const written: CopiedNode[] = [];
  for (const batch of batches(nodes)) written.push(...(await writeSome(target, keys, batch)));
  return written;
}

/**
 * One batch: in one txn when none exists yet; node by node when one does (the txn's compares
 * fail together); halved while the store finds it too big (a smaller --max-txn-ops or
 * --max-request-bytes than etcd's defaults).
 */
async function writeSome(target: KvBackend, keys: KeySchema, batch: CopiedNode[]): Promise<CopiedNode[]> {
  try {
    if (await writeBatch(target, keys, batch)) return batch;
  } catch (e) {
    const tooBig = e instanceof KvError && (e.code === 'too-many-ops' || e.code === 'too-large');
    if (!tooBig || batch.length === 1) throw e;
    const half = Math.ceil(batch.length / 2);
    return [...(await writeSome(target, keys, batch.slice(0, half))), ...(await writeSome(target, keys, batch.slice(half)))];
  }
  if (batch.length === 1) return []; // it existed
  const written: CopiedNode[] = [];
  for (const n of batch) written.push(...(await writeSome(target, keys, [n])));
  return written;
}

function* batches(nodes: CopiedNode[]): Generator<CopiedNode[]> {
  let batch: CopiedNode[] = [];
  let bytes = 0;
  for (const n of nodes) {
    const size = (n.data?.length ?? 0) + n.path.length;
    if (batch.length > 0 && (batch.length >= BATCH_NODES || bytes + size > BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(n);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

async function writeBatch(target: KvBackend, keys: KeySchema, batch: CopiedNode[]): Promise<boolean> {
  const txn: KvTxn = {
    compare: batch.map((n) => ({ key: keys.nodeKey(n.path), target: 'create', result: 'equal', value: 0 })),
    success: [...batch.flatMap((n) => nodeOps(keys, n, n.kind)), lastChange(keys)],
    failure: [],
  };
  return (await target.txn(txn)).succeeded;
}

/** The nodes a copy would write: those whose node key is absent (a dry run). */
export async function absentNodes(target: KvBackend, keys: KeySchema, nodes: CopiedNode[]): Promise<CopiedNode[]> {
  const present = await Promise.all(nodes.map(async (n) => (await target.range(keys.nodeKey(n.path), { countOnly: true })).count > 0));
  return nodes.filter((_, i) => !present[i]);
}

/**
 * Whether the root's child-change key, as read, says nothing was ever created under `/`: the
 * bootstrap wrote it once (version 1), and every create under the root since moved it. Absent:
 * a store the ZooKeeper front end never bootstrapped.
 */
export function rootCounterUnused(counter: KvPair | undefined): boolean {
  return counter === undefined || counter.version === 1;
}

/** Whether nothing has been created under the root yet, so a copy would write it (see {@link writeRoot}). */
export async function rootUnused(target: KvBackend, keys: KeySchema): Promise<boolean> {
  return rootCounterUnused((await target.range(keys.counterKey('/'))).kvs[0]);
}

/**
 * Writes the root over the bootstrap's keys, guarded by what was read. Its child-change key is
 * at version 1 until anything is created under it (the bootstrap wrote it once; the copy writes
 * children without it): a later version means clients or an earlier copy used the root already,
 * and its numbers are the store's to keep (resolves false).
 */
export async function writeRoot(target: KvBackend, keys: KeySchema, root: CopiedNode): Promise<boolean> {
  const read = async (key: Buffer): Promise<{ version: number; mod: number }> => {
    const kv = (await target.range(key)).kvs[0];
    return { version: kv?.version ?? 0, mod: kv?.modRevision ?? 0 };
  };
  const [node, acl, counter] = await Promise.all([read(keys.nodeKey('/')), read(keys.aclKey('/')), read(keys.counterKey('/'))]);
  if (counter.version !== 1) return false;
  const guard = (key: Buffer, mod: number): KvTxn['compare'][number] => ({ key, target: 'mod', result: 'equal', value: mod });
  const r = await target.txn({
    compare: [guard(keys.nodeKey('/'), node.mod), guard(keys.aclKey('/'), acl.mod), guard(keys.counterKey('/'), counter.mod)],
    success: [...nodeOps(keys, root, 'system', { acl: acl.version, counter: counter.version }), lastChange(keys)],
    failure: [],
  });
  if (!r.succeeded) throw new MigrationError('the root znode changed in the store during the copy; run the copy again');
  return true;
}

/**
 * Makes a copied node report `cversion`, after its children were read: the source counted
 * children (ephemerals) the copy leaves out, and only their own reads tell which those are.
 * Guarded by the child-change key as read: when the store's clients created or deleted under
 * the node meanwhile, the number is theirs to keep (resolves false).
 */
export async function setChildCount(target: KvBackend, keys: KeySchema, path: string, cversion: number): Promise<boolean> {
  const key = keys.counterKey(path);
  const kv = (await target.range(key)).kvs[0];
  const r = await target.txn({
    compare: [{ key, target: 'mod', result: 'equal', value: kv?.modRevision ?? 0 }],
    success: [{ type: 'put', key, value: encodeCounterValue(cversion - (kv?.version ?? 0)) }, lastChange(keys)],
    failure: [],
  });
  return r.succeeded;
}
