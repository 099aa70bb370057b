/**
 * The change script a multi leaves in the last-change key: written only when some path changes
 * twice, read back exactly, and anything else (an empty value, a foreign writer's bytes) is
 * "no script", so the feed falls back to the key events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeChangeScript, encodeChangeScript, needsChangeScript } from '../../../../zkproxy/mapping/change-script';
import { NodeChange } from '../../../../zkproxy/mapping/znode-tree';

test('a script is needed only when a path changes more than once', () => {
  assert.equal(needsChangeScript([]), false);
  assert.equal(needsChangeScript([{ type: 'created', path: '/a' }, { type: 'created', path: '/b' }]), false);
  assert.equal(needsChangeScript([{ type: 'created', path: '/a' }, { type: 'changed', path: '/a' }]), true);
  assert.equal(needsChangeScript([{ type: 'changed', path: '/a' }, { type: 'changed', path: '/b' }, { type: 'changed', path: '/a' }]), true);
});

test('scripts round-trip in order, with any path text', () => {
  const script: NodeChange[] = [
    { type: 'deleted', path: '/a' }, { type: 'created', path: '/a' }, { type: 'changed', path: '/é "q"' }, { type: 'changed', path: '/a' },
  ];
  assert.deepEqual(decodeChangeScript(encodeChangeScript(script)), script);
});

test('anything but a script reads as none', () => {
  for (const bad of ['', 'x', '{}', '[["c"]]', '[["z","/a"]]', '[["c","a"]]', '[["c",1]]', '[[1,"/a"]]']) {
    assert.equal(decodeChangeScript(Buffer.from(bad)), undefined, bad);
  }
});

test('a node created and deleted again in the script keeps its ACL; others carry none', () => {
  const acl = [{ perms: 1, id: { scheme: 'digest', id: 'bob:h=' } }, { perms: 30, id: { scheme: 'ip', id: '10.0.0.0/8' } }];
  const other = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
  const decoded = decodeChangeScript(encodeChangeScript([
    { type: 'created', path: '/x', acl }, { type: 'deleted', path: '/x' }, { type: 'created', path: '/x', acl: other }, { type: 'changed', path: '/x' },
  ]));
  assert.deepEqual(decoded, [{ type: 'created', path: '/x', acl }, { type: 'deleted', path: '/x' }, { type: 'created', path: '/x' }, { type: 'changed', path: '/x' }]);
  for (const bad of ['[["c","/a",1]]', '[["d","/a",[]]]', '[["c","/a",[[1,"w"]]]]', '[["c","/a",[["1","w","x"]]]]']) {
    assert.equal(decodeChangeScript(Buffer.from(bad)), undefined, bad);
  }
});
