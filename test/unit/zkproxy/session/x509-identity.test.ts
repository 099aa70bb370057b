/**
 * The x509 scheme's names: RFC 2253 escaping of values (session/x509-identity.ts). Whole subjects
 * read from real certificates are checked against ZooKeeper 3.8 in test/interop/zk-tls-diff.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509ParseError, escapeRfc2253, x509SubjectName } from '../../../../zkproxy/session/x509-identity';

test('RFC 2253 escaping: the special characters, a leading # or space, a trailing space', () => {
  assert.equal(escapeRfc2253('Acme, Inc.'), 'Acme\\, Inc.');
  assert.equal(escapeRfc2253('a+b"c\\d<e>f;g'), 'a\\+b\\"c\\\\d\\<e\\>f\\;g');
  assert.equal(escapeRfc2253('#1'), '\\#1');
  assert.equal(escapeRfc2253(' x '), '\\ x\\ ');
  assert.equal(escapeRfc2253('plain name=ok'), 'plain name=ok');
});

test('bytes that are not a certificate are a parse error, not a crash', () => {
  for (const bad of [Buffer.alloc(0), Buffer.from([0x30]), Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), Buffer.from([0x30, 0x03, 0x30, 0x01, 0x02])]) {
    assert.throws(() => x509SubjectName(bad), X509ParseError);
  }
});
