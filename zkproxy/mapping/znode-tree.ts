/**
 * `ZnodeTree`: the proxy's in-memory replica of the ZooKeeper key space, kept current by the
 * one ordered change feed (watch/change-feed.ts). Reads are answered from it at the feed's
 * revision — ZooKeeper's own model, where a server answers reads from its local tree and
 * `sync` catches it up (zk-protocol.md §2.2, §2.7). Writes plan against it and are guarded by
 * the modRevisions they read, so a stale replica can only cause a retry, never a wrong commit.
 *
 * The tree keeps node, ACL and counter state apart (they are separate keys that may arrive in
 * any order within one revision) and the child sets apart from the nodes (a child may arrive
 * before its parent while loading).
 */
import { Acl } from '../../protocol/jute';
import { KvPair } from '../backend/kv-backend';
import { OPEN_ACL_UNSAFE } from './acl-rules';
import { KeySchema } from './key-schema';
import { NodeKind, ZnodeData, dataLength, decodeAclValue, decodeCounterValue, decodeNodeValue, shared0 } from './node-codec';
import { baseName, parentOf } from './path-rules';
import { NodeView } from './znode-view';
import { QuotaUsage, quotaStatsText, quotaTargetOf } from './quota-stats';
import { QuotaUsageCache } from './quota-usage-cache';
import { decodeZxidBase } from './zxid-base';
import { SessionRecord, decodeSessionRecord } from './session-record';

interface NodeState {
  kind: NodeKind;
  czxidStored: bigint;
  data: ZnodeData;
  version: number;
  ctime: bigint;
  mtime: bigint;
  ttl: bigint;
  owner: bigint;
  createRev: number;
  modRev: number;
  /** The node key's version (puts since its creation): the guard of a write planned on a write in flight. */
  keyVersion: number;
}

interface AclState {
  acl: Acl[];
  offset: number;
  version: number;
  modRev: number;
}

interface CounterState {
  offset: number;
  version: number;
  createRev: number;
  modRev: number;
}

/** A znode-level change produced by applying one key event. */
export interface NodeChange {
  type: 'created' | 'changed' | 'deleted';
  path: string;
  /**
   * The node's ACL when the change was made: a watcher must be able to READ through it to be
   * told (3.8's ServerCnxn.process). Filled in by the change feed (change-acls.ts) where the
   * current ACL would be wrong (a deleted node, an incarnation a multi created and deleted);
   * absent: the node's current ACL.
   */
  acl?: readonly Acl[];
  /**
   * The parent's ACL when the change was made, which decides NodeChildrenChanged; absent: the
   * parent's current ACL.
   */
  parentAcl?: readonly Acl[];
}

const NO_CHILDREN: ReadonlySet<string> = new Set();

/** The replica. Single-threaded: only the change feed mutates it. */
export class ZnodeTree {
  private readonly nodes = new Map<string, NodeState>();
  private readonly acls = new Map<string, AclState>();
  private readonly counters = new Map<string, CounterState>();
  private readonly children = new Map<string, Set<string>>();
  private readonly ephemerals = new Map<bigint, Set<string>>();
  /** Session records as stored by whichever proxy created them (or zk-migrate carried over). */
  private readonly sessionRecords = new Map<bigint, SessionRecord>();
  /**
   * Sessions carried over from a ZooKeeper (origin "zookeeper") whose records arrived since the
   * last {@link takeCarriedArrivals}: no proxy opened them, so the proxies must adopt them to
   * expire the ones whose clients never come back.
   */
  private carriedArrivals: bigint[] = [];
  /** Container and TTL nodes: the reaper's candidates, so it never scans the whole tree. */
  private readonly reapable = new Set<string>();
  private dataBytes = 0;
  /** The store revision the tree reflects. */
  revision = 0;
  /** The cluster secret, once seen. */
  secret: Buffer | undefined;
  /**
   * What clients' zxids add to revisions (zxid-base.ts). It only ever rises: lowering it would
   * take zxids back below what clients have seen, and they would be refused.
   */
  zxidBase = 0n;

  constructor(readonly keys: KeySchema) {}

  /** Node count and data bytes of the quota'd subtrees, kept by the deltas of putNode/deleteNode. */
  private readonly quotaUsage = new QuotaUsageCache({
    dataLength: (p) => {
      const n = this.nodes.get(p);
      return n === undefined ? undefined : dataLength(n.data);
    },
    childrenOf: (p) => this.childrenOf(p),
  });

  /** Node count and data bytes of the subtree at `target`, what its quota stats node reports. */
  usageOf(target: string): Readonly<QuotaUsage> {
    return this.quotaUsage.of(target);
  }

  /** Number of znodes. */
  size(): number {
    return this.nodes.size;
  }

  /** Sum of path and data lengths, as ZooKeeper's DataTree sums them (mntr's zk_approximate_data_size). */
  approximateDataSize(): number {
    return this.dataBytes;
  }

  /** Number of ephemeral nodes. */
  ephemeralCount(): number {
    let n = 0;
    for (const s of this.ephemerals.values()) n += s.size;
    return n;
  }

  /** True when `path` exists. */
  has(path: string): boolean {
    return this.nodes.has(path);
  }

  /** Every path (for the reaper and tests); iteration order is insertion order. */
  paths(): IterableIterator<string> {
    return this.nodes.keys();
  }

  /** Every session record in the store. */
  sessions(): ReadonlyMap<bigint, SessionRecord> {
    return this.sessionRecords;
  }

  /** The carried-over sessions recorded since the last call (see `carriedArrivals`), oldest first. */
  takeCarriedArrivals(): bigint[] {
    const out = this.carriedArrivals;
    this.carriedArrivals = [];
    return out;
  }

  /**
   * Replaces this tree's contents with `fresh` (a reload after the feed lost history) and
   * returns the znode changes between the two, so watches fire for what was missed: a path
   * only in `fresh` was created, only here was deleted, a different incarnation (createRevision)
   * was deleted and created, a different modRevision changed its data.
   */
  replaceWith(fresh: ZnodeTree): NodeChange[] {
    const changes: NodeChange[] = [];
    for (const [path, old] of this.nodes) {
      const now = fresh.nodes.get(path);
      if (!now) changes.push(this.deletedAsWas(path, fresh));
      else if (now.createRev !== old.createRev) changes.push(this.deletedAsWas(path, fresh), { type: 'created', path });
      else if (now.modRev !== old.modRev) changes.push({ type: 'changed', path });
    }
    for (const path of fresh.nodes.keys()) if (!this.nodes.has(path)) changes.push({ type: 'created', path });
    const copy = <K, V>(to: Map<K, V>, from: Map<K, V>): void => {
      to.clear();
      for (const [k, v] of from) to.set(k, v);
    };
    copy(this.nodes, fresh.nodes);
    copy(this.acls, fresh.acls);
    copy(this.counters, fresh.counters);
    copy(this.children, fresh.children);
    copy(this.ephemerals, fresh.ephemerals);
    for (const [id, r] of fresh.sessionRecords) if (!this.sessionRecords.has(id) && r.origin === 'zookeeper') this.carriedArrivals.push(id);
    copy(this.sessionRecords, fresh.sessionRecords);
    this.reapable.clear();
    for (const p of fresh.reapable) this.reapable.add(p);
    this.dataBytes = fresh.dataBytes;
    this.quotaUsage.clear();
    this.secret = fresh.secret ?? this.secret;
    if (fresh.zxidBase > this.zxidBase) this.zxidBase = fresh.zxidBase;
    this.revision = fresh.revision;
    return changes;
  }

  /**
   * A deletion found by {@link replaceWith}, told with the ACLs this (old) tree had: the node's,
   * and the parent's when `fresh` lost the parent too.
   */
  private deletedAsWas(path: string, fresh: ZnodeTree): NodeChange {
    const parent = path === '/' ? undefined : parentOf(path);
    const change: NodeChange = { type: 'deleted', path, acl: this.aclOf(path) };
    if (parent !== undefined && !fresh.nodes.has(parent)) change.parentAcl = this.aclOf(parent);
    return change;
  }

  /** Paths of container and TTL nodes. */
  reapablePaths(): IterableIterator<string> {
    return this.reapable.values();
  }

  /** Paths of the ephemerals owned by session `owner`. */
  ephemeralsOf(owner: bigint): string[] {
    return [...(this.ephemerals.get(owner) ?? [])];
  }

  /** The sessions that own ephemerals, each with its paths (the AdminServer's dump). */
  ephemeralOwners(): Map<bigint, string[]> {
    return new Map([...this.ephemerals].filter(([, paths]) => paths.size > 0).map(([owner, paths]) => [owner, [...paths]]));
  }

  /** The view of `path`, or undefined when absent. The children set is shared: do not mutate. */
  view(path: string): NodeView | undefined {
    const n = this.nodes.get(path);
    if (!n) return undefined;
    const a = this.acls.get(path);
    const c = this.counters.get(path);
    const system = n.kind === 'system';
    const czxid = system ? 0 : n.czxidStored === 0n ? n.createRev : n.czxidStored === -1n ? n.modRev : Number(n.czxidStored);
    return {
      path, kind: n.kind, data: this.dataOf(path, n.data),
      version: n.version, ctime: n.ctime, mtime: n.mtime, ttl: n.ttl,
      owner: n.owner,
      czxid,
      czxidStored: n.czxidStored,
      mzxid: system && n.modRev === n.createRev ? 0 : n.modRev,
      // No child change yet: pzxid = czxid.
      pzxid: c === undefined ? czxid : system && c.modRev === c.createRev ? 0 : c.modRev,
      acl: a?.acl ?? OPEN_ACL_UNSAFE,
      aversion: a ? a.version - 1 + a.offset : 0,
      cversion: c ? c.version - 1 + c.offset : 0,
      children: this.children.get(path) ?? NO_CHILDREN,
      // Present from the start so a plan's edits keep the object's shape (V8 hidden class).
      childChanges: 0,
      guard: { nc: n.createRev, n: n.modRev, nv: n.keyVersion, a: a?.modRev ?? 0, c: c?.modRev ?? 0, offset: c?.offset ?? 0, aOffset: a?.offset ?? 0 },
    };
  }

  /** A node's data as read: a quota stats node shows its subtree's current usage. */
  private dataOf(path: string, stored: ZnodeData): ZnodeData {
    const target = quotaTargetOf(path);
    return target === undefined ? stored : quotaStatsText(this.quotaUsage.of(target));
  }

  /** The ACL of `path` (the open ACL for a node without an ACL key, or an absent node). */
  aclOf(path: string): readonly Acl[] {
    return this.acls.get(path)?.acl ?? OPEN_ACL_UNSAFE;
  }

  /** Child names of `path` (shared set; empty when none). */
  childrenOf(path: string): ReadonlySet<string> {
    return this.children.get(path) ?? NO_CHILDREN;
  }

  /**
   * Applies one key put/delete. Returns the znode change it makes, if any (only node keys make
   * changes; ACL and counter keys change Stat fields but fire no watch, as in ZooKeeper).
   */
  apply(type: 'put' | 'delete', kv: KvPair): NodeChange | undefined {
    const k = this.keys.classify(kv.key);
    switch (k.kind) {
      case 'node': return type === 'put' ? this.putNode(k.path, kv) : this.deleteNode(k.path);
      case 'acl':
        if (type === 'put') this.acls.set(k.path, { ...decodeAclValue(kv.value), version: kv.version, modRev: kv.modRevision });
        else this.acls.delete(k.path);
        return undefined;
      case 'counter':
        if (type === 'put') {
          this.counters.set(k.path, { offset: decodeCounterValue(kv.value), version: kv.version, createRev: kv.createRevision, modRev: kv.modRevision });
        } else this.counters.delete(k.path);
        return undefined;
      case 'session':
        if (type === 'put') this.putSession(k.id, decodeSessionRecord(kv.value));
        else this.sessionRecords.delete(k.id);
        return undefined;
      case 'secret':
        if (type === 'put' && kv.value.length > 0) this.secret = Buffer.from(kv.value);
        return undefined;
      case 'zxidBase': {
        const base = type === 'put' ? decodeZxidBase(kv.value) : undefined;
        if (base !== undefined && base > this.zxidBase) this.zxidBase = base;
        return undefined;
      }
      default:
        return undefined;
    }
  }

  private putSession(id: bigint, r: SessionRecord): void {
    if (r.origin === 'zookeeper' && !this.sessionRecords.has(id)) this.carriedArrivals.push(id);
    this.sessionRecords.set(id, r);
  }

  private putNode(path: string, kv: KvPair): NodeChange | undefined {
    const v = decodeNodeValue(kv.value);
    if (!v) return undefined;
    const prev = this.nodes.get(path);
    this.nodes.set(path, {
      kind: v.kind, czxidStored: v.czxid ?? 0n, data: v.data, version: v.version, ctime: v.ctime, mtime: v.mtime, ttl: v.ttl,
      owner: shared0(kv.lease), createRev: kv.createRevision, modRev: kv.modRevision, keyVersion: kv.version,
    });
    // ZooKeeper's approximate data size counts each node's path as well as its data.
    this.dataBytes += dataLength(v.data) - (prev ? dataLength(prev.data) : -path.length);
    this.quotaUsage.changed(path, prev ? 0 : 1, dataLength(v.data) - (prev ? dataLength(prev.data) : 0));
    if (v.kind === 'container' || v.kind === 'ttl') this.reapable.add(path);
    if (prev) {
      if (prev.owner !== kv.lease) {
        this.untrackEphemeral(prev.owner, path);
        this.trackEphemeral(kv.lease, path);
      }
      return { type: 'changed', path };
    }
    this.trackEphemeral(kv.lease, path);
    if (path !== '/') this.childSet(parentOf(path)).add(baseName(path));
    return { type: 'created', path };
  }

  private deleteNode(path: string): NodeChange | undefined {
    const prev = this.nodes.get(path);
    if (!prev) return undefined;
    this.nodes.delete(path);
    this.dataBytes -= dataLength(prev.data) + path.length;
    this.quotaUsage.changed(path, -1, -dataLength(prev.data));
    const target = quotaTargetOf(path);
    if (target !== undefined) this.quotaUsage.forget(target);
    this.reapable.delete(path);
    this.untrackEphemeral(prev.owner, path);
    if (path !== '/') {
      const parent = parentOf(path);
      const set = this.children.get(parent);
      set?.delete(baseName(path));
      if (set && set.size === 0) this.children.delete(parent);
    }
    return { type: 'deleted', path };
  }

  private childSet(path: string): Set<string> {
    let s = this.children.get(path);
    if (!s) {
      s = new Set();
      this.children.set(path, s);
    }
    return s;
  }

  private trackEphemeral(owner: bigint, path: string): void {
    if (owner === 0n) return;
    let s = this.ephemerals.get(owner);
    if (!s) {
      s = new Set();
      this.ephemerals.set(owner, s);
    }
    s.add(path);
  }

  private untrackEphemeral(owner: bigint, path: string): void {
    if (owner === 0n) return;
    const s = this.ephemerals.get(owner);
    s?.delete(path);
    if (s && s.size === 0) this.ephemerals.delete(owner);
  }
}
