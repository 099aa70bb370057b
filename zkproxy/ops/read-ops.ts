/**
 * Reads: exists, getData, getChildren(2), getACL, getAllChildrenNumber, getEphemerals,
 * multiRead and sync. They are answered from the replica at the change feed's revision —
 * ZooKeeper's own read model (reads may lag; `sync` catches up; zk-protocol.md §2.2, §2.7) —
 * synchronously, so a watch is registered at exactly the state the reply shows. Order of
 * checks as FinalRequestProcessor: NONODE, then READ (NOAUTH), then the watch.
 */
import { MultiResult, Perms, ZkErr, ZkRequest } from '../../protocol/jute';
import { ZkError, fail } from '../errors/zk-error';
import { aclAllows, checkAcl, maskDigests } from '../mapping/acl-rules';
import { dataBytes } from '../mapping/node-codec';
import { NodeView, statOf } from '../mapping/znode-view';
import { RequestOf, ZkContext, ZkReply } from '../dispatch/zk-handler';
import { ZkServices } from './services';

/**
 * The node a read names. Reads do not validate paths (a malformed one is just NONODE), and
 * ZooKeeper's DataTree also files the root under "" — so a read of "" sees "/".
 */
function nodePath(path: string): string {
  return path === '' ? '/' : path;
}

function readable(s: ZkServices, ctx: ZkContext, path: string): NodeView {
  const v = s.tree.view(nodePath(path));
  if (!v) fail(ZkErr.NONODE, path);
  checkAcl(v.acl, Perms.READ, ctx.auth);
  return v;
}

function ok(s: ZkServices, body: ZkReply['body']): ZkReply {
  return { err: ZkErr.OK, zxid: s.tree.revision, body };
}

/**
 * exists: arms a data watch even on a missing node (statNode adds it before NONODE). No ACL
 * check, as in ZooKeeper 3.8.0 (its FinalRequestProcessor goes straight to statNode; later
 * releases ask for READ on an existing node): a 3.8 client may test for a node it cannot read.
 */
export function exists(s: ZkServices, ctx: ZkContext, req: RequestOf<'exists'>): ZkReply {
  if (req.path.indexOf('\0') >= 0) fail(ZkErr.BADARGUMENTS, 'null character in path');
  const v = s.tree.view(nodePath(req.path));
  if (req.watch) s.watches.add('data', req.path, ctx.watchTarget);
  if (!v) fail(ZkErr.NONODE, req.path);
  return ok(s, { op: 'stat', stat: statOf(v) });
}

/** getData: data watch only when the node exists. */
export function getData(s: ZkServices, ctx: ZkContext, req: { path: string; watch: boolean }): ZkReply {
  const v = readable(s, ctx, req.path);
  if (req.watch) s.watches.add('data', req.path, ctx.watchTarget);
  return ok(s, { op: 'getData', data: dataBytes(v.data), stat: statOf(v) });
}

/**
 * getChildren / getChildren2: child watch only when the node exists. Names in the replica's
 * order, unsorted, as ZooKeeper (a HashSet's order there): sorting 100k names takes 25–100 ms of
 * the one event loop, on every call of every client watching a large parent.
 */
export function getChildren(s: ZkServices, ctx: ZkContext, req: { path: string; watch: boolean }, withStat: boolean): ZkReply {
  const v = readable(s, ctx, req.path);
  if (req.watch) s.watches.add('child', req.path, ctx.watchTarget);
  const children = [...v.children];
  return ok(s, withStat ? { op: 'getChildren2', children, stat: statOf(v) } : { op: 'getChildren', children });
}

/** getACL: READ or ADMIN; without ADMIN digest ids are masked. */
export function getAcl(s: ZkServices, ctx: ZkContext, req: RequestOf<'getACL'>): ZkReply {
  const v = s.tree.view(nodePath(req.path));
  if (!v) fail(ZkErr.NONODE, req.path);
  checkAcl(v.acl, Perms.READ | Perms.ADMIN, ctx.auth);
  const acl = aclAllows(v.acl, Perms.ADMIN, ctx.auth) ? v.acl : maskDigests(v.acl);
  return ok(s, { op: 'getACL', acl, stat: statOf(v) });
}

/** getAllChildrenNumber: every descendant (for "/", every node but the root). */
export function getAllChildrenNumber(s: ZkServices, ctx: ZkContext, req: RequestOf<'getAllChildrenNumber'>): ZkReply {
  readable(s, ctx, req.path);
  let n = 0;
  if (req.path === '/') n = s.tree.size() - 1;
  else {
    const prefix = req.path + '/';
    for (const p of s.tree.paths()) if (p.startsWith(prefix)) n++;
  }
  return ok(s, { op: 'getAllChildrenNumber', totalNumber: n });
}

/** getEphemerals: the caller's ephemerals whose path starts with the prefix (plain string prefix, as ZK). */
export function getEphemerals(s: ZkServices, ctx: ZkContext, req: RequestOf<'getEphemerals'>): ZkReply {
  const all = s.tree.ephemeralsOf(ctx.session.id);
  const prefix = req.prefixPath.trim();
  const ephemerals = prefix === '' || prefix === '/' ? all : all.filter((p) => p.startsWith(req.prefixPath));
  return ok(s, { op: 'getEphemerals', ephemerals: ephemerals.sort() });
}

/** multiRead: each getData/getChildren answered on its own; a failure is that op's error result. */
export function multiRead(s: ZkServices, ctx: ZkContext, ops: readonly ZkRequest[]): ZkReply {
  const results: MultiResult[] = ops.map((op) => {
    try {
      if (op.op === 'getData') {
        const r = getData(s, ctx, op).body as { data: Buffer | null; stat: ReturnType<typeof statOf> };
        return { type: 'getData', data: r.data, stat: r.stat };
      }
      if (op.op === 'getChildren') {
        const r = getChildren(s, ctx, op, false).body as { children: string[] };
        return { type: 'getChildren', children: r.children };
      }
      return { type: 'error', err: ZkErr.BADARGUMENTS };
    } catch (e) {
      if (e instanceof ZkError) return { type: 'error', err: e.code };
      throw e;
    }
  });
  return ok(s, { op: 'multi', results });
}

/**
 * sync: the replica catches up with everything committed before now (ChangeFeed.catchUp), so
 * later reads on this connection see it. The path is echoed and never checked (ZK returns OK
 * for a missing node).
 */
export async function sync(s: ZkServices, req: RequestOf<'sync'>): Promise<ZkReply> {
  await s.feed.catchUp();
  return { err: ZkErr.OK, zxid: s.tree.revision, body: { op: 'sync', path: req.path } };
}
