/** SaslAuthenticator (per-connection exchanges, super users) and loadSaslOptions (the users file). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SaslAuthenticator, loadSaslOptions } from '../../../../zkproxy/session/sasl-authenticator';
import { DigestParams, ZK_SASL_DIGEST_URI, ZK_SASL_REALM, parseDirectives, responseValue } from '../../../../zkproxy/session/sasl-digest-md5';

function answer(challenge: Buffer, user: string, password: string): Buffer {
  const nonce = parseDirectives(challenge).get('nonce')!;
  const p: DigestParams = { username: user, realm: ZK_SASL_REALM, password, nonce, cnonce: Buffer.from('cn'), nc: 1, qop: 'auth', digestUri: ZK_SASL_DIGEST_URI };
  return Buffer.from(`username="${user}",realm="${ZK_SASL_REALM}",nonce="${nonce}",cnonce="cn",nc=00000001,qop=auth,digest-uri="${ZK_SASL_DIGEST_URI}",response=${responseValue(p, 'AUTHENTICATE')}`);
}

test('one exchange per connection; the user and super flag on completion', () => {
  const a = new SaslAuthenticator({ users: new Map([['bob', 'pw'], ['admin', 'apw']]), superUsers: ['admin'] });
  const conn1 = {};
  const conn2 = {};
  const c1 = a.step(conn1, Buffer.alloc(0));
  const c2 = a.step(conn2, Buffer.alloc(0));
  assert.ok(c1.ok && c2.ok);
  assert.notEqual(c1.token!.toString(), c2.token!.toString(), 'each connection gets its own nonce');
  const done1 = a.step(conn1, answer(c1.token!, 'bob', 'pw'));
  assert.deepEqual(done1.ok && [done1.user, done1.superUser], ['bob', false]);
  const done2 = a.step(conn2, answer(c2.token!, 'admin', 'apw'));
  assert.deepEqual(done2.ok && [done2.user, done2.superUser], ['admin', true]);
  const again = a.step(conn1, Buffer.alloc(0));
  assert.ok(!again.ok && /illegal state/.test(again.reason), 'no second exchange on a connection');
});

test('a failure is an outcome with the reason, not a throw', () => {
  const a = new SaslAuthenticator({ users: new Map([['bob', 'pw']]) });
  const conn = {};
  const c = a.step(conn, Buffer.alloc(0));
  assert.ok(c.ok);
  const r = a.step(conn, answer(c.token!, 'bob', 'nope'));
  assert.ok(!r.ok && /Mismatched response/.test(r.reason));
});

function tempFile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coracle-jaas-'));
  const f = path.join(dir, 'jaas.conf');
  fs.writeFileSync(f, text);
  return f;
}

test('loadSaslOptions reads the users file and carries the switches', () => {
  const f = tempFile('Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="pw"; };');
  try {
    const o = loadSaslOptions({ usersFile: f, required: true, superUsers: ['bob'] })!;
    assert.deepEqual([...o.users], [['bob', 'pw']]);
    assert.equal(o.required, true);
    assert.equal(o.allowFailedClients, false);
    assert.deepEqual(o.superUsers, ['bob']);
    assert.equal(loadSaslOptions({}), undefined, 'no file, no SASL');
  } finally {
    fs.rmSync(path.dirname(f), { recursive: true, force: true });
  }
});

test('loadSaslOptions: clear errors for a missing or malformed file, or required without users', () => {
  assert.throws(() => loadSaslOptions({ usersFile: '/nonexistent/jaas.conf' }), /cannot read --zk-sasl-users-file \/nonexistent\/jaas.conf: ENOENT/);
  const f = tempFile('Server {\n  M required user_bob="pw"\n');
  try {
    assert.throws(() => loadSaslOptions({ usersFile: f }), (e: unknown) => e instanceof Error && e.message.startsWith(`bad --zk-sasl-users-file: ${f}:`));
  } finally {
    fs.rmSync(path.dirname(f), { recursive: true, force: true });
  }
  assert.throws(() => loadSaslOptions({ required: true }), /--zk-sasl-required needs --zk-sasl-users-file/);
});
