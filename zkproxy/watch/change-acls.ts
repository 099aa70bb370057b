/**
 * Which ACLs a revision's notifications are checked against. ZooKeeper 3.8 checks each event
 * against the ACL its DataTree held when the op ran (ServerCnxn.process): the node's for
 * NodeCreated, NodeDataChanged and NodeDeleted, the parent's for NodeChildrenChanged. The feed
 * sees a revision after the fact, so it must say which ACL that was wherever the current one
 * (looked up lazily by the watch manager, only when someone is to be told) is not it.
 *
 * A multi cannot change an ACL (setACL is not a multi op), so within one revision an ACL changes
 * only with its node's incarnation. Hence:
 * - without a change script every path appears once, in key order rather than op order: a
 *   deleted node was as `before` had it, and so was a parent deleted in the same revision (its
 *   children went first); every other node and parent is as it is now;
 * - a change script (change-script.ts) is in op order, so the incarnations are replayed: each
 *   path starts as `before` had it if the revision deletes that incarnation, else as it is now;
 *   a `created` entry brings the ACL it carries (an incarnation deleted again in the same multi)
 *   or the current one; a `deleted` entry ends it.
 */
import { Acl } from '../../protocol/jute';
import { parentOf } from '../mapping/path-rules';
import { NodeChange } from '../mapping/znode-tree';

/** The ACL a path had: explicit, `now` (the current one, looked up lazily), or `absent`. */
type Incarnation = readonly Acl[] | 'now' | 'absent';

/**
 * Fills in `acl` and `parentAcl` of `changes` where the current ACL would be the wrong one.
 *
 * @param before the ACLs, as they were before the revision, of the nodes it deletes that existed
 *   before it (the feed snapshots them before applying); undefined when there are none
 * @param exists whether a path exists after the revision
 */
export function attachChangeAcls(changes: NodeChange[], scripted: boolean, before: ReadonlyMap<string, readonly Acl[]> | undefined, exists: (path: string) => boolean): void {
  if (scripted) replayIncarnations(changes, before);
  else if (before) fromBefore(changes, before, exists);
}

function fromBefore(changes: NodeChange[], before: ReadonlyMap<string, readonly Acl[]>, exists: (path: string) => boolean): void {
  for (const c of changes) {
    if (c.type === 'deleted') c.acl ??= before.get(c.path);
    if (c.type === 'changed' || c.path === '/') continue;
    const parent = parentOf(c.path);
    const was = before.get(parent);
    if (was && !exists(parent)) c.parentAcl = was;
  }
}

function replayIncarnations(changes: NodeChange[], before: ReadonlyMap<string, readonly Acl[]> | undefined): void {
  const cur = new Map<string, Incarnation>();
  const at = (path: string): Incarnation => cur.get(path) ?? before?.get(path) ?? 'now';
  const explicit = (i: Incarnation): readonly Acl[] | undefined => (typeof i === 'string' ? undefined : i);
  for (const c of changes) {
    if (c.type === 'created') cur.set(c.path, c.acl ?? 'now');
    else c.acl = explicit(at(c.path)) ?? c.acl;
    if (c.type === 'deleted') cur.set(c.path, 'absent');
    if (c.type !== 'changed' && c.path !== '/') c.parentAcl = explicit(at(parentOf(c.path))) ?? c.parentAcl;
  }
}
