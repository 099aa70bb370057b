/**
 * The watches a ZooKeeper client believes it holds, kept the way the Java client's
 * ZKWatchManager keeps them, so that a resumed session can re-send them in SetWatches2 as a
 * real client does after a reconnect: a watch is registered when its read succeeds (an
 * `exists` on a missing node registers an exist watch), a one-shot watch is dropped when its
 * event arrives, and removeWatches drops what it names.
 */
import { AddWatchMode, EventType, WatcherEvent, WatcherType, ZkErr, type ZkRequest } from '../../protocol/jute';

/** One session's client-side watch tables. */
export class ClientWatches {
  private readonly data = new Set<string>();
  private readonly exist = new Set<string>();
  private readonly child = new Set<string>();
  private readonly persistent = new Set<string>();
  private readonly recursive = new Set<string>();
  /** The highest zxid a reply carried (the client's lastZxidSeen). */
  lastZxid = 0n;

  /** Records what a request's reply registered or removed. */
  onReply(req: ZkRequest, err: number, zxid: bigint): void {
    if (zxid > this.lastZxid) this.lastZxid = zxid;
    const ok = err === ZkErr.OK;
    switch (req.op) {
      case 'exists':
        if (req.watch && ok) this.data.add(req.path);
        else if (req.watch && err === ZkErr.NONODE) this.exist.add(req.path);
        break;
      case 'getData':
        if (req.watch && ok) this.data.add(req.path);
        break;
      case 'getChildren':
      case 'getChildren2':
        if (req.watch && ok) this.child.add(req.path);
        break;
      case 'addWatch':
        if (ok) (req.mode === AddWatchMode.PERSISTENT_RECURSIVE ? this.recursive : this.persistent).add(req.path);
        break;
      case 'removeWatches':
        if (ok) this.remove(req.path, req.type);
        break;
      default:
        break;
    }
  }

  /** Drops the one-shot watches an event used up. */
  onEvent(e: WatcherEvent): void {
    if (e.type === EventType.NodeCreated || e.type === EventType.NodeDataChanged || e.type === EventType.NodeDeleted) {
      this.data.delete(e.path);
      this.exist.delete(e.path);
    }
    if (e.type === EventType.NodeChildrenChanged || e.type === EventType.NodeDeleted) this.child.delete(e.path);
  }

  /** The SetWatches2 a reconnecting client sends, or undefined when it holds no watch. */
  setWatches(): ZkRequest | undefined {
    const lists = [this.data, this.exist, this.child, this.persistent, this.recursive].map((s) => [...s].sort());
    if (lists.every((l) => l.length === 0)) return undefined;
    const [dataWatches, existWatches, childWatches, persistentWatches, persistentRecursiveWatches] = lists as [string[], string[], string[], string[], string[]];
    return { op: 'setWatches2', relativeZxid: this.lastZxid, dataWatches, existWatches, childWatches, persistentWatches, persistentRecursiveWatches };
  }

  private remove(path: string, type: number): void {
    if (type === WatcherType.Children || type === WatcherType.Any) this.child.delete(path);
    if (type === WatcherType.Data || type === WatcherType.Any) {
      this.data.delete(path);
      this.exist.delete(path);
    }
    if (type === WatcherType.Persistent || type === WatcherType.Any) this.persistent.delete(path);
    if (type === WatcherType.PersistentRecursive || type === WatcherType.Any) this.recursive.delete(path);
  }
}
