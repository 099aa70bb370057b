/**
 * Which change fires which watch (zk-protocol.md §2.3; ZooKeeper programmer's guide,
 * "Watches"): one-shot standard watches, dedup per connection, a child's data change does not
 * fire the parent's child watch, delete fires child watches with NodeDeleted, persistent
 * watches stay, recursive ones never get NodeChildrenChanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatcherEvent } from '../../../../protocol/jute';
import { WatchKind, WatchManager, WatchTarget } from '../../../../zkproxy/watch/watch-manager';

function target(id: number): WatchTarget & { got: string[] } {
  const got: string[] = [];
  return { watchId: id, got, notify: (e: WatcherEvent) => got.push(`${e.type} ${e.path}`) };
}

test('standard watches are one-shot and deduplicated per connection', () => {
  const m = new WatchManager();
  const t = target(1);
  m.add('data', '/a', t);
  m.add('data', '/a', t);
  m.onChanges([{ type: 'changed', path: '/a' }], 5);
  m.onChanges([{ type: 'changed', path: '/a' }], 6);
  assert.deepEqual(t.got, ['3 /a']);
});

test('create fires NodeCreated and the parent child watch; a child data change fires nothing', () => {
  const m = new WatchManager();
  const t = target(1);
  m.add('data', '/p/c', t);
  m.add('child', '/p', t);
  m.onChanges([{ type: 'created', path: '/p/c' }], 5);
  assert.deepEqual(t.got, ['1 /p/c', '4 /p']);
  m.add('child', '/p', t);
  m.onChanges([{ type: 'changed', path: '/p/c' }], 6);
  assert.deepEqual(t.got, ['1 /p/c', '4 /p']);
});

test('delete: NodeDeleted once for data+child watchers of the node, then the parent', () => {
  const m = new WatchManager();
  const t = target(1);
  const u = target(2);
  m.add('data', '/p/c', t);
  m.add('child', '/p/c', t);
  m.add('child', '/p/c', u);
  m.add('child', '/p', u);
  m.onChanges([{ type: 'deleted', path: '/p/c' }], 5);
  assert.deepEqual(t.got, ['2 /p/c']);
  assert.deepEqual(u.got, ['2 /p/c', '4 /p']);
});

test('persistent watches stay; recursive ones see descendants but never NodeChildrenChanged', () => {
  const m = new WatchManager();
  const p = target(1);
  const r = target(2);
  m.add('persistent', '/p', p);
  m.add('recursive', '/p', r);
  m.onChanges([{ type: 'created', path: '/p' }], 5);
  m.onChanges([{ type: 'created', path: '/p/c' }], 6);
  m.onChanges([{ type: 'changed', path: '/p/c' }], 7);
  m.onChanges([{ type: 'changed', path: '/p' }], 8);
  assert.deepEqual(p.got, ['1 /p', '4 /p', '3 /p']);
  assert.deepEqual(r.got, ['1 /p', '1 /p/c', '3 /p/c', '3 /p']);
  m.removeTarget(p);
  m.onChanges([{ type: 'changed', path: '/p' }], 9);
  assert.equal(p.got.length, 3);
});

test('one mode per table entry: a later standard watch turns a persistent one one-shot (ZooKeeper 3.8)', () => {
  const m = new WatchManager();
  const t = target(1);
  m.add('persistent', '/p', t);
  m.add('data', '/p', t);
  m.onChanges([{ type: 'changed', path: '/p' }], 5);
  m.onChanges([{ type: 'changed', path: '/p' }], 6);
  assert.deepEqual(t.got, ['3 /p'], 'the data-table entry became standard');
  m.onChanges([{ type: 'created', path: '/p/c' }], 7);
  assert.deepEqual(t.got, ['3 /p', '4 /p'], 'the child-table entry is still persistent');
  assert.ok(m.remove('child', '/p', t));
  assert.ok(!m.remove('data', '/p', t), 'the one-shot data entry was used up');
});

test('a recursive watch has an entry in both tables, as ZooKeeper 3.8.0 registers it', () => {
  // 3.8.0: removeWatches(Children) of a recursive watch succeeds and leaves its data entry, so
  // descendants' events still come; with the data entry removed instead, the child entry alone
  // still reports deletions (WatchManager.triggerWatch gives recursive entries every event but
  // NodeChildrenChanged, in either table).
  const m = new WatchManager();
  const a = target(1);
  m.add('recursive', '/p', a);
  assert.equal(m.count(), 2);
  assert.equal(m.remove('child', '/p', a), true);
  assert.equal(m.remove('child', '/p', a), false);
  m.onChanges([{ type: 'created', path: '/p/c' }], 5);
  assert.deepEqual(a.got, ['1 /p/c']);

  const b = target(2);
  m.add('recursive', '/q', b);
  assert.equal(m.remove('data', '/q', b), true);
  m.onChanges([{ type: 'created', path: '/q/c' }], 6);
  m.onChanges([{ type: 'changed', path: '/q/c' }], 7);
  m.onChanges([{ type: 'deleted', path: '/q/c' }], 8);
  assert.deepEqual(b.got, ['2 /q/c']);
});

test('a watcher is told only if it may READ the node (the parent for NodeChildrenChanged), as ZooKeeper 3.8 filters', () => {
  const secret = [{ perms: 31, id: { scheme: 'digest', id: 'bob:x' } }];
  const acls = new Map<string, typeof secret>([['/p', secret]]);
  const m = new WatchManager((path) => acls.get(path) ?? [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]);
  const reader = (id: number, allowed: boolean) => ({ ...target(id), mayRead: (acl: readonly { id: { scheme: string } }[]) => allowed || acl[0]!.id.scheme === 'world' });
  const bob = reader(1, true);
  const eve = reader(2, false);
  for (const t of [bob, eve]) {
    m.add('data', '/p', t);
    m.add('child', '/p', t);
    m.add('data', '/q', t);
  }
  m.onChanges([{ type: 'changed', path: '/p' }, { type: 'created', path: '/p/c' }, { type: 'changed', path: '/q' }], 5);
  assert.deepEqual(bob.got, ['3 /p', '4 /p', '3 /q']);
  assert.deepEqual(eve.got, ['3 /q']);
  // The one-shot watches eve could not be told of are used up all the same.
  acls.delete('/p');
  m.onChanges([{ type: 'changed', path: '/p' }], 6);
  assert.deepEqual(eve.got, ['3 /q']);
  // A deletion is checked against the ACL the node had (carried by the change).
  m.add('data', '/r', eve);
  m.onChanges([{ type: 'deleted', path: '/r', acl: secret }], 7);
  assert.deepEqual(eve.got, ['3 /q']);
});

test('wchs counts the data table as ZooKeeper 3.8 does; mntr counts both; a one-shot that fired and a closed connection leave nothing behind', () => {
  // The same steps against Apache ZooKeeper 3.8 gave, after each: 0/0/0, 1/1/1, 2/2/2, 2/2/3,
  // 2/3/4, 2/4/5 (connections/paths/watches of wchs).
  const m = new WatchManager();
  const a = target(1);
  const b = target(2);
  const summary = (): string => { const s = m.dataSummary(); return `${s.connections}/${s.paths}/${s.watches}`; };
  const steps: Array<[WatchKind, string, WatchTarget]> = [['child', '/a', a], ['data', '/b', a], ['data', '/c', b], ['data', '/b', b], ['persistent', '/d', a], ['recursive', '/e', a]];
  const seen = steps.map(([kind, path, t]) => (m.add(kind, path, t), summary()));
  assert.deepEqual(seen, ['0/0/0', '1/1/1', '2/2/2', '2/2/3', '2/3/4', '2/4/5']);
  assert.equal(m.count(), 8, 'mntr: 5 data entries and 3 child entries (/a, /d, /e)');
  m.onChanges([{ type: 'changed', path: '/b' }], 5);
  assert.equal(summary(), '2/3/3', 'both one-shot watches on /b fired and are gone');
  m.removeTarget(a);
  assert.equal(summary(), '1/1/1', 'only b\'s exists watch on /c is left');
  assert.equal(m.count(), 1);
  m.onChanges([{ type: 'created', path: '/c' }], 6);
  assert.deepEqual(b.got, ['3 /b', '1 /c']);
  assert.equal(summary(), '0/0/0');
  m.removeTarget(b);
  assert.equal(m.count(), 0);
});
