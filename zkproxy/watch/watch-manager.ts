/**
 * `WatchManager`: the local index of ZooKeeper watches, fed by the change feed (zk-protocol.md
 * §2.3, ZooKeeper programmer's guide "Watches"). Two standard tables as in ZooKeeper's
 * DataTree — data (getData/exists) and child (getChildren) — plus persistent and
 * persistent-recursive ones (addWatch, 3.6+). Standard watches are one-shot; one change gives a
 * watcher at most one event (watchers are sets); a child watch is NOT fired by a child's data
 * change; recursive watches never get NodeChildrenChanged.
 */
import { EventType, KeeperState, WatcherEvent, WatcherType } from '../../protocol/jute';
import { NodeChange } from '../mapping/znode-tree';
import { isUnder, parentOf } from '../mapping/path-rules';
import { ChangeSink } from './change-feed';

/** Something that receives notifications: one client connection. */
export interface WatchTarget {
  /** A process-unique id (for logs). */
  readonly watchId: number;
  /** Writes the notification to the client now. `zxid` is the revision of the change. */
  notify(event: WatcherEvent, zxid: number): void;
}

type Table = Map<string, Set<WatchTarget>>;

/** The kinds of watch a target can hold on a path. */
export type WatchKind = 'data' | 'child' | 'persistent' | 'recursive';

/** All ZooKeeper watches of this proxy. */
export class WatchManager implements ChangeSink {
  private readonly tables: Record<WatchKind, Table> = {
    data: new Map(), child: new Map(), persistent: new Map(), recursive: new Map(),
  };

  /** Adds a watch of `kind` on `path` for `t` (idempotent). */
  add(kind: WatchKind, path: string, t: WatchTarget): void {
    const table = this.tables[kind];
    let s = table.get(path);
    if (!s) {
      s = new Set();
      table.set(path, s);
    }
    s.add(t);
  }

  /** True when `t` holds a watch of `kind` on `path`. */
  has(kind: WatchKind, path: string, t: WatchTarget): boolean {
    return this.tables[kind].get(path)?.has(t) ?? false;
  }

  /** Removes one watch; true when it existed. */
  remove(kind: WatchKind, path: string, t: WatchTarget): boolean {
    const table = this.tables[kind];
    const s = table.get(path);
    if (!s || !s.delete(t)) return false;
    if (s.size === 0) table.delete(path);
    return true;
  }

  /** The watch kinds a WatcherType of check/removeWatches covers (DataTree.removeWatch). */
  static kindsOf(type: number): WatchKind[] {
    switch (type) {
      case WatcherType.Children: return ['child'];
      case WatcherType.Data: return ['data'];
      case WatcherType.Any: return ['data', 'child', 'persistent', 'recursive'];
      case WatcherType.Persistent: return ['persistent'];
      case WatcherType.PersistentRecursive: return ['recursive'];
      default: return [];
    }
  }

  /** Drops every watch of `t` (its connection closed). */
  removeTarget(t: WatchTarget): void {
    for (const table of Object.values(this.tables)) {
      for (const [path, s] of table) {
        if (s.delete(t) && s.size === 0) table.delete(path);
      }
    }
  }

  /** Number of watches (path × target pairs), for mntr/wchs. */
  count(): { watches: number; paths: number } {
    let watches = 0;
    const paths = new Set<string>();
    for (const table of Object.values(this.tables)) {
      for (const [p, s] of table) {
        watches += s.size;
        paths.add(p);
      }
    }
    return { watches, paths: paths.size };
  }

  /** The paths watched by `t` per kind (for cons/wchc-like output and tests). */
  pathsOf(t: WatchTarget): Record<WatchKind, string[]> {
    const out = { data: [], child: [], persistent: [], recursive: [] } as Record<WatchKind, string[]>;
    for (const kind of Object.keys(this.tables) as WatchKind[]) {
      for (const [p, s] of this.tables[kind]) if (s.has(t)) out[kind].push(p);
    }
    return out;
  }

  /** ChangeSink: fire the watches of each znode change of one revision, in order. */
  onChanges(changes: NodeChange[], revision: number): void {
    for (const c of changes) {
      switch (c.type) {
        case 'created':
          this.trigger(c.path, EventType.NodeCreated, 'data', revision);
          if (c.path !== '/') this.trigger(parentOf(c.path), EventType.NodeChildrenChanged, 'child', revision);
          break;
        case 'changed':
          this.trigger(c.path, EventType.NodeDataChanged, 'data', revision);
          break;
        case 'deleted': {
          const told = this.trigger(c.path, EventType.NodeDeleted, 'data', revision);
          this.trigger(c.path, EventType.NodeDeleted, 'child', revision, told);
          if (c.path !== '/') this.trigger(parentOf(c.path), EventType.NodeChildrenChanged, 'child', revision);
          break;
        }
      }
    }
  }

  /**
   * Fires one event on one of ZooKeeper's two tables (WatchManager.triggerWatch): the standard
   * watches on `path` (removed), the persistent ones on `path`, and — for the data table — the
   * recursive ones on `path` and its ancestors, except for NodeChildrenChanged. Targets in
   * `suppress` were already told. Returns the targets told.
   */
  private trigger(path: string, type: number, table: 'data' | 'child', zxid: number, suppress?: Set<WatchTarget>): Set<WatchTarget> {
    const told = new Set<WatchTarget>();
    const std = this.tables[table].get(path);
    if (std) {
      for (const t of std) told.add(t);
      this.tables[table].delete(path);
    }
    const pers = this.tables.persistent.get(path);
    if (pers) for (const t of pers) told.add(t);
    if (table === 'data' && type !== EventType.NodeChildrenChanged && this.tables.recursive.size > 0) {
      for (const [p, s] of this.tables.recursive) {
        if (isUnder(path, p)) for (const t of s) told.add(t);
      }
    }
    const event: WatcherEvent = { type, state: KeeperState.SyncConnected, path };
    for (const t of told) if (!suppress?.has(t)) t.notify(event, zxid);
    return told;
  }
}
