/**
 * The key schema: node keys are depth-prefixed so that the children of P are one contiguous
 * range (DESIGN §5), keys classify back to their path, and (property) the children range of P
 * holds exactly P's children.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeySchema, prefixEnd } from '../../../../zkproxy/mapping/key-schema';
import { depth } from '../../../../zkproxy/mapping/path-rules';

const keys = new KeySchema('/zk/');

test('node, acl, counter, session, error and zxid-base keys round-trip through classify', () => {
  assert.deepEqual(keys.classify(keys.nodeKey('/a/b')), { kind: 'node', path: '/a/b' });
  assert.deepEqual(keys.classify(keys.nodeKey('/')), { kind: 'node', path: '/' });
  assert.deepEqual(keys.classify(keys.aclKey('/a')), { kind: 'acl', path: '/a' });
  assert.deepEqual(keys.classify(keys.counterKey('/')), { kind: 'counter', path: '/' });
  assert.deepEqual(keys.classify(keys.sessionKey(-5n)), { kind: 'session', id: -5n });
  assert.deepEqual(keys.classify(keys.errorKey()), { kind: 'error' });
  assert.deepEqual(keys.classify(keys.zxidBaseKey()), { kind: 'zxidBase' });
  assert.equal(keys.nodeKey('/a/b').toString(), '/zk/n/0002/a/b');
});

test('classify decodes paths by byte offset: multi-byte prefixes and paths come back whole', () => {
  const wide = new KeySchema('/zk-é€/');
  for (const path of ['/a/b', '/ünïcödé/日本', '/']) {
    assert.deepEqual(wide.classify(wide.nodeKey(path)), { kind: 'node', path });
    assert.deepEqual(wide.classify(wide.aclKey(path)), { kind: 'acl', path });
    assert.deepEqual(wide.classify(wide.counterKey(path)), { kind: 'counter', path });
  }
  assert.deepEqual(wide.classify(wide.sessionKey(0x1234n)), { kind: 'session', id: 0x1234n });
  assert.deepEqual(wide.classify(wide.errorKey()), { kind: 'error' });
  assert.deepEqual(wide.classify(wide.secretKey()), { kind: 'secret' });
});

test('foreign keys under the prefix classify as other, never throw', () => {
  for (const k of ['/zk/s/not-hex', '/zk/s/', '/zk/s/12345678901234567', '/zk/n/', '/zk/x', '/zk/', '/z', '/zj/n/0001/a', '/zk/ee']) {
    assert.deepEqual(keys.classify(Buffer.from(k)), { kind: 'other' }, k);
  }
});

test('prefixEnd', () => {
  assert.deepEqual(prefixEnd(Buffer.from('ab')), Buffer.from('ac'));
  assert.deepEqual(prefixEnd(Buffer.from([0x61, 0xff])), Buffer.from('b'));
  assert.deepEqual(prefixEnd(Buffer.from([0xff])), Buffer.from([0]));
});

const segment = fc.stringMatching(/^[a-z0-9.-]{1,4}$/).filter((s) => s !== '.' && s !== '..');
const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((a) => '/' + a.join('/'));

test('property: the children range of P contains exactly the children of P', () => {
  fc.assert(fc.property(fc.uniqueArray(path, { maxLength: 30 }), path, (paths, p) => {
    const start = Buffer.from(`/zk/n/${String(depth(p) + 1).padStart(4, '0')}${p}/`);
    const end = prefixEnd(start);
    const inRange = paths.filter((x) => {
      const k = keys.nodeKey(x);
      return Buffer.compare(k, start) >= 0 && Buffer.compare(k, end) < 0;
    });
    const children = paths.filter((x) => x.startsWith(p + '/') && depth(x) === depth(p) + 1);
    assert.deepEqual(inRange.sort(), children.sort());
  }));
});
