/**
 * Watch requests: setWatches/setWatches2 on reconnect, addWatch (persistent and
 * persistent-recursive), checkWatches and removeWatches (zk-protocol.md §1.9, §2.3).
 * SetWatches is computed from current state only (DataTree.setWatches): no history is needed,
 * so compaction cannot break it. Its catch-up events are written before its reply.
 */
import { AddWatchMode, EventType, KeeperState, WatcherType, ZkErr } from '../../protocol/jute';
import { fail } from '../errors/zk-error';
import { RequestOf, ZkContext, ZkReply } from '../dispatch/zk-handler';
import { WatchManager } from '../watch/watch-manager';
import { ZkServices } from './services';

/** The zxid ZooKeeper 3.8 puts on notifications (release-3.8.x sends -1; §1.5). */
export const NOTIFICATION_ZXID = -1;

/** setWatches (101) / setWatches2 (105). */
export function setWatches(s: ZkServices, ctx: ZkContext, req: RequestOf<'setWatches' | 'setWatches2'>): ZkReply {
  const rel = req.relativeZxid;
  const t = ctx.watchTarget;
  const send = (type: number, path: string): void => t.notify({ type, state: KeeperState.SyncConnected, path }, NOTIFICATION_ZXID);
  for (const path of req.dataWatches) {
    const v = s.tree.view(path);
    if (!v) send(EventType.NodeDeleted, path);
    else if (BigInt(v.mzxid) > rel) send(EventType.NodeDataChanged, path);
    else s.watches.add('data', path, t);
  }
  for (const path of req.existWatches) {
    if (s.tree.has(path)) send(EventType.NodeCreated, path);
    else s.watches.add('data', path, t);
  }
  for (const path of req.childWatches) {
    const v = s.tree.view(path);
    if (!v) send(EventType.NodeDeleted, path);
    else if (BigInt(v.pzxid) > rel) send(EventType.NodeChildrenChanged, path);
    else s.watches.add('child', path, t);
  }
  for (const path of req.persistentWatches) s.watches.add('persistent', path, t);
  for (const path of req.persistentRecursiveWatches) s.watches.add('recursive', path, t);
  return { err: ZkErr.OK, zxid: s.tree.revision };
}

/** addWatch (106): the reply body is ErrorResponse{0} — the Java client reads that int. */
export function addWatch(s: ZkServices, ctx: ZkContext, req: RequestOf<'addWatch'>): ZkReply {
  if (req.mode === AddWatchMode.PERSISTENT) s.watches.add('persistent', req.path, ctx.watchTarget);
  else if (req.mode === AddWatchMode.PERSISTENT_RECURSIVE) s.watches.add('recursive', req.path, ctx.watchTarget);
  else fail(ZkErr.BADARGUMENTS, `bad addWatch mode ${req.mode}`);
  return { err: ZkErr.OK, zxid: s.tree.revision, body: { op: 'errorResponse', err: 0 } };
}

/**
 * checkWatches (17) / removeWatches (18): NOWATCHER when there is no such watch. removeWatches
 * looks for the connection's own; checkWatches, as in ZooKeeper 3.8.0, for anyone's on the path.
 */
export function checkOrRemoveWatches(s: ZkServices, ctx: ZkContext, req: RequestOf<'checkWatches' | 'removeWatches'>): ZkReply {
  // ZooKeeper 3.8's WatcherType.fromInt knows only Children, Data and Any here; other values
  // fail its request processing with MARSHALLINGERROR. Persistent watches are removed with Any.
  if (req.type < WatcherType.Children || req.type > WatcherType.Any) fail(ZkErr.MARSHALLINGERROR, `bad watcher type ${req.type}`);
  let found = false;
  for (const table of WatchManager.tablesOf(req.type)) {
    if (req.op === 'removeWatches') found = s.watches.remove(table, req.path, ctx.watchTarget) || found;
    else found = s.watches.watched(table, req.path) || found;
  }
  if (!found) fail(ZkErr.NOWATCHER, `${req.path} (type: ${req.type})`);
  return { err: ZkErr.OK, zxid: s.tree.revision };
}
