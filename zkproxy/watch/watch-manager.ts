/**
 * `WatchManager`: the local index of ZooKeeper watches, fed by the change feed (zk-protocol.md
 * §2.3; ZooKeeper programmer's guide, "Watches"). It mirrors ZooKeeper 3.8's two tables —
 * data (getData/exists) and child (getChildren) — where each (path, connection) entry has ONE
 * mode, the latest one set: standard (one-shot), persistent, or persistent-recursive
 * (WatchManager + WatcherModeManager). addWatch registers in both tables, whatever its mode
 * (3.8.0's DataTree.addWatch; later releases leave recursive ones out of the child table): a
 * recursive entry in the child table never fires NodeChildrenChanged, but removeWatches and
 * checkWatches of type Children find it, and it reports NodeDeleted once its data entry is
 * removed. A later getData/getChildren watch on the same path turns that table's entry back
 * into a standard one, exactly as ZooKeeper does.
 *
 * Triggering (WatchManager.triggerWatch): entries on the changed path fire (standard ones are
 * removed); recursive entries on the path or any ancestor fire too, except for
 * NodeChildrenChanged. One change gives a connection at most one event (a set per trigger),
 * and only if it may READ the node (the parent, for NodeChildrenChanged) as it was then.
 */
import { Acl, EventType, KeeperState, WatcherEvent, WatcherType } from '../../protocol/jute';
import { OPEN_ACL_UNSAFE } from '../mapping/acl-rules';
import { NodeChange } from '../mapping/znode-tree';
import { parentOf } from '../mapping/path-rules';
import { ChangeSink } from './change-feed';

/** The targets told of a change nobody watches. */
const NOBODY: ReadonlySet<WatchTarget> = new Set();

/** Something that receives notifications: one client connection. */
export interface WatchTarget {
  /** A process-unique id (for logs). */
  readonly watchId: number;
  /** Writes the notification to the client now. `zxid` is the revision of the change. */
  notify(event: WatcherEvent, zxid: number): void;
  /** Whether this connection may READ through `acl`; absent: always. */
  mayRead?(acl: readonly Acl[]): boolean;
}

/** One of ZooKeeper's two watch tables. */
export type WatchTable = 'data' | 'child';

/** What a watch request asks for. */
export type WatchKind = 'data' | 'child' | 'persistent' | 'recursive';

type Mode = 'standard' | 'persistent' | 'recursive';
type Table = Map<string, Map<WatchTarget, Mode>>;

/** All ZooKeeper watches of this proxy. */
export class WatchManager implements ChangeSink {
  /** @param aclOf the current ACL of a path (the replica's), for delivery checks */
  constructor(private readonly aclOf: (path: string) => readonly Acl[] = () => OPEN_ACL_UNSAFE) {}

  private readonly tables: Record<WatchTable, Table> = { data: new Map(), child: new Map() };
  /**
   * Per table, each connection's watched paths (ZooKeeper's watch2Paths): a closing connection
   * drops its own entries without a walk over every watched path, and wchs counts connections.
   */
  private readonly pathsOf: Record<WatchTable, Map<WatchTarget, Set<string>>> = { data: new Map(), child: new Map() };
  /** Recursive entries per table: while 0, triggering never walks ancestors. */
  private recursiveCount = 0;

  private set(table: WatchTable, path: string, t: WatchTarget, mode: Mode): void {
    let m = this.tables[table].get(path);
    if (!m) {
      m = new Map();
      this.tables[table].set(path, m);
    }
    const prev = m.get(t);
    if (prev === 'recursive') this.recursiveCount--;
    if (mode === 'recursive') this.recursiveCount++;
    m.set(t, mode);
    let paths = this.pathsOf[table].get(t);
    if (!paths) this.pathsOf[table].set(t, (paths = new Set()));
    paths.add(path);
  }

  /** Forgets `path` among `t`'s watched paths in `table` (its entry there is gone). */
  private unindex(table: WatchTable, path: string, t: WatchTarget): void {
    const paths = this.pathsOf[table].get(t);
    if (!paths) return;
    paths.delete(path);
    if (paths.size === 0) this.pathsOf[table].delete(t);
  }

  /** Adds a watch of `kind` on `path` for `t`; the latest mode per table wins. */
  add(kind: WatchKind, path: string, t: WatchTarget): void {
    switch (kind) {
      case 'data': this.set('data', path, t, 'standard'); break;
      case 'child': this.set('child', path, t, 'standard'); break;
      case 'persistent':
      case 'recursive':
        this.set('data', path, t, kind);
        this.set('child', path, t, kind);
        break;
    }
  }

  /**
   * True when any connection has an entry on `path` in `table`: what ZooKeeper 3.8.0's
   * checkWatches answers (its WatchManager.containsWatcher looks up the path's watcher set and
   * never the asking connection in it).
   */
  watched(table: WatchTable, path: string): boolean {
    return this.tables[table].has(path);
  }

  /** Removes `t`'s entry on `path` in `table`; true when it existed. */
  remove(table: WatchTable, path: string, t: WatchTarget): boolean {
    const m = this.tables[table].get(path);
    const mode = m?.get(t);
    if (!m || mode === undefined) return false;
    if (mode === 'recursive') this.recursiveCount--;
    m.delete(t);
    if (m.size === 0) this.tables[table].delete(path);
    this.unindex(table, path, t);
    return true;
  }

  /** The tables a WatcherType of check/removeWatches covers (DataTree.removeWatch, 3.8). */
  static tablesOf(type: number): WatchTable[] {
    switch (type) {
      case WatcherType.Children: return ['child'];
      case WatcherType.Data: return ['data'];
      case WatcherType.Any: return ['child', 'data'];
      default: return [];
    }
  }

  /** Drops every watch of `t` (its connection closed): as many steps as it has watches. */
  removeTarget(t: WatchTarget): void {
    for (const table of ['data', 'child'] as const) {
      for (const path of [...(this.pathsOf[table].get(t) ?? [])]) this.remove(table, path, t);
    }
  }

  /** Entries (path × connection) of both tables: mntr's zk_watch_count (ZooKeeper's DataTree.getWatchCount). */
  count(): number {
    let n = 0;
    for (const table of ['data', 'child'] as const) for (const paths of this.pathsOf[table].values()) n += paths.size;
    return n;
  }

  /**
   * What wchs reports: ZooKeeper 3.8 summarises its data table only (DataTree.getWatchesSummary):
   * the connections with a data, exists or persistent watch, the paths they watch, the entries.
   */
  dataSummary(): { connections: number; paths: number; watches: number } {
    let watches = 0;
    for (const paths of this.pathsOf.data.values()) watches += paths.size;
    return { connections: this.pathsOf.data.size, paths: this.tables.data.size, watches };
  }

  /** The paths `t` watches in the data table (ZooKeeper's wchc and wchp list that table only). */
  dataPathsOf(t: WatchTarget): string[] {
    return [...(this.pathsOf.data.get(t) ?? [])];
  }

  /** ChangeSink: fire the watches of each znode change of one revision, in order. */
  onChanges(changes: NodeChange[], revision: number): void {
    for (const c of changes) {
      switch (c.type) {
        case 'created':
          this.trigger(c.path, EventType.NodeCreated, 'data', revision, c.acl);
          if (c.path !== '/') this.trigger(parentOf(c.path), EventType.NodeChildrenChanged, 'child', revision, c.parentAcl);
          break;
        case 'changed':
          this.trigger(c.path, EventType.NodeDataChanged, 'data', revision, c.acl);
          break;
        case 'deleted': {
          const told = this.trigger(c.path, EventType.NodeDeleted, 'data', revision, c.acl);
          this.trigger(c.path, EventType.NodeDeleted, 'child', revision, c.acl, told);
          if (c.path !== '/') this.trigger(parentOf(c.path), EventType.NodeChildrenChanged, 'child', revision, c.parentAcl);
          break;
        }
      }
    }
  }

  /**
   * One event on one table (WatchManager.triggerWatch). Returns the targets whose watches it
   * fired, including those not told because they may not READ through `acl`: ZooKeeper 3.8
   * consumes a one-shot watch and then filters the delivery (ServerCnxn.process). `acl`
   * defaults to the node's current one, looked up only if someone is to be told.
   */
  private trigger(path: string, type: number, table: WatchTable, zxid: number, acl?: readonly Acl[], suppress?: ReadonlySet<WatchTarget>): ReadonlySet<WatchTarget> {
    const entries = this.tables[table];
    const own = entries.get(path);
    // Most changes are watched by nobody: no set to allocate, once or twice per write.
    const ancestorsMayWatch = this.recursiveCount > 0 && type !== EventType.NodeChildrenChanged && path !== '/';
    if (!own && !ancestorsMayWatch) return NOBODY;
    const told = new Set<WatchTarget>();
    if (own) {
      for (const [t, mode] of own) {
        if (mode === 'recursive') {
          if (type !== EventType.NodeChildrenChanged) told.add(t);
          continue;
        }
        told.add(t);
        // A one-shot is used up (deleting from a Map while iterating it is safe).
        if (mode === 'standard') this.remove(table, path, t);
      }
    }
    if (ancestorsMayWatch) {
      for (let p = parentOf(path); ; p = parentOf(p)) {
        for (const [t, mode] of entries.get(p) ?? []) if (mode === 'recursive') told.add(t);
        if (p === '/') break;
      }
    }
    const event: WatcherEvent = { type, state: KeeperState.SyncConnected, path };
    let nodeAcl = acl;
    for (const t of told) {
      if (suppress?.has(t)) continue;
      if (t.mayRead) {
        nodeAcl ??= this.aclOf(path);
        if (!t.mayRead(nodeAcl)) continue;
      }
      t.notify(event, zxid);
    }
    return told;
  }
}
