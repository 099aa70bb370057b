/**
 * A ZooKeeper's tree rebuilt from its files: the znodes of a snapshot, then the txns logged after
 * it applied as ZooKeeper's DataTree applies them when it starts. A snapshot is fuzzy (taken
 * while txns ran), so a replayed txn may find its work done already; as in DataTree, such a txn
 * fails quietly (a create of a node that exists, a delete or setData of one that does not),
 * and only the parent's create count and pzxid of a plain create that found its node are set.
 *
 * Numbers are kept as ZooKeeper persists them: `cversion` counts the creates under a node, and
 * a client sees 2 × creates − children (one change per create and one per delete), which is
 * what {@link ZkImage.read} gives, with ephemeralOwner 0 for containers and TTL znodes.
 *
 * The open sessions are tracked as FileTxnSnapLog restores them: the snapshot's, then each
 * createSession adds one and each closeSession (a close or an expiry) removes it.
 */
import { Acl, OpCode, Stat } from '../../protocol/jute';
import { OPEN_ACL_UNSAFE } from '../mapping/acl-rules';
import { SpecialNode, ownerOfKind, specialKindOf } from './special-node';
import { PersistedNode } from './zk-snapshot-reader';
import { CreateTxn, LoggedTxn, ZkTxn } from './zk-txn';
import { ZkDataFileError } from './zk-data-file-error';
import { SourceNode } from './zk-source';

/** A znode of the image: as persisted, with its children's names. */
interface ImageNode extends Omit<PersistedNode, 'path' | 'acl'> {
  acl: readonly Acl[];
  children: Set<string>;
}

/** The root's key: ZooKeeper's DataTree keys it "", not "/". */
const ROOT = '';

/** "/" → "", anything else as is. */
const keyOf = (path: string): string => (path === '/' ? ROOT : path);

function split(key: string): { parent: string; name: string } {
  const i = key.lastIndexOf('/');
  return { parent: key.slice(0, i), name: key.slice(i + 1) };
}

/** A ZooKeeper tree as its files hold it; see the file comment. */
export class ZkImage {
  private readonly nodes = new Map<string, ImageNode>();
  /** Ephemerals by their session. */
  private readonly ephemerals = new Map<bigint, Set<string>>();
  /** Open sessions: id → timeout in ms. */
  private readonly sessions: Map<bigint, number>;
  private zxid: bigint;

  private constructor(zxid: bigint, sessions: Map<bigint, number>) {
    this.zxid = zxid;
    this.sessions = sessions;
  }

  /**
   * The tree of a snapshot taken at `zxid` (its file name's) with the sessions it lists. Throws
   * {@link ZkDataFileError} for a snapshot whose tree is broken (a node before its parent, no
   * root), as ZooKeeper refuses to load it.
   */
  static fromSnapshot(nodes: readonly PersistedNode[], zxid: bigint, name: string, sessions: ReadonlyMap<bigint, number> = new Map()): ZkImage {
    const image = new ZkImage(zxid, new Map(sessions));
    for (const { path, ...n } of nodes) {
      if (path !== ROOT) {
        const at = split(path);
        const parent = image.nodes.get(at.parent);
        if (!parent) throw new ZkDataFileError(`${name}: znode ${path} comes before its parent (an invalid tree)`);
        parent.children.add(at.name);
      }
      image.insert(path, { ...n, children: new Set() });
    }
    if (!image.nodes.has(ROOT)) throw new ZkDataFileError(`${name} holds no root znode`);
    return image;
  }

  /** The tree of a ZooKeeper that never wrote a snapshot: the root and /zookeeper, as a fresh DataTree has them. */
  static empty(): ZkImage {
    const image = new ZkImage(0n, new Map());
    const blank = (): ImageNode => ({ data: null, acl: OPEN_ACL_UNSAFE, czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0, owner: 0n, pzxid: 0n, children: new Set() });
    for (const path of [ROOT, '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
      if (path !== ROOT) image.nodes.get(split(path).parent)!.children.add(split(path).name);
      image.insert(path, blank());
    }
    return image;
  }

  /** The zxid of the last txn applied (the snapshot's, before any). */
  get lastZxid(): bigint {
    return this.zxid;
  }

  /**
   * The sessions open after the last txn: id → timeout in ms. The ephemerals of any other
   * session are the ones ZooKeeper deletes when it loads these files.
   */
  openSessions(): ReadonlyMap<bigint, number> {
    return this.sessions;
  }

  /** How many znodes the tree holds (the root and /zookeeper's included). */
  get size(): number {
    return this.nodes.size;
  }

  /** Applies a logged txn, as ZooKeeper does when it replays its log. */
  apply(t: LoggedTxn): void {
    this.applyTxn(t.txn, t);
    if (t.zxid > this.zxid) this.zxid = t.zxid;
  }

  /** The znode at `path` as a client reads it (getData's Stat, getACL, getChildren), or undefined when there is none. */
  read(path: string): SourceNode | undefined {
    const n = this.nodes.get(keyOf(path));
    if (!n) return undefined;
    const numChildren = n.children.size;
    const stat: Stat = {
      czxid: n.czxid, mzxid: n.mzxid, ctime: n.ctime, mtime: n.mtime, version: n.version,
      cversion: n.cversion * 2 - numChildren, aversion: n.aversion,
      ephemeralOwner: specialKindOf(n.owner) ? 0n : n.owner,
      dataLength: n.data?.length ?? 0, numChildren, pzxid: n.pzxid,
    };
    return { stat, data: n.data, acl: [...n.acl], children: [...n.children] };
  }

  /** The container or TTL znode at `path` created at `czxid`; undefined for a plain one or another incarnation. */
  kindOf(path: string, czxid: bigint): SpecialNode | undefined {
    const n = this.nodes.get(keyOf(path));
    const kind = n && n.czxid === czxid ? specialKindOf(n.owner) : undefined;
    return kind && { path, czxid, ...kind };
  }

  /** How many containers and TTL znodes the tree holds. */
  counts(): { containers: number; ttls: number } {
    let containers = 0;
    let ttls = 0;
    for (const n of this.nodes.values()) {
      const kind = specialKindOf(n.owner)?.kind;
      if (kind === 'container') containers++;
      else if (kind === 'ttl') ttls++;
    }
    return { containers, ttls };
  }

  private insert(key: string, n: ImageNode): void {
    this.nodes.set(key, n);
    if (n.owner !== 0n && !specialKindOf(n.owner)) {
      let mine = this.ephemerals.get(n.owner);
      if (!mine) this.ephemerals.set(n.owner, (mine = new Set()));
      mine.add(key);
    }
  }

  private applyTxn(txn: ZkTxn, t: LoggedTxn): void {
    switch (txn.op) {
      case 'create': return this.create(txn, t);
      case 'delete': return this.delete(txn.path, t.zxid);
      case 'setData': return this.setData(txn.path, txn.data, txn.version, t);
      case 'setACL': return this.setAcl(txn.path, txn.acl, txn.version);
      case 'createSession':
        this.sessions.set(t.clientId, txn.timeoutMs);
        return;
      case 'closeSession':
        this.sessions.delete(t.clientId);
        return this.closeSession(t.clientId, txn.paths, t.zxid);
      case 'multi':
        // A failed multi is logged as error txns alone: nothing to apply.
        for (const sub of txn.txns) this.applyTxn(sub, t);
        return;
      case 'other': return;
    }
  }

  /** DataTree.createNode, and processTxn's fix-up for a plain create whose node is there already. */
  private create(txn: CreateTxn, t: LoggedTxn): void {
    const { parent: parentKey, name } = split(txn.path);
    const parent = this.nodes.get(parentKey);
    if (!parent) return;
    const existing = this.nodes.get(txn.path);
    if (existing) {
      // DataTree sets the existing node's ACL to the txn's before it fails.
      existing.acl = txn.acl;
      // processTxn fixes up a plain create (OpCode.create) only.
      if (txn.type === OpCode.create) this.raiseChildCount(parent, txn.parentCVersion, t.zxid);
      return;
    }
    this.raiseChildCount(parent, txn.parentCVersion, t.zxid);
    parent.children.add(name);
    const owner = txn.kind !== 'plain' ? ownerOfKind(txn.kind, txn.ttl) : txn.ephemeral ? t.clientId : 0n;
    this.insert(txn.path, {
      data: txn.data, acl: txn.acl, czxid: t.zxid, mzxid: t.zxid, ctime: t.time, mtime: t.time,
      version: 0, cversion: 0, aversion: 0, owner, pzxid: t.zxid, children: new Set(),
    });
  }

  /** The parent's create count becomes `parentCVersion` (-1: one more) when that is higher, with pzxid. */
  private raiseChildCount(parent: ImageNode, parentCVersion: number, zxid: bigint): void {
    const next = parentCVersion === -1 ? parent.cversion + 1 : parentCVersion;
    if (next > parent.cversion) {
      parent.cversion = next;
      parent.pzxid = zxid;
    }
  }

  /** DataTree.deleteNode: the parent's pzxid moves even when the child is gone already. */
  private delete(path: string, zxid: bigint): void {
    const { parent: parentKey, name } = split(path);
    const parent = this.nodes.get(parentKey);
    if (!parent) return;
    parent.children.delete(name);
    if (zxid > parent.pzxid) parent.pzxid = zxid;
    const node = this.nodes.get(path);
    if (!node) return;
    this.nodes.delete(path);
    this.ephemerals.get(node.owner)?.delete(path);
  }

  private setData(path: string, data: Buffer | null, version: number, t: LoggedTxn): void {
    const n = this.nodes.get(keyOf(path));
    if (!n) return;
    n.data = data;
    n.mtime = t.time;
    n.mzxid = t.zxid;
    n.version = version;
  }

  private setAcl(path: string, acl: Acl[], version: number): void {
    const n = this.nodes.get(keyOf(path));
    if (!n) return;
    n.acl = acl;
    n.aversion = version;
  }

  /** The session's ephemerals go: those the txn lists and any other the tree has for it. */
  private closeSession(session: bigint, listed: string[] | undefined, zxid: bigint): void {
    const paths = new Set([...(listed ?? []), ...(this.ephemerals.get(session) ?? [])]);
    this.ephemerals.delete(session);
    for (const p of paths) this.delete(p, zxid);
  }
}
