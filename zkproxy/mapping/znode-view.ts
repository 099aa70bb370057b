/**
 * `NodeView`: everything about one znode in one object — what a read answers from and what a
 * write plans against — and the exact Stat derivation (zk-protocol.md §2.4). zxid fields may
 * hold {@link PENDING_ZXID}, meaning "the revision this transaction will commit at", resolved
 * once the store has answered.
 */
import { Acl, Stat } from '../../protocol/jute';
import { NodeKind } from './node-codec';

/** Stands for the zxid of the transaction being planned. */
export const PENDING_ZXID = -1;

/** One znode as the proxy knows it. */
export interface NodeView {
  path: string;
  kind: NodeKind;
  data: Buffer | null;
  /** The ZooKeeper data version (stored in the node header). */
  version: number;
  ctime: bigint;
  mtime: bigint;
  /** TTL in ms for `ttl` nodes, else 0. */
  ttl: bigint;
  /** Session (lease) id of an ephemeral, else 0n. */
  owner: bigint;
  czxid: number;
  mzxid: number;
  pzxid: number;
  acl: Acl[];
  aversion: number;
  /** The persisted child-create counter (sequential suffixes; cversion derivation). */
  counter: number;
  /** Child names; shared with the tree — copy before changing ({@link withChildren}). */
  children: ReadonlySet<string>;
  /** modRevisions of the node, ACL and counter keys when read (0 = absent): the commit guards. */
  guard: { n: number; a: number; c: number };
}

/** True for an ephemeral node. */
export function isEphemeral(v: NodeView): boolean {
  return v.owner !== 0n && v.kind === 'plain';
}

function zx(z: number, pending: number): bigint {
  return BigInt(z === PENDING_ZXID ? pending : z);
}

/**
 * The Stat of `v`. `pending` replaces {@link PENDING_ZXID}. cversion is reported as
 * 2 × creates − numChildren (DataNode.copyStat), i.e. creates + deletes, in int32.
 */
export function statOf(v: NodeView, pending = PENDING_ZXID): Stat {
  return {
    czxid: zx(v.czxid, pending),
    mzxid: zx(v.mzxid, pending),
    ctime: v.ctime,
    mtime: v.mtime,
    version: v.version,
    cversion: (2 * v.counter - v.children.size) | 0,
    aversion: v.aversion,
    ephemeralOwner: isEphemeral(v) ? v.owner : 0n,
    dataLength: v.data?.length ?? 0,
    numChildren: v.children.size,
    pzxid: zx(v.pzxid, pending),
  };
}

/** Resolves the pending zxid in an already-derived Stat. */
export function resolveStat(s: Stat, zxid: number): Stat {
  const p = BigInt(PENDING_ZXID);
  const z = BigInt(zxid);
  return {
    ...s,
    czxid: s.czxid === p ? z : s.czxid,
    mzxid: s.mzxid === p ? z : s.mzxid,
    pzxid: s.pzxid === p ? z : s.pzxid,
  };
}

/** A copy of `v` with its own children set (copy-on-write for planning). */
export function withChildren(v: NodeView): NodeView {
  return { ...v, children: new Set(v.children) };
}
