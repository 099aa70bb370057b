/**
 * `TxnPlan`: a write planned against the replica (znode-tree.ts) plus an overlay of this
 * write's own effects, so later ops of a multi see earlier ones (zk-protocol.md §2.6: create
 * then setData, two sequential creates under one parent). It turns into ONE store transaction:
 * compares guarding exactly what the ops relied on, and the puts/deletes of the net effect, one
 * op per key (etcd refuses a key twice in one txn). A failed write becomes a guarded put of the
 * error key, so it spends a zxid like ZooKeeper's error txn.
 *
 * Guards are as narrow as the decision they protect, so unrelated writes do not conflict:
 * - `exists`: the node is the same incarnation (createRevision) — a parent of a create;
 * - `node`: the node key is unchanged (modRevision) — version checks, data rewrites;
 * - `acl`: the ACL key is unchanged — permission checks;
 * - `children`: the child-change key is unchanged — emptiness, sequence numbers;
 * - on an absent node any guard means "still absent".
 * A child create/delete bumps the parent's child-change key with a blind put (its version is
 * the cversion), so creates of different children of one parent commute.
 *
 * A setData pipelined behind another of the same node reads the node as that write will leave
 * it ({@link PendingViews}); its modRevision is not known then, so the node guard becomes "same
 * createRevision and exactly this many puts" (the key's version).
 */
import { KvCompare, KvOp, KvTxn } from '../backend/kv-backend';
import { encodeChangeScript, needsChangeScript } from '../mapping/change-script';
import { KeySchema } from '../mapping/key-schema';
import { encodeAclValue, encodeCounterValue, encodeNodeValue } from '../mapping/node-codec';
import { parentOf } from '../mapping/path-rules';
import { isOpenAcl } from '../mapping/acl-rules';
import { NodeChange, ZnodeTree } from '../mapping/znode-tree';
import { ChildDelta, NodeView, PENDING_ZXID, createCount, isEphemeral, withChildren } from '../mapping/znode-view';

/**
 * The put of the last-change key that every ZooKeeper transaction carries: it spends the zxid of
 * a failed write, and its modRevision is the latest ZooKeeper revision (ChangeFeed.catchUp).
 */
export function lastChange(keys: KeySchema, value: Buffer = Buffer.alloc(0)): KvOp {
  return { type: 'put', key: keys.errorKey(), value };
}

/** The node key's value for `v`, with the header's czxid field (see node-codec.ts). */
function nodeValue(v: NodeView, czxid: bigint): Buffer {
  return encodeNodeValue({ kind: v.kind, version: v.version, ctime: v.ctime, mtime: v.mtime, ttl: v.ttl, data: v.data, czxid });
}

/**
 * Looks up a node (by node key, latin1) as a connection's writes in flight will leave it, or
 * undefined when none of them writes it (write-chain.ts).
 */
export type PendingViews = (nodeKey: string) => NodeView | undefined;

/**
 * A parent as the sequential creates in flight under it will leave it once they commit
 * (write-runner.ts), for the next sequential create to plan on: its create counter and cversion,
 * its child-change key's version and offset, and the child the last of them creates.
 */
export interface PendingParent {
  path: string;
  creates: number;
  cversion: number;
  counterVersion: number;
  offset: number;
  lastChild: string;
}

/** What a decision relied on (see the file comment). */
export type GuardKind = 'exists' | 'node' | 'acl' | 'children';

/** Guard kinds as bits, so a path's guards are one number (no Set per guarded path). */
const GUARD_BIT: Record<GuardKind, number> = { exists: 1, node: 2, acl: 4, children: 8 };

interface Dirty {
  n: boolean;
  a: boolean;
}

/** One write (or multi) being planned. */
export class TxnPlan {
  /** The current state of every path touched: a view, or null when deleted by this plan. */
  private readonly overlay = new Map<string, NodeView | null>();
  /** The replica's view of every path read (undefined = absent): the guards and the diff base. */
  private readonly base = new Map<string, NodeView | undefined>();
  /** Per guarded path, the {@link GUARD_BIT}s of what was relied on. */
  private readonly guardKinds = new Map<string, number>();
  private readonly dirty = new Map<string, Dirty>();
  /** Paths deleted and created again by this plan (their keys are rewritten, not deleted). */
  private recreated: Set<string> | undefined;
  /** Paths whose children the result reports, unguarded (see {@link reportsChildrenOf}). */
  private reportedChildren: string[] | undefined;
  /** The znode changes in op order (change-script.ts), for watches when a path repeats. */
  private readonly changes: NodeChange[] = [];
  /** Paths whose base is a write in flight (see {@link PendingViews}), with their node keys (latin1). */
  private rebased: Map<string, string> | undefined;
  /** The keys (latin1) of the pending parent's children guard, once the plan read that parent. */
  private pendingParentKeys: readonly string[] | undefined;

  /**
   * @param tree the replica
   * @param keys the key schema
   * @param now wall-clock ms for ctime/mtime: one timestamp per txn, as ZooKeeper's multi
   * @param pending nodes as this connection's writes in flight leave them, to plan on top of
   * @param pendingParent a parent as the sequential creates in flight under it leave it
   */
  constructor(
    private readonly tree: ZnodeTree,
    private readonly keys: KeySchema,
    readonly now: bigint,
    private readonly pending?: PendingViews,
    private readonly pendingParent?: PendingParent,
  ) {}

  /** The node at `path` as this plan sees it (its own effects included), or undefined. */
  get(path: string): NodeView | undefined {
    if (this.overlay.has(path)) return this.overlay.get(path) ?? undefined;
    if (!this.base.has(path)) this.base.set(path, this.read(path));
    return this.base.get(path);
  }

  /**
   * The base view of `path`: the replica's, with the data of a rewrite in flight on top. Only
   * what a data rewrite changes comes from the write in flight (children, ACL and the rest are
   * as current as the replica); the node's identity (its incarnation and key version) does too,
   * so a guard catches any other writer in between.
   */
  private read(path: string): NodeView | undefined {
    const fresh = this.tree.view(path);
    const pp = this.pendingParent;
    if (pp && fresh && path === pp.path) {
      // Counts from the creates in flight; identity and ACL from the replica. The child names
      // stay the replica's: the create counter no longer needs them.
      this.pendingParentKeys = [this.keys.counterKey(pp.path).toString('latin1'), this.keys.nodeKey(pp.lastChild).toString('latin1')];
      return { ...fresh, creates: pp.creates, cversion: pp.cversion, guard: { ...fresh.guard, c: PENDING_ZXID, offset: pp.offset } };
    }
    if (!this.pending) return fresh;
    const key = this.keys.nodeKey(path).toString('latin1');
    const p = this.pending(key);
    if (!p) return fresh;
    (this.rebased ??= new Map()).set(path, key);
    if (!fresh) return p;
    return { ...fresh, data: p.data, version: p.version, mtime: p.mtime, mzxid: p.mzxid, guard: { ...fresh.guard, nc: p.guard.nc, n: p.guard.n, nv: p.guard.nv } };
  }

  /** Records that the plan's outcome depends on `kind` of `path` as first read. */
  guard(path: string, ...kinds: GuardKind[]): void {
    this.get(path);
    let bits = this.guardKinds.get(path) ?? 0;
    for (const k of kinds) bits |= GUARD_BIT[k];
    this.guardKinds.set(path, bits);
  }

  /**
   * Records that the plan's result reports `path`'s children (a Stat's numChildren, cversion,
   * pzxid) without guarding them: a child change committed by another client in between is not
   * worth a retry (guarding it cost setData ≈ 10% of its CPU), but one of this session's own
   * writes pipelined ahead of this one must land first (write-chain.ts waits for it).
   */
  reportsChildrenOf(path: string): void {
    (this.reportedChildren ??= []).push(path);
  }

  /** Keys the result depends on beyond its guards (see {@link reportsChildrenOf}). */
  unguardedKeys(): Buffer[] {
    return (this.reportedChildren ?? []).map((p) => this.keys.counterKey(p));
  }

  /**
   * Keys (latin1) whose compares were planned on writes in flight rather than on the replica: the
   * nodes read through {@link PendingViews}, and the pending parent's child-change key and last
   * pending child (see childrenGuards). A write chain lets such compares link behind those writes.
   */
  rebasedKeys(): ReadonlySet<string> | undefined {
    if (!this.rebased && !this.pendingParentKeys) return undefined;
    return new Set([...(this.rebased?.values() ?? []), ...(this.pendingParentKeys ?? [])]);
  }

  /**
   * The nodes this plan only rewrote the data of (nothing else about them changed), as they
   * will be once it commits, keyed by node key (latin1): what a later write of the same
   * connection may plan on top of while this one is in flight. Their mzxid is pending, so only
   * a write that rewrites the data again (and so the mzxid) may use them.
   */
  dataRewrites(): Map<string, NodeView> {
    const out = new Map<string, NodeView>();
    for (const [path, d] of this.dirty) {
      const cur = this.overlay.get(path);
      const was = this.base.get(path);
      if (!d.n || d.a || !cur || !was || cur.childChanges || this.recreated?.has(path)) continue;
      // One put of the node key: its version goes up by one; its modRevision is not known yet.
      out.set(this.keys.nodeKey(path).toString('latin1'), { ...cur, guard: { ...was.guard, n: PENDING_ZXID, nv: was.guard.nv + 1 } });
    }
    return out;
  }

  /** A private, mutable copy of the existing node at `path` (created on first change). */
  edit(path: string, what: 'n' | 'a' | 'c'): NodeView {
    const cur = this.get(path);
    if (!cur) throw new Error(`TxnPlan.edit of absent ${path}`);
    let v = cur;
    if (this.overlay.get(path) !== cur) {
      v = withChildren(cur);
      this.overlay.set(path, v);
    }
    const d = this.mark(path);
    if (what === 'n') {
      d.n = true;
      this.changes.push({ type: 'changed', path });
    }
    if (what === 'a') d.a = true;
    return v;
  }

  /** Records a new node (a create) and the parent's child change. */
  put(v: NodeView): void {
    this.get(v.path);
    if (this.base.get(v.path)) (this.recreated ??= new Set()).add(v.path);
    this.overlay.set(v.path, v);
    this.changes.push({ type: 'created', path: v.path, acl: v.acl });
    const d = this.mark(v.path);
    d.n = d.a = true;
    if (v.path !== '/') this.childChanged(parentOf(v.path), v.path, true);
  }

  /** Records the deletion of `path` and the parent's child change. */
  remove(path: string): void {
    this.get(path);
    this.overlay.set(path, null);
    this.changes.push({ type: 'deleted', path });
    if (path !== '/') this.childChanged(parentOf(path), path, false);
  }

  /**
   * Records that `count` children of `parentPath` were deleted by someone else (a lease revoke):
   * its cversion and pzxid move without touching the child set, which already lost them.
   */
  childrenRemovedElsewhere(parentPath: string, count: number): void {
    this.guard(parentPath, 'exists');
    const p = this.edit(parentPath, 'c');
    p.cversion = (p.cversion + count) | 0;
    p.pzxid = PENDING_ZXID;
    p.childChanges = (p.childChanges ?? 0) + count;
  }

  private childChanged(parentPath: string, path: string, added: boolean): void {
    const p = this.edit(parentPath, 'c');
    const name = path.slice(parentPath === '/' ? 1 : parentPath.length + 1);
    const kids = p.children as ChildDelta;
    if (added) kids.add(name);
    else kids.delete(name);
    if (added && p.creates !== undefined) p.creates = (p.creates + 1) | 0;
    p.cversion = (p.cversion + 1) | 0;
    p.pzxid = PENDING_ZXID;
    p.childChanges = (p.childChanges ?? 0) + 1;
  }

  private mark(path: string): Dirty {
    let d = this.dirty.get(path);
    if (!d) {
      d = { n: false, a: false };
      this.dirty.set(path, d);
    }
    return d;
  }

  /** The compares protecting every recorded decision. */
  private guards(): KvCompare[] {
    const out: KvCompare[] = [];
    for (const [path, kinds] of this.guardKinds) {
      const v = this.base.get(path);
      if (!v) {
        out.push({ key: this.keys.nodeKey(path), target: 'mod', result: 'equal', value: 0 });
        continue;
      }
      if (this.rebased?.has(path)) out.push(...this.rebasedGuards(path, v));
      else if (kinds & GUARD_BIT.node) out.push({ key: this.keys.nodeKey(path), target: 'mod', result: 'equal', value: v.guard.n });
      else if (kinds & GUARD_BIT.exists) out.push({ key: this.keys.nodeKey(path), target: 'create', result: 'equal', value: v.guard.nc });
      if (kinds & GUARD_BIT.acl) out.push({ key: this.keys.aclKey(path), target: 'mod', result: 'equal', value: v.guard.a });
      if (kinds & GUARD_BIT.children) out.push(...this.childrenGuards(path, v));
    }
    return out;
  }

  /**
   * The children guard: the child-change key unchanged. On a pending parent its modRevision is
   * not known yet: the key must have exactly the version the creates in flight leave, and the
   * last of them must have committed (its child exists), so that a delete in place of that
   * create, which moves the version the same way, still fails the guard.
   */
  private childrenGuards(path: string, v: NodeView): KvCompare[] {
    // guards() reaches here only for a parent that exists, so the pending parent's was read through it.
    const pp = this.pendingParent;
    if (!pp || path !== pp.path) return [{ key: this.keys.counterKey(path), target: 'mod', result: 'equal', value: v.guard.c }];
    return [
      { key: this.keys.counterKey(path), target: 'version', result: 'equal', value: pp.counterVersion },
      { key: this.keys.nodeKey(pp.lastChild), target: 'create', result: 'greater', value: 0 },
    ];
  }

  /**
   * The parent `path` as this plan leaves it when the plan's only change to it is one child
   * created (a sequential create), for the next sequential create under it to plan on while this
   * one is in flight; otherwise undefined.
   */
  parentAfter(path: string): PendingParent | undefined {
    const cur = this.overlay.get(path);
    const was = this.base.get(path);
    const d = this.dirty.get(path);
    const only = this.changes.length === 1 ? this.changes[0]! : undefined;
    const child = only?.type === 'created' ? only.path : undefined;
    if (!cur || !was || !d || d.n || d.a || cur.childChanges !== 1 || this.recreated?.has(path) || child === undefined || parentOf(child) !== path) return undefined;
    // The child-change key's version is cversion + 1 − offset while the key exists (znode-tree.ts).
    const absent = was.guard.c === 0;
    const wasVersion = absent ? 0 : was.cversion + 1 - was.guard.offset;
    return {
      path, creates: (createCount(was) + 1) | 0, cversion: cur.cversion,
      counterVersion: wasVersion + 1, offset: absent ? was.cversion + 1 : was.guard.offset, lastChild: child,
    };
  }

  /**
   * The node guard of a path planned on a write in flight, whose modRevision is not known yet:
   * the same incarnation, put exactly as often as the writes in flight make it. Any other
   * write in between moves the version and fails the guard.
   */
  private rebasedGuards(path: string, v: NodeView): KvCompare[] {
    const key = this.keys.nodeKey(path);
    return [
      { key, target: 'create', result: 'equal', value: v.guard.nc },
      { key, target: 'version', result: 'equal', value: v.guard.nv },
    ];
  }

  /** The transaction committing this plan's net effect. */
  commitTxn(): KvTxn {
    const ops: KvOp[] = [];
    for (const [path, cur] of this.overlay) {
      const was = this.base.get(path);
      if (cur === null) {
        if (was) ops.push(...this.deleteOps(path));
        continue;
      }
      const d = this.dirty.get(path) ?? { n: false, a: false };
      const lease = isEphemeral(cur) ? cur.owner : undefined;
      if (this.recreated?.has(path)) {
        ops.push(...this.recreateOps(path, cur, was!, lease));
        continue;
      }
      if (!was) {
        // Only the node key, unless the ACL is not the open one or children came in this txn
        // (a new key has version 1, so its offset is the whole cversion).
        ops.push({ type: 'put', key: this.keys.nodeKey(path), value: nodeValue(cur, 0n), lease });
        if (!isOpenAcl(cur.acl)) ops.push({ type: 'put', key: this.keys.aclKey(path), value: encodeAclValue(cur.acl), lease });
        if (cur.childChanges) ops.push({ type: 'put', key: this.keys.counterKey(path), value: encodeCounterValue(cur.cversion), lease });
        continue;
      }
      // A node whose header carries its czxid (re-created in a multi) keeps it, resolved.
      const czxid = (cur.czxidStored ?? 0n) === 0n ? 0n : BigInt(cur.czxid);
      if (d.n) ops.push({ type: 'put', key: this.keys.nodeKey(path), value: nodeValue(cur, czxid), lease });
      if (d.a) {
        // setACL guards the ACL key, so whether it exists is known: its next version is 1 or +1.
        const offset = was.guard.a === 0 ? cur.aversion : was.guard.aOffset;
        ops.push({ type: 'put', key: this.keys.aclKey(path), value: encodeAclValue(cur.acl, offset), lease });
      }
      if (cur.childChanges) ops.push(this.childChangeOp(path, cur, was, lease));
    }
    ops.push(lastChange(this.keys, needsChangeScript(this.changes) ? encodeChangeScript(this.changes) : undefined));
    return { compare: this.guards(), success: ops, failure: [] };
  }

  /**
   * Keys of a node deleted and created again in this txn. etcd cannot delete and put one key in
   * a txn, so the keys are rewritten: the node header says "czxid = this revision", and an ACL or
   * child-change key left from the old node is put with an offset that restarts its count at 0
   * (guarded, since the offset depends on its version).
   */
  private recreateOps(path: string, cur: NodeView, was: NodeView, lease: bigint | undefined): KvOp[] {
    const ops: KvOp[] = [{ type: 'put', key: this.keys.nodeKey(path), value: nodeValue(cur, -1n), lease }];
    if (was.guard.a !== 0 || !isOpenAcl(cur.acl)) {
      this.guard(path, 'acl');
      const oldVersion = was.guard.a === 0 ? 0 : was.aversion - was.guard.aOffset + 1;
      ops.push({ type: 'put', key: this.keys.aclKey(path), value: encodeAclValue(cur.acl, cur.aversion - oldVersion), lease });
    }
    if (was.guard.c !== 0 || cur.childChanges) {
      this.guard(path, 'children');
      const oldVersion = was.guard.c === 0 ? 0 : was.cversion - was.guard.offset + 1;
      ops.push({ type: 'put', key: this.keys.counterKey(path), value: encodeCounterValue(cur.cversion - oldVersion), lease });
    }
    return ops;
  }

  /**
   * The put of a parent's child-change key. One change: a blind put (the version bump is the
   * cversion step). Several in one txn: the offset makes up the difference, which needs the
   * offset as read, so the key is guarded then.
   */
  private childChangeOp(path: string, cur: NodeView, was: NodeView, lease: bigint | undefined): KvOp {
    const changes = cur.childChanges ?? 0;
    if (changes > 1) this.guard(path, 'children');
    // cversion = version − 1 + offset. An existing key: next version = old + 1, so the offset
    // grows by changes − 1. An absent key (no child change yet): next version is 1, offset =
    // changes; a concurrent blind put of the same offset then lands at version 2: still exact.
    const offset = was.guard.c === 0 ? was.cversion + changes : was.guard.offset + changes - 1;
    return { type: 'put', key: this.keys.counterKey(path), value: encodeCounterValue(offset), lease };
  }

  /** The transaction recording a failed write: the same guards, then a put of the error key. */
  failureTxn(): KvTxn {
    return { compare: this.guards(), success: [lastChange(this.keys)], failure: [] };
  }

  private deleteOps(path: string): KvOp[] {
    return [
      { type: 'delete', key: this.keys.nodeKey(path) },
      { type: 'delete', key: this.keys.aclKey(path) },
      { type: 'delete', key: this.keys.counterKey(path) },
    ];
  }
}
