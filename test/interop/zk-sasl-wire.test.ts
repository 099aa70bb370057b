/**
 * SASL (op 102, DIGEST-MD5) on the wire, against Coracle's ZooKeeper port with a client that
 * sends exactly the bytes we mean (ZkWireClient plus the RFC 2831 client computation): the
 * three-frame exchange, the `sasl:<user>` identity and ACLs on it, the failure replies (code,
 * zxid 0, null-token body, connection closed), super users, and the three policies
 * (optional, required, allowFailedClients). Real clients are in zk-sasl.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkErr } from '../../protocol/jute';
import { WireReply, ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { SaslOptions } from '../../zkproxy/session/sasl-authenticator';
import { ZK_SASL_DIGEST_URI, ZK_SASL_REALM, parseDirectives, responseValue } from '../../zkproxy/session/sasl-digest-md5';
import { Harness, startHarness } from './zk-harness';

const USERS = new Map([['bob', 'bobsecret'], ['alice', 'alicesecret'], ['admin', 'adminsecret'], ['super', 'supersecret']]);
const BOB_ONLY = [{ perms: 31, id: { scheme: 'sasl', id: 'bob' } }];

/** The client's digest-response to `challenge` and the rspauth it expects back. */
function respond(challenge: Buffer, user: string, password: string): { token: Buffer; rspauth: string } {
  const d = parseDirectives(challenge);
  const nonce = d.get('nonce')!;
  const cnonce = Buffer.from('d2lyZS10ZXN0LWNub25jZQ');
  const p = { username: user, realm: d.get('realm')!.toString(), password, nonce, cnonce, nc: 1, qop: 'auth', digestUri: ZK_SASL_DIGEST_URI };
  const token = Buffer.from(`charset=utf-8,username="${user}",realm="${p.realm}",nonce="${nonce}",nc=00000001,cnonce="${cnonce}",digest-uri="${ZK_SASL_DIGEST_URI}",maxbuf=65536,response=${responseValue(p, 'AUTHENTICATE')},qop=auth`);
  return { token, rspauth: `rspauth=${responseValue(p, '')}` };
}

function tokenOf(r: WireReply): Buffer | null | undefined {
  return r.body?.op === 'sasl' ? r.body.token : undefined;
}

/** Runs the exchange; returns the final reply (and checks rspauth when it succeeded). */
async function login(c: ZkWireClient, user: string, password: string): Promise<WireReply> {
  const first = await c.send({ op: 'sasl', token: Buffer.alloc(0) });
  assert.equal(first.header.err, 0);
  assert.equal(first.header.zxid, 0n, 'sasl replies carry zxid 0, as ZooKeeper sends them');
  const challenge = tokenOf(first)!;
  assert.match(challenge.toString(), new RegExp(`^realm="${ZK_SASL_REALM}",nonce="[A-Za-z0-9+/=]{40}",charset=utf-8,algorithm=md5-sess$`));
  const { token, rspauth } = respond(challenge, user, password);
  const last = await c.send({ op: 'sasl', token });
  // (allowFailedClients answers a failure OK with a null token.)
  if (last.header.err === 0 && tokenOf(last) !== null) assert.equal(tokenOf(last)?.toString(), rspauth, 'the server proves it knows the password too');
  return last;
}

async function connect(h: Harness): Promise<ZkWireClient> {
  return ZkWireClient.connect({ host: h.host, port: h.port, ping: false });
}

async function withProxy(sasl: SaslOptions | undefined, fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ sasl });
  try {
    await fn(h);
  } finally {
    await h.stop();
  }
}

/** Asserts a failed step: `err`, zxid 0, the null-token body, then the server closes. */
async function assertRefused(c: ZkWireClient, r: WireReply, err: number): Promise<void> {
  assert.equal(r.header.err, err);
  assert.equal(r.header.zxid, 0n);
  assert.deepEqual(r.body, { op: 'sasl', token: null }, 'SetSASLResponse(null) follows the error header');
  assert.equal(await c.waitClosed(5000), true, 'the connection is closed');
}

test('optional SASL: identity, sasl ACLs, failures close only that connection', { timeout: 30_000 }, async () => {
  await withProxy({ users: USERS, superUsers: ['admin'] }, async (h) => {
    const bob = await connect(h);
    const anon = await connect(h);
    try {
      assert.equal((await login(bob, 'bob', 'bobsecret')).header.err, 0);
      const who = await bob.send({ op: 'whoAmI' });
      // ZooKeeper's hash order of the ids (mapping/auth-order.ts), not the order they were added.
      assert.deepEqual(who.body?.op === 'whoAmI' && who.body.clientInfo, [{ authScheme: 'sasl', user: 'bob' }, { authScheme: 'ip', user: '127.0.0.1' }]);
      assert.equal((await bob.send({ op: 'create', path: '/secure', data: Buffer.from('s'), acl: BOB_ONLY, flags: 0 })).header.err, 0);
      const acl = await bob.send({ op: 'getACL', path: '/secure' });
      assert.deepEqual(acl.body?.op === 'getACL' && acl.body.acl, BOB_ONLY);
      // `auth` in an ACL stands for the connection's sasl identity.
      assert.equal((await bob.send({ op: 'create', path: '/mine', data: null, acl: [{ perms: 31, id: { scheme: 'auth', id: '' } }], flags: 0 })).header.err, 0);
      const mine = await bob.send({ op: 'getACL', path: '/mine' });
      assert.deepEqual(mine.body?.op === 'getACL' && mine.body.acl, BOB_ONLY);

      // Unauthenticated: served, but NOAUTH on bob's node; exists checks no ACL in 3.8.0 (its
      // FinalRequestProcessor goes straight to statNode; the cross-check compares the same).
      assert.equal((await anon.send({ op: 'getData', path: '/secure', watch: false })).header.err, ZkErr.NOAUTH);
      assert.equal((await anon.send({ op: 'setData', path: '/secure', data: null, version: -1 })).header.err, ZkErr.NOAUTH);
      assert.equal((await anon.send({ op: 'exists', path: '/secure', watch: false })).header.err, ZkErr.OK);
      assert.equal((await anon.send({ op: 'getChildren', path: '/', watch: false })).header.err, 0);

      // Another user: authenticated, still NOAUTH.
      const alice = await connect(h);
      assert.equal((await login(alice, 'alice', 'alicesecret')).header.err, 0);
      assert.equal((await alice.send({ op: 'getData', path: '/secure', watch: false })).header.err, ZkErr.NOAUTH);
      await alice.close();

      // zookeeper.superUser: bypasses every ACL; the SASL user named "super" matches sasl ids.
      for (const [user, pw] of [['admin', 'adminsecret'], ['super', 'supersecret']] as const) {
        const c = await connect(h);
        assert.equal((await login(c, user, pw)).header.err, 0);
        const r = await c.send({ op: 'getData', path: '/secure', watch: false });
        assert.equal(r.header.err, 0, user);
        await c.close();
      }

      // Wrong password, unknown user, garbage, a response before the challenge: AUTHFAILED, closed.
      for (const [name, run] of [
        ['wrong password', (c: ZkWireClient) => login(c, 'bob', 'nope')],
        ['unknown user', (c: ZkWireClient) => login(c, 'mallory', 'x')],
        ['garbage', async (c: ZkWireClient) => { await c.send({ op: 'sasl', token: Buffer.alloc(0) }); return c.send({ op: 'sasl', token: Buffer.from([0, 1, 2, 0xff]) }); }],
        ['initial response', (c: ZkWireClient) => c.send({ op: 'sasl', token: Buffer.from('username="bob"') })],
      ] as const) {
        const c = await connect(h);
        await assertRefused(c, await run(c), ZkErr.AUTHFAILED).catch((e: Error) => { throw new Error(`${name}: ${e.message}`); });
      }
      // A second exchange after success is refused too (the JDK server is in its final state).
      const twice = await connect(h);
      assert.equal((await login(twice, 'bob', 'bobsecret')).header.err, 0);
      await assertRefused(twice, await twice.send({ op: 'sasl', token: Buffer.alloc(0) }), ZkErr.AUTHFAILED);

      // The other connections did not notice.
      assert.equal((await bob.send({ op: 'getData', path: '/secure', watch: false })).header.err, 0);
      assert.equal((await anon.send({ op: 'exists', path: '/', watch: false })).header.err, 0);
    } finally {
      await bob.close();
      await anon.close();
    }
  });
});

test('SASL required: unauthenticated requests get SESSIONCLOSEDREQUIRESASLAUTH and a closed connection', { timeout: 30_000 }, async () => {
  await withProxy({ users: USERS, required: true }, async (h) => {
    const anon = await connect(h);
    const r = await anon.send({ op: 'exists', path: '/', watch: false });
    assert.equal(r.header.err, ZkErr.SESSIONCLOSEDREQUIRESASLAUTH);
    assert.equal(r.header.zxid, 0n);
    assert.equal(r.body, undefined, 'header only');
    assert.equal(await anon.waitClosed(5000), true);

    const pinger = await connect(h);
    assert.equal((await pinger.send({ op: 'ping' })).header.err, ZkErr.SESSIONCLOSEDREQUIRESASLAUTH, 'pings count too');
    assert.equal(await pinger.waitClosed(5000), true);

    // digest auth is not enough: only the sasl scheme is required.
    const digest = await connect(h);
    assert.equal((await digest.send({ op: 'auth', type: 0, scheme: 'digest', auth: Buffer.from('bob:bobsecret') })).header.err, 0);
    assert.equal((await digest.send({ op: 'getChildren', path: '/', watch: false })).header.err, ZkErr.SESSIONCLOSEDREQUIRESASLAUTH);
    assert.equal(await digest.waitClosed(5000), true);

    const bad = await connect(h);
    await assertRefused(bad, await login(bad, 'bob', 'nope'), ZkErr.SESSIONCLOSEDREQUIRESASLAUTH);

    const bob = await connect(h);
    assert.equal((await login(bob, 'bob', 'bobsecret')).header.err, 0);
    assert.equal((await bob.send({ op: 'create', path: '/ok', data: null, acl: BOB_ONLY, flags: 0 })).header.err, 0);
    assert.equal((await bob.send({ op: 'ping' })).header.err, 0);
    await bob.close();
  });
});

test('allowFailedClients: a failed exchange is answered OK without a token and the connection stays', { timeout: 30_000 }, async () => {
  await withProxy({ users: USERS, allowFailedClients: true }, async (h) => {
    const bob = await connect(h);
    assert.equal((await login(bob, 'bob', 'bobsecret')).header.err, 0);
    await bob.send({ op: 'create', path: '/secure', data: null, acl: BOB_ONLY, flags: 0 });
    const c = await connect(h);
    const r = await login(c, 'bob', 'wrong');
    assert.equal(r.header.err, 0);
    assert.equal(tokenOf(r), null);
    assert.equal((await c.send({ op: 'getData', path: '/secure', watch: false })).header.err, ZkErr.NOAUTH, 'kept, unauthenticated');
    await c.close();
    await bob.close();
  });
});

test('SASL not configured: AUTHFAILED with a null token, connection closed', { timeout: 30_000 }, async () => {
  await withProxy(undefined, async (h) => {
    const c = await connect(h);
    await assertRefused(c, await c.send({ op: 'sasl', token: Buffer.alloc(0) }), ZkErr.AUTHFAILED);
    // The sasl scheme is still accepted in ACLs (data may come from a SASL-enabled proxy).
    const d = await connect(h);
    assert.equal((await d.send({ op: 'create', path: '/s', data: null, acl: BOB_ONLY, flags: 0 })).header.err, 0);
    assert.equal((await d.send({ op: 'getData', path: '/s', watch: false })).header.err, ZkErr.NOAUTH);
    await d.close();
  });
});
