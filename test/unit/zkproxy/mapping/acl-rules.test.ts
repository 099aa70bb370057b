/** ACL check, fix-up and the digest scheme (zk-protocol.md §1.13, §6.16). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ZkErr } from '../../../../protocol/jute';
import { ZkError } from '../../../../zkproxy/errors/zk-error';
import { aclAllows, digestId, fixupAcl, ipMatches, maskDigests } from '../../../../zkproxy/mapping/acl-rules';
import { inZooKeeperOrder, javaStringHash } from '../../../../zkproxy/mapping/auth-order';

const ip = { scheme: 'ip', id: '127.0.0.1' };
const alice = { scheme: 'digest', id: digestId('alice:secret') };

test('digest id is user:base64(sha1("user:password"))', () => {
  const expected = 'alice:' + createHash('sha1').update('alice:secret').digest('base64');
  assert.equal(digestId('alice:secret'), expected);
  assert.equal(digestId('alice:secret'), 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=');
});

test('world:anyone, digest, ip and super', () => {
  const acl = [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }, { perms: 2, id: alice }, { perms: 4, id: { scheme: 'ip', id: '127.0.0.0/8' } }];
  assert.ok(aclAllows(acl, 1, [ip]));
  assert.ok(!aclAllows(acl, 2, [ip]));
  assert.ok(aclAllows(acl, 2, [ip, alice]));
  assert.ok(aclAllows(acl, 4, [ip]));
  assert.ok(!aclAllows(acl, 8, [ip, alice]));
  assert.ok(aclAllows(acl, 8, [{ scheme: 'super', id: '' }]));
  assert.ok(aclAllows([], 31, []), 'an empty ACL allows everything');
});

test('ip CIDR matching', () => {
  assert.ok(ipMatches('10.1.2.3', '10.0.0.0/8'));
  assert.ok(!ipMatches('11.1.2.3', '10.0.0.0/8'));
  assert.ok(ipMatches('10.1.2.3', '10.1.2.3'));
  assert.ok(ipMatches('1.2.3.4', '0.0.0.0/0'));
});

function code(f: () => unknown): number | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof ZkError ? e.code : -999;
  }
}

test('fixupAcl: empty, unknown scheme, bad ids and auth without identities are INVALIDACL', () => {
  assert.equal(code(() => fixupAcl([], [ip])), ZkErr.INVALIDACL);
  assert.equal(code(() => fixupAcl([{ perms: 31, id: { scheme: 'nosuch', id: 'x' } }], [ip])), ZkErr.INVALIDACL);
  assert.equal(code(() => fixupAcl([{ perms: 31, id: { scheme: 'world', id: 'someone' } }], [ip])), ZkErr.INVALIDACL);
  assert.equal(code(() => fixupAcl([{ perms: 31, id: { scheme: 'digest', id: 'nocolon' } }], [ip])), ZkErr.INVALIDACL);
  assert.equal(code(() => fixupAcl([{ perms: 31, id: { scheme: 'ip', id: '300.1.1.1' } }], [ip])), ZkErr.INVALIDACL);
  assert.equal(code(() => fixupAcl([{ perms: 31, id: { scheme: 'auth', id: '' } }], [ip])), ZkErr.INVALIDACL);
});

test('fixupAcl expands auth to the authenticated ids and drops duplicates', () => {
  const out = fixupAcl([{ perms: 31, id: { scheme: 'auth', id: '' } }, { perms: 31, id: { scheme: 'auth', id: '' } }], [ip, alice]);
  assert.deepEqual(out, [{ perms: 31, id: alice }]);
});

test('getACL without ADMIN masks digests', () => {
  assert.deepEqual(maskDigests([{ perms: 1, id: alice }]), [{ perms: 1, id: { scheme: 'digest', id: 'alice:x' } }]);
});

test('sasl scheme: exact user match, and the SASL user "super" matches every sasl id', () => {
  const acl = [{ perms: 31, id: { scheme: 'sasl', id: 'bob' } }];
  assert.ok(aclAllows(acl, 1, [ip, { scheme: 'sasl', id: 'bob' }]));
  assert.ok(!aclAllows(acl, 1, [ip, { scheme: 'sasl', id: 'alice' }]));
  assert.ok(!aclAllows(acl, 1, [ip, { scheme: 'digest', id: 'bob' }]), 'another scheme with the same name');
  assert.ok(aclAllows(acl, 1, [ip, { scheme: 'sasl', id: 'super' }]), 'SASLAuthenticationProvider.matches');
});

test('fixupAcl: sasl ids valid as Kerberos names; auth expands to the sasl identity', () => {
  const ok = (id: string): boolean => code(() => fixupAcl([{ perms: 31, id: { scheme: 'sasl', id } }], [ip])) === undefined;
  for (const id of ['bob', 'bob/host', 'bob@EXAMPLE.COM', 'zookeeper/host@EXAMPLE.COM', '']) assert.ok(ok(id), id);
  for (const id of ['a@b@c', 'a/b/c@R', 'a@R/x']) assert.ok(!ok(id), id);
  const sasl = { scheme: 'sasl', id: 'bob' };
  // In ZooKeeper's hash order of the connection's ids, not the order they were added.
  assert.deepEqual(fixupAcl([{ perms: 31, id: { scheme: 'auth', id: '' } }], [ip, sasl, alice]), [{ perms: 31, id: alice }, { perms: 31, id: sasl }]);
});

test('x509 scheme: the subject DN matches exactly; auth expands to it; malformed DNs are INVALIDACL', () => {
  const dn = 'CN=alice,OU=eng,O=Coracle,C=US';
  const x509 = { scheme: 'x509', id: dn };
  const acl = [{ perms: 31, id: x509 }];
  assert.ok(aclAllows(acl, 1, [ip, x509]));
  assert.ok(!aclAllows(acl, 1, [ip, { scheme: 'x509', id: 'CN=alice,OU=eng,O=Coracle' }]), 'a different DN');
  assert.ok(!aclAllows(acl, 1, [ip, { scheme: 'digest', id: dn }]), 'another scheme with the same id');
  assert.deepEqual(fixupAcl([{ perms: 31, id: { scheme: 'auth', id: '' } }], [ip, x509]), [{ perms: 31, id: x509 }]);
  const ok = (id: string): boolean => code(() => fixupAcl([{ perms: 31, id: { scheme: 'x509', id } }], [ip])) === undefined;
  for (const id of [dn, 'CN=a\\,b', '']) assert.ok(ok(id), id);
  for (const id of ['alice', 'FOO=bar']) assert.ok(!ok(id), id);
});

test('auth expands to authenticated ids in the order ZooKeeper iterates them, never to super', () => {
  // Observed on ZooKeeper 3.8: the x509 id comes at the handshake, the digest id later, yet getACL lists the digest first.
  const digest = { scheme: 'digest', id: 'alice:V55/p2T0OpjQ+low3NVAH4aLvm0=' };
  const x509 = { scheme: 'x509', id: 'CN=\\#hash,O=Coracle' };
  const all = { perms: 31, id: { scheme: 'auth', id: '' } };
  assert.deepEqual(fixupAcl([all], [ip, x509, digest]).map((a) => a.id.scheme), ['digest', 'x509']);
  assert.deepEqual(fixupAcl([all], [ip, { scheme: 'super', id: 'CN=root' }, { scheme: 'x509', id: 'CN=root' }]), [{ perms: 31, id: { scheme: 'x509', id: 'CN=root' } }]);
  assert.equal(code(() => fixupAcl([all], [ip, { scheme: 'super', id: '' }])), ZkErr.INVALIDACL, 'super alone is no authenticated id');
});

test("ZooKeeper's order of a connection's ids: by hash bucket, ties in the order added", () => {
  const ip127 = { scheme: 'ip', id: '127.0.0.1' };
  // As ZooKeeper 3.8 answered whoAmI (test/interop/zk-tls-diff.test.ts).
  assert.deepEqual(inZooKeeperOrder([ip127, { scheme: 'digest', id: digestId('bob:pw') }]).map((a) => a.scheme), ['digest', 'ip']);
  assert.deepEqual(inZooKeeperOrder([ip127, { scheme: 'x509', id: 'CN=alice,OU=eng,O=Coracle,L=San Francisco,ST=California,C=US' }]).map((a) => a.scheme), ['x509', 'ip']);
  assert.equal(javaStringHash('ip'), 3367);
  assert.equal(javaStringHash('digest'), -1331913276);
});
