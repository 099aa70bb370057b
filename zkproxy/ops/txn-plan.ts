/**
 * `TxnPlan`: a write planned against the replica (znode-tree.ts) plus an overlay of this
 * write's own effects, so later ops of a multi see earlier ones (zk-protocol.md §2.6: create
 * then setData, two sequential creates under one parent). It turns into ONE store transaction:
 * compares on the modRevision of every node/ACL/counter key it read (so a stale replica can
 * only cause a retry), and the puts/deletes of the net effect, one op per key (etcd refuses a
 * key twice in one txn). A failed write becomes a guarded put of the error key, so it spends a
 * zxid like ZooKeeper's error txn.
 */
import { KvCompare, KvOp, KvTxn } from '../backend/kv-backend';
import { KeySchema } from '../mapping/key-schema';
import { encodeAclValue, encodeCounterValue, encodeNodeValue } from '../mapping/node-codec';
import { ZnodeTree } from '../mapping/znode-tree';
import { NodeView, isEphemeral, withChildren } from '../mapping/znode-view';

interface Dirty {
  n: boolean;
  a: boolean;
  c: boolean;
}

/** One write (or multi) being planned. */
export class TxnPlan {
  /** The current state of every path touched: a view, or null when deleted by this plan. */
  private readonly overlay = new Map<string, NodeView | null>();
  /** The replica's view of every path read (undefined = absent): the guards and the diff base. */
  private readonly base = new Map<string, NodeView | undefined>();
  private readonly dirty = new Map<string, Dirty>();

  /**
   * @param tree the replica
   * @param keys the key schema
   * @param now wall-clock ms for ctime/mtime: one timestamp per txn, as ZooKeeper's multi
   */
  constructor(
    private readonly tree: ZnodeTree,
    private readonly keys: KeySchema,
    readonly now: bigint,
  ) {}

  /** The node at `path` as this plan sees it (its own effects included), or undefined. */
  get(path: string): NodeView | undefined {
    if (this.overlay.has(path)) return this.overlay.get(path) ?? undefined;
    if (!this.base.has(path)) this.base.set(path, this.tree.view(path));
    return this.base.get(path);
  }

  /** A private, mutable copy of the existing node at `path` (created on first change). */
  edit(path: string, what: keyof Dirty): NodeView {
    const cur = this.get(path);
    if (!cur) throw new Error(`TxnPlan.edit of absent ${path}`);
    let v = cur;
    if (this.overlay.get(path) !== cur) {
      v = withChildren(cur);
      this.overlay.set(path, v);
    }
    this.mark(path)[what] = true;
    return v;
  }

  /** Records a new node (a create). */
  put(v: NodeView): void {
    this.get(v.path);
    this.overlay.set(v.path, v);
    const d = this.mark(v.path);
    d.n = d.a = d.c = true;
  }

  /** Records the deletion of `path`. */
  remove(path: string): void {
    this.get(path);
    this.overlay.set(path, null);
  }

  private mark(path: string): Dirty {
    let d = this.dirty.get(path);
    if (!d) {
      d = { n: false, a: false, c: false };
      this.dirty.set(path, d);
    }
    return d;
  }

  /** The compares: every key read still has the modRevision it had (0 = still absent). */
  private guards(): KvCompare[] {
    const out: KvCompare[] = [];
    for (const [path, v] of this.base) {
      out.push({ key: this.keys.nodeKey(path), target: 'mod', result: 'equal', value: v?.guard.n ?? 0 });
      if (!v) continue;
      out.push({ key: this.keys.aclKey(path), target: 'mod', result: 'equal', value: v.guard.a });
      out.push({ key: this.keys.counterKey(path), target: 'mod', result: 'equal', value: v.guard.c });
    }
    return out;
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
      const d = this.dirty.get(path) ?? { n: false, a: false, c: false };
      const lease = isEphemeral(cur) ? cur.owner : undefined;
      const created = !was;
      if (created || d.n) ops.push({ type: 'put', key: this.keys.nodeKey(path), value: encodeNodeValue(cur), lease });
      if (created || d.a) ops.push({ type: 'put', key: this.keys.aclKey(path), value: encodeAclValue(cur.acl), lease });
      if (created || d.c) ops.push({ type: 'put', key: this.keys.counterKey(path), value: encodeCounterValue(cur.counter), lease });
    }
    return { compare: this.guards(), success: ops, failure: [] };
  }

  /** The transaction recording a failed write: the same guards, then a put of the error key. */
  failureTxn(): KvTxn {
    return { compare: this.guards(), success: [{ type: 'put', key: this.keys.errorKey(), value: Buffer.alloc(0) }], failure: [] };
  }

  private deleteOps(path: string): KvOp[] {
    return [
      { type: 'delete', key: this.keys.nodeKey(path) },
      { type: 'delete', key: this.keys.aclKey(path) },
      { type: 'delete', key: this.keys.counterKey(path) },
    ];
  }
}
