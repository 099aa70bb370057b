/**
 * `NodeView`: everything about one znode in one object — what a read answers from and what a
 * write plans against — and the exact Stat derivation (zk-protocol.md §2.4). zxid fields may
 * hold {@link PENDING_ZXID}, meaning "the revision this transaction will commit at", resolved
 * once the store has answered.
 */
import { Acl, Stat } from '../../protocol/jute';
import { NodeKind, ZnodeData, dataLength } from './node-codec';

/** Stands for the zxid of the transaction being planned. */
export const PENDING_ZXID = -1;

/** One znode as the proxy knows it. */
export interface NodeView {
  path: string;
  kind: NodeKind;
  /** Replica data is a latin1 string; a write's new data is the request's Buffer. */
  data: ZnodeData;
  /** The ZooKeeper data version (stored in the node header). */
  version: number;
  ctime: bigint;
  mtime: bigint;
  /** TTL in ms for `ttl` nodes, else 0. */
  ttl: bigint;
  /** Session (lease) id of an ephemeral, else 0n. */
  owner: bigint;
  czxid: number;
  /** The czxid field as stored in the node header (see node-codec.ts); 0 for new nodes. */
  czxidStored?: bigint;
  mzxid: number;
  pzxid: number;
  acl: Acl[];
  aversion: number;
  /** Child creates + deletes (the reported cversion, int32). */
  cversion: number;
  /** How often this write changed the node's children (to keep cversion exact in one txn). */
  childChanges?: number;
  /**
   * The create counter when it is known without the child names: a parent planned on the
   * sequential creates in flight under it (TxnPlan's pending parent), whose names the replica
   * does not hold yet. Absent: derived from cversion and the child count ({@link createCount}).
   */
  creates?: number;
  /** Child names; shared with the tree — copy before changing ({@link withChildren}). */
  children: ReadonlySet<string>;
  /**
   * What the keys looked like when read, for the commit guards: node createRevision (nc),
   * modRevision (n) and version (nv), ACL and child-change modRevisions (a, c) and their
   * offsets; 0 = absent.
   */
  guard: { nc: number; n: number; nv: number; a: number; c: number; offset: number; aOffset: number };
}

/**
 * The parent's create counter, whose `%010d` is the next sequential suffix: ZooKeeper persists
 * only creates, and reports cversion = 2 × creates − numChildren (DataNode.copyStat).
 */
export function createCount(v: NodeView): number {
  return v.creates ?? ((v.cversion + v.children.size) / 2) | 0;
}

/** True for an ephemeral node. */
export function isEphemeral(v: NodeView): boolean {
  return v.owner !== 0n && v.kind === 'plain';
}

function zx(z: number, pending: number): bigint {
  return BigInt(z === PENDING_ZXID ? pending : z);
}

/**
 * The Stat of `v`. `pending` replaces {@link PENDING_ZXID}. cversion counts creates + deletes
 * of children (= 2 × creates − numChildren, DataNode.copyStat), in int32.
 */
export function statOf(v: NodeView, pending = PENDING_ZXID): Stat {
  return {
    czxid: zx(v.czxid, pending),
    mzxid: zx(v.mzxid, pending),
    ctime: v.ctime,
    mtime: v.mtime,
    version: v.version,
    cversion: v.cversion | 0,
    aversion: v.aversion,
    ephemeralOwner: isEphemeral(v) ? v.owner : 0n,
    dataLength: dataLength(v.data),
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

/**
 * A set of child names over a shared base set plus this plan's additions and removals, so
 * planning a create under a parent with many children does not copy them all.
 */
export class ChildDelta implements ReadonlySet<string> {
  // Made on first use: most plans only add one child, and a create is planned per request.
  private added: Set<string> | undefined;
  private removed: Set<string> | undefined;

  constructor(private readonly base: ReadonlySet<string>) {}

  get size(): number {
    return this.base.size + (this.added?.size ?? 0) - (this.removed?.size ?? 0);
  }

  has(name: string): boolean {
    return (this.added?.has(name) ?? false) || (this.base.has(name) && !(this.removed?.has(name) ?? false));
  }

  /** Adds a child name. */
  add(name: string): void {
    if (this.has(name)) return;
    if (this.removed?.has(name)) this.removed.delete(name);
    else (this.added ??= new Set()).add(name);
  }

  /** Removes a child name. */
  delete(name: string): void {
    if (!this.has(name)) return;
    if (this.added?.has(name)) this.added.delete(name);
    else (this.removed ??= new Set()).add(name);
  }

  *[Symbol.iterator](): SetIterator<string> {
    for (const n of this.base) if (!this.removed?.has(n)) yield n;
    if (this.added) yield* this.added;
  }

  keys(): SetIterator<string> {
    return this[Symbol.iterator]();
  }

  values(): SetIterator<string> {
    return this[Symbol.iterator]();
  }

  *entries(): SetIterator<[string, string]> {
    for (const n of this) yield [n, n];
  }

  forEach(cb: (value: string, key: string, set: ReadonlySet<string>) => void): void {
    for (const n of this) cb(n, n, this);
  }
}

/** A copy of `v` whose children can change without touching the shared set (planning). */
export function withChildren(v: NodeView): NodeView {
  return { ...v, children: v.children instanceof ChildDelta ? v.children : new ChildDelta(v.children) };
}
