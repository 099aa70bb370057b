/**
 * The ACLs a revision's notifications are checked against (change-acls.ts): the ones each node
 * and parent had when its op ran, filled in only where the current ACL would be wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Acl } from '../../../../protocol/jute';
import { NodeChange } from '../../../../zkproxy/mapping/znode-tree';
import { attachChangeAcls } from '../../../../zkproxy/watch/change-acls';

const R: Acl[] = [{ perms: 1, id: { scheme: 'digest', id: 'r:x' } }];
const S: Acl[] = [{ perms: 31, id: { scheme: 'digest', id: 's:y' } }];

test('without a script, a deleted node and a deleted parent are as they were; the rest as now', () => {
  const changes: NodeChange[] = [
    { type: 'deleted', path: '/p' },
    { type: 'deleted', path: '/p/c' },
    { type: 'deleted', path: '/q/d' },
    { type: 'created', path: '/q/e' },
    { type: 'changed', path: '/q' },
  ];
  const before = new Map<string, readonly Acl[]>([['/p', R], ['/p/c', S], ['/q/d', S]]);
  attachChangeAcls(changes, false, before, (path) => path === '/' || path === '/q' || path === '/q/e');
  assert.deepEqual(changes, [
    { type: 'deleted', path: '/p', acl: R },
    { type: 'deleted', path: '/p/c', acl: S, parentAcl: R },
    { type: 'deleted', path: '/q/d', acl: S },
    { type: 'created', path: '/q/e' },
    { type: 'changed', path: '/q' },
  ]);
});

test('without deletions nothing is filled in (the watch manager looks up current ACLs lazily)', () => {
  const changes: NodeChange[] = [{ type: 'created', path: '/a' }, { type: 'changed', path: '/b' }];
  attachChangeAcls(changes, false, undefined, () => true);
  assert.deepEqual(changes, [{ type: 'created', path: '/a' }, { type: 'changed', path: '/b' }]);
});

test('a script replays incarnations: a node created and deleted again carries its own ACL', () => {
  const changes: NodeChange[] = [
    { type: 'created', path: '/x', acl: S },
    { type: 'created', path: '/x/k' },
    { type: 'deleted', path: '/x/k' },
    { type: 'deleted', path: '/x' },
  ];
  attachChangeAcls(changes, true, undefined, () => false);
  assert.deepEqual(changes.map((c) => [c.acl, c.parentAcl]), [[S, undefined], [undefined, S], [undefined, S], [S, undefined]]);
});

test('a script replays incarnations: deleted then re-created with another ACL, then changed', () => {
  const changes: NodeChange[] = [
    { type: 'deleted', path: '/r' },
    { type: 'created', path: '/r', acl: S },
    { type: 'changed', path: '/r' },
    { type: 'deleted', path: '/r' },
    { type: 'created', path: '/r' },
    { type: 'changed', path: '/r' },
  ];
  attachChangeAcls(changes, true, new Map([['/r', R]]), () => true);
  // The last incarnation survives: its events are checked against the current ACL (undefined).
  assert.deepEqual(changes.map((c) => c.acl), [R, S, S, S, undefined, undefined]);
});

test('a script: a parent deleted after its child is as it was for the child', () => {
  const changes: NodeChange[] = [
    { type: 'created', path: '/p/n' },
    { type: 'deleted', path: '/p/n' },
    { type: 'deleted', path: '/p' },
  ];
  attachChangeAcls(changes, true, new Map([['/p', R]]), () => false);
  assert.deepEqual(changes.map((c) => c.parentAcl), [R, R, undefined]);
  assert.equal(changes[2]!.acl, R);
});
