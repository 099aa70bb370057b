/**
 * The x509 scheme's names: RFC 2253 escaping of values (session/x509-identity.ts). Whole subjects
 * read from real certificates are checked against ZooKeeper 3.8 in test/interop/zk-tls-diff.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509ParseError, escapeRfc2253, isValidX500Name, x509SubjectName } from '../../../../zkproxy/session/x509-identity';

test("value escaping as Java's AVA.toRFC2253String: specials anywhere, leading and trailing spaces, NUL", () => {
  assert.equal(escapeRfc2253('Acme, Inc.'), 'Acme\\, Inc.');
  assert.equal(escapeRfc2253('p+q;r"s<t>u\\v=w'), 'p\\+q\\;r\\"s\\<t\\>u\\\\v\\=w', 'as ZooKeeper 3.8 printed it');
  assert.equal(escapeRfc2253('#1#2'), '\\#1\\#2');
  assert.equal(escapeRfc2253('  x y '), '\\ \\ x y\\ ');
  assert.equal(escapeRfc2253('   '), '\\ \\ \\ ');
  assert.equal(escapeRfc2253('a\0b'), 'a\\00b');
  assert.equal(escapeRfc2253('plain name'), 'plain name');
});

test('x509 ACL ids: what new X500Principal(String) accepts (as ZooKeeper 3.8 answered setACL)', () => {
  for (const id of ['', 'CN=alice,OU=eng,O=Coracle,C=US', 'CN=a\\,b', '2.5.4.3=bob', 'OID.2.5.4.3=a', 'cn=lower', 'CN=a+UID=7;O=x',
    'CN="quoted, value"', 'CN=#0c0161', 'CN=x\\41', 'CN = spaced , O = x', 'EMAILADDRESS=a@b.c']) assert.ok(isValidX500Name(id), id);
  for (const id of ['alice', 'CN=a\\', 'CN=#zz', 'FOO=bar', 'CN=x\\zz', '=x', 'CN=a,,O=b', 'CN="open', 'CN=a,bob']) assert.ok(!isValidX500Name(id), id);
});

test('bytes that are not a certificate are a parse error, not a crash', () => {
  for (const bad of [Buffer.alloc(0), Buffer.from([0x30]), Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), Buffer.from([0x30, 0x03, 0x30, 0x01, 0x02])]) {
    assert.throws(() => x509SubjectName(bad), X509ParseError);
  }
});
