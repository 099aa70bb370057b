/**
 * Kerberos for the ZooKeeper front end: RFC 3961/3962's published vectors for the AES types,
 * keytab parsing, and the GSS-API acceptor and SASL GSSAPI server driven by a test initiator
 * (initiator.ts) through success and through each refusal. Real clients and a real KDC:
 * test/interop/zk-kerberos.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as der from '../../../../../zkproxy/session/kerberos/der';
import { ctsDecrypt, ctsEncrypt } from '../../../../../zkproxy/session/kerberos/aes-cts';
import { checksum, decrypt, encrypt, kdfHmacSha2, nfold } from '../../../../../zkproxy/session/kerberos/krb-aes';
import { KrbCryptoError } from '../../../../../zkproxy/session/kerberos/krb-crypto-error';
import { type KeytabEntry, parseKeytab, principalMatches } from '../../../../../zkproxy/session/kerberos/keytab';
import { acceptSecContext } from '../../../../../zkproxy/session/kerberos/gss-krb5';
import { ReplayCache } from '../../../../../zkproxy/session/kerberos/replay-cache';
import { GssapiServer } from '../../../../../zkproxy/session/kerberos/sasl-gssapi';
import { identityOf } from '../../../../../zkproxy/session/kerberos/principal-identity';
import { SaslAuthenticator, loadSaslOptions } from '../../../../../zkproxy/session/sasl-authenticator';
import { type ApReqSpec, acceptorUnwrap, aesKey, initialToken, initiatorWrap, readApRep } from './initiator';

test('nfold: the RFC 3961 appendix A.1 vectors', () => {
  const cases: Array<[string, number, string]> = [
    ['012345', 64, 'be072631276b1955'],
    ['password', 56, '78a07b6caf85fa'],
    ['Rough Consensus, and Running Code', 64, 'bb6ed30870b7f0e0'],
    ['password', 168, '59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e'],
    ['kerberos', 64, '6b65726265726f73'],
    ['kerberos', 128, '6b65726265726f737b9b5b2b93132b93'],
    ['kerberos', 256, '6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4'],
  ];
  for (const [input, bits, want] of cases) assert.equal(nfold(Buffer.from(input), bits / 8).toString('hex'), want, `${bits}-fold(${input})`);
});

test('AES-CTS: the RFC 3962 appendix B vectors, both ways', () => {
  const key = Buffer.from('chicken teriyaki');
  const cases: Array<[string, string]> = [
    ['4920776f756c64206c696b652074686520', 'c6353568f2bf8cb4d8a580362da7ff7f97'],
    ['4920776f756c64206c696b65207468652047656e6572616c20476175277320', 'fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5'],
    ['4920776f756c64206c696b65207468652047656e6572616c2047617527732043', '39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584'],
    ['4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c', '97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5'],
  ];
  for (const [plain, cipher] of cases) {
    assert.equal(ctsEncrypt(key, Buffer.from(plain, 'hex')).toString('hex'), cipher);
    assert.equal(ctsDecrypt(key, Buffer.from(cipher, 'hex')).toString('hex'), plain);
  }
});

test('RFC 8009: the appendix A key derivation, encryption and checksum vectors', () => {
  const hex = (s: string): Buffer => Buffer.from(s, 'hex');
  const label = (kind: number): Buffer => Buffer.from([0, 0, 0, 2, kind]);
  const k19 = hex('3705d96080c17728a0e800eab6e0d23c');
  const k20 = hex('6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52');
  assert.equal(kdfHmacSha2('sha256', k19, label(0x99), 16).toString('hex'), 'b31a018a48f54776f403e9a396325dc3');
  assert.equal(kdfHmacSha2('sha256', k19, label(0xaa), 16).toString('hex'), '9b197dd1e8c5609d6e67c3e37c62c72e');
  assert.equal(kdfHmacSha2('sha256', k19, label(0x55), 16).toString('hex'), '9fda0e56ab2d85e1569a688696c26a6c');
  assert.equal(kdfHmacSha2('sha384', k20, label(0x99), 24).toString('hex'), 'ef5718be86cc84963d8bbb5031e9f5c4ba41f28faf69e73d');
  assert.equal(kdfHmacSha2('sha384', k20, label(0xaa), 32).toString('hex'), '56ab22bee63d82d7bc5227f6773f8ea7a5eb1c825160c38312980c442e5c7e49');
  assert.equal(kdfHmacSha2('sha384', k20, label(0x55), 24).toString('hex'), '69b16514e3cd8e56b82010d5c73012b622c4d00ffc23ed1f');
  const empty = encrypt({ etype: 19, key: k19 }, 2, Buffer.alloc(0), hex('7e5895eaf2672435bad817f545a37148'));
  assert.equal(empty.toString('hex'), 'ef85fb890bb8472f4dab20394dca781dad877eda39d50c870c0d5a0a8e48c718');
  const data = Buffer.from([...Array(21).keys()]);
  assert.equal(checksum({ etype: 19, key: k19 }, 2, data).toString('hex'), 'd78367186643d67b411cba9139fc1dee');
  assert.equal(checksum({ etype: 20, key: k20 }, 2, data).toString('hex'), '45ee791567eefca37f4ac1e0222de80d43c3bfa06699672a');
});

test('encrypt/decrypt: round trip for every AES type and any length; tampering, another key or another usage fail', () => {
  for (const etype of [17, 18, 19, 20]) {
    const k = aesKey(etype);
    for (const len of [0, 1, 15, 16, 17, 100]) {
      const plain = Buffer.alloc(len, 0x5a);
      assert.deepEqual(decrypt(k, 7, encrypt(k, 7, plain)), plain);
    }
    const c = encrypt(k, 7, Buffer.from('secret'));
    const flipped = Buffer.from(c);
    flipped[3]! ^= 1;
    assert.throws(() => decrypt(k, 7, flipped), KrbCryptoError);
    assert.throws(() => decrypt(aesKey(etype), 7, c), KrbCryptoError);
    assert.throws(() => decrypt(k, 8, c), KrbCryptoError);
  }
  assert.throws(() => encrypt({ etype: 23, key: Buffer.alloc(16) }, 1, Buffer.alloc(1)), /encryption type 23 is not supported/);
});

/** A keytab file as kadmin writes it (format 0x502), with a deleted entry in the middle. */
function keytabFile(entries: Array<{ parts: string[]; realm: string; kvno: number; etype: number; key: Buffer; wideKvno?: number }>): Buffer {
  const str = (s: string): Buffer => Buffer.concat([Buffer.from([0, Buffer.byteLength(s)]), Buffer.from(s)]);
  const out: Buffer[] = [Buffer.from([5, 2])];
  entries.forEach((e, i) => {
    const tail = e.wideKvno === undefined ? Buffer.alloc(0) : Buffer.alloc(4);
    if (e.wideKvno !== undefined) tail.writeUInt32BE(e.wideKvno);
    const body = Buffer.concat([Buffer.from([0, e.parts.length]), str(e.realm), ...e.parts.map(str), Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, e.kvno, 0, e.etype, 0, e.key.length]), e.key, tail]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    out.push(size, body);
    if (i === 0) out.push(Buffer.from([0xff, 0xff, 0xff, 0xfa]), Buffer.alloc(6)); // a hole of 6 bytes
  });
  return Buffer.concat(out);
}

test('parseKeytab: entries, holes skipped, a 32-bit kvno wins; a bad file says why', () => {
  const k1 = Buffer.alloc(32, 1);
  const k2 = Buffer.alloc(16, 2);
  const file = keytabFile([
    { parts: ['zookeeper', 'zk1.example.com'], realm: 'EXAMPLE.COM', kvno: 3, etype: 18, key: k1 },
    { parts: ['alice'], realm: 'EXAMPLE.COM', kvno: 1, etype: 17, key: k2, wideKvno: 300 },
  ]);
  assert.deepEqual(parseKeytab(file), [
    { principal: 'zookeeper/zk1.example.com@EXAMPLE.COM', kvno: 3, etype: 18, key: k1 },
    { principal: 'alice@EXAMPLE.COM', kvno: 300, etype: 17, key: k2 },
  ]);
  assert.throws(() => parseKeytab(Buffer.from('hello'), 'k.tab'), /k\.tab: not a keytab file/);
  assert.throws(() => parseKeytab(Buffer.from([5, 1]), 'k.tab'), /version 0x0501 is not supported/);
  assert.throws(() => parseKeytab(file.subarray(0, file.length - 3), 'k.tab'), /k\.tab: entry .* runs past the end/);
});

const REALM = 'EXAMPLE.COM';
const SERVICE = ['zookeeper', 'zk1.example.com'];
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

function setup(over: Partial<ApReqSpec> = {}): { spec: ApReqSpec; keys: KeytabEntry[]; replay: ReplayCache } {
  const serviceKey = aesKey(18);
  const spec: ApReqSpec = { serviceKey, kvno: 2, service: SERVICE, client: ['alice'], realm: REALM, sessionKey: aesKey(18), subkey: aesKey(18), now: NOW, mutual: true, ...over };
  const keys = [{ principal: `${SERVICE.join('/')}@${REALM}`, kvno: 2, ...spec.serviceKey }];
  return { spec, keys, replay: new ReplayCache(600_000) };
}

function accept(token: Buffer, keys: KeytabEntry[], replay: ReplayCache, principal = `${SERVICE.join('/')}@${REALM}`): ReturnType<typeof acceptSecContext> {
  return acceptSecContext(token, { keys, principal, replay, skewMs: 300_000, now: () => NOW });
}

test('acceptSecContext: a good AP-REQ gives the client, the subkey, and an AP-REP echoing its time', () => {
  const { spec, keys, replay } = setup();
  const { context, output } = accept(initialToken(spec), keys, replay);
  assert.equal(context.client, 'alice@EXAMPLE.COM');
  assert.deepEqual(context.key, spec.subkey);
  const rep = readApRep(output!, spec.sessionKey);
  assert.equal(der.asTime(der.required(rep, 0, 'ctime'), 'ctime'), NOW);
  assert.equal(der.asInteger(der.required(rep, 1, 'cusec'), 'cusec'), 123);
  assert.equal(der.asInteger(der.required(rep, 3, 'seq'), 'seq'), context.sendSeq);
  // Without mutual authentication there is nothing to send, and without a subkey the session key signs.
  const plain = setup({ mutual: false, subkey: undefined });
  const r = accept(initialToken(plain.spec), plain.keys, plain.replay);
  assert.equal(r.output, undefined);
  assert.deepEqual(r.context.key, plain.spec.sessionKey);
});

test('acceptSecContext: each refusal says why', () => {
  const cases: Array<[Partial<ApReqSpec> | ((s: ReturnType<typeof setup>) => Buffer), RegExp]> = [
    [{ service: ['zookeeper', 'other.example.com'] }, /ticket is for zookeeper\/other\.example\.com@EXAMPLE\.COM, which is not this server's principal/],
    [(s) => initialToken({ ...s.spec, serviceKey: aesKey(18) }), /does not decrypt with the keytab's keys: the keytab is stale/],
    [(s) => initialToken({ ...s.spec, serviceKey: { ...aesKey(17) } }), /no key of encryption type 17/],
    [{ endtime: NOW - 600_000 }, /ticket has expired/],
    [{ authtime: NOW + 600_000 }, /not yet valid/],
    [{ ctime: NOW - 600_000 }, /outside the allowed clock skew/],
    [{ authClient: ['mallory'] }, /names another client than the ticket/],
    [{ noChecksum: true }, /no GSS-API checksum/],
    [() => Buffer.from('6003060100', 'hex'), /mechanism is not Kerberos V5/],
    [() => Buffer.from([0x60, 0x7f, 1]), /element runs past|not a GSS-API/],
  ];
  for (const [how, re] of cases) {
    const s = setup(typeof how === 'function' ? {} : how);
    const token = typeof how === 'function' ? how(s) : initialToken(s.spec);
    assert.throws(() => accept(token, s.keys, s.replay), (e: unknown) => e instanceof Error && re.test(e.message), String(re));
  }
  const s = setup();
  const token = initialToken(s.spec);
  accept(token, s.keys, s.replay);
  assert.throws(() => accept(token, s.keys, s.replay), /replayed authenticator/);
});

/** Runs the SASL exchange as the JDK's client would; returns the server's final step. */
function saslExchange(server: GssapiServer, spec: ApReqSpec, authzid: string, sealed = false): ReturnType<GssapiServer['evaluate']> {
  const first = server.evaluate(initialToken(spec));
  assert.equal(first.complete, false);
  readApRep(first.token!, spec.sessionKey);
  const offer = server.evaluate(Buffer.alloc(0));
  const offered = acceptorUnwrap(spec.subkey!, offer.token!);
  assert.deepEqual([...offered], [1, 1, 0, 0], 'security layer "none" and a 65536-byte buffer');
  return server.evaluate(initiatorWrap(spec.subkey!, Buffer.concat([Buffer.from([1, 0, 0, 0]), Buffer.from(authzid)]), 7, sealed));
}

test('GssapiServer: the JDK client flow ends with the identity; authzid rules as ZooKeeper', () => {
  for (const [sealed, etype] of [[false, 18], [true, 18], [false, 20], [true, 19]] as const) {
    const s = setup({ serviceKey: aesKey(etype), sessionKey: aesKey(etype), subkey: aesKey(etype) });
    const server = new GssapiServer({ keys: s.keys, principal: `${SERVICE.join('/')}@${REALM}`, replay: s.replay, skewMs: 300_000, now: () => NOW }, {});
    const done = saslExchange(server, s.spec, 'alice@EXAMPLE.COM', sealed);
    assert.deepEqual({ complete: done.complete, token: done.token, username: done.username }, { complete: true, token: null, username: 'alice@EXAMPLE.COM' });
    assert.throws(() => server.evaluate(Buffer.alloc(0)), /already complete/);
  }
  const s = setup();
  const acceptor = { keys: s.keys, principal: '*', replay: s.replay, skewMs: 300_000, now: () => NOW };
  assert.throws(() => saslExchange(new GssapiServer(acceptor, {}), s.spec, 'bob@EXAMPLE.COM'), /alice@EXAMPLE\.COM may not act as bob@EXAMPLE\.COM/);
  const admin = setup({ client: ['admin'] });
  const asSuper = saslExchange(new GssapiServer({ ...acceptor, keys: admin.keys, replay: admin.replay }, { superUsers: ['admin@EXAMPLE.COM'] }), admin.spec, 'bob@EXAMPLE.COM');
  assert.equal(asSuper.username, 'admin@EXAMPLE.COM', 'a super user may name another authzid; the identity stays its own');
});

test('principalMatches: exact, any (*), or a name without its realm', () => {
  assert.ok(principalMatches('zookeeper/h@R', 'zookeeper/h@R'));
  assert.ok(principalMatches('*', 'anything/h@R'));
  assert.ok(principalMatches('zookeeper/h', 'zookeeper/h@R'));
  assert.ok(!principalMatches('zookeeper/h@R', 'zookeeper/h@S'));
  assert.ok(!principalMatches('zookeeper/h', 'zookeeper/h2@R'));
  assert.ok(!principalMatches('zookeeper', 'zookeeper/h@R'));
});

test('identityOf: removeHost and removeRealm as ZooKeeper canonicalizes', () => {
  const p = 'kafka/h1.example.com@EXAMPLE.COM';
  const id = (m: Parameters<typeof identityOf>[1]): string => identityOf(p, m).identity;
  assert.equal(id({}), p);
  assert.equal(id({ removeHost: true }), 'kafka@EXAMPLE.COM');
  assert.equal(id({ removeRealm: true }), 'kafka/h1.example.com');
  assert.equal(id({ removeHost: true, removeRealm: true }), 'kafka');
});

test('SaslAuthenticator: the first token picks GSSAPI or DIGEST-MD5; an unconfigured one is refused', () => {
  const s = setup();
  const kerberos = { keys: s.keys, principal: `${SERVICE.join('/')}@${REALM}` };
  const both = new SaslAuthenticator({ users: new Map([['bob', 'pw']]), kerberos });
  assert.deepEqual(both.mechanisms, ['DIGEST-MD5', 'GSSAPI']);
  const digest = both.step({}, Buffer.alloc(0));
  assert.ok(digest.ok && digest.token!.toString().includes('realm="zk-sasl-md5"'), 'an empty first token starts DIGEST-MD5');
  const krbOnly = new SaslAuthenticator({ users: new Map(), kerberos });
  const refused = krbOnly.step({}, Buffer.alloc(0));
  assert.ok(!refused.ok && /no DIGEST-MD5 users/.test(refused.reason));
  const digestOnly = new SaslAuthenticator({ users: new Map([['bob', 'pw']]) });
  const noKrb = digestOnly.step({}, initialToken(s.spec));
  assert.ok(!noKrb.ok && /no Kerberos login/.test(noKrb.reason));
});

test('SaslAuthenticator: mangled GSSAPI tokens are refusals with a reason, never a throw (500 seeded mutations)', () => {
  const s = setup();
  const a = new SaslAuthenticator({ users: new Map(), kerberos: { keys: s.keys, principal: '*' } });
  const good = initialToken(s.spec);
  let seed = 20261124;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  let refused = 0;
  for (let i = 0; i < 500; i++) {
    const t = Buffer.from(good);
    const kind = i % 3;
    if (kind === 0) for (let k = 0; k <= rnd(4); k++) t[rnd(t.length)] = rnd(256);
    const token = kind === 1 ? t.subarray(0, 1 + rnd(t.length - 1)) : kind === 2 ? Buffer.concat([Buffer.from([0x60]), t.subarray(1 + rnd(t.length - 1))]) : t;
    const out = a.step({}, token);
    if (!out.ok) {
      refused++;
      assert.ok(out.reason.length > 0);
    }
  }
  assert.ok(refused > 400, `most mutations are refused (${refused})`);
});

test('loadSaslOptions: a Krb5LoginModule section loads its keytab; a bad keytab or principal stops with the reason', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'coracle-krb-'));
  try {
    const aes = Buffer.alloc(32, 3);
    const tab = (name: string, entries: Parameters<typeof keytabFile>[0]): string => {
      const f = path.join(dir, name);
      writeFileSync(f, keytabFile(entries));
      return f;
    };
    const good = tab('zk.keytab', [{ parts: ['zookeeper', 'h'], realm: 'R', kvno: 1, etype: 18, key: aes }, { parts: ['zookeeper', 'h'], realm: 'R', kvno: 1, etype: 23, key: Buffer.alloc(16) }]);
    const rc4 = tab('rc4.keytab', [{ parts: ['zookeeper', 'h'], realm: 'R', kvno: 1, etype: 23, key: Buffer.alloc(16) }]);
    const jaas = (keytab: string, principal: string, extra = ''): string => {
      const f = path.join(dir, 'jaas.conf');
      writeFileSync(f, `Server {\n  com.sun.security.auth.module.Krb5LoginModule required\n  useKeyTab=true keyTab="${keytab}" principal="${principal}"${extra};\n};\n`);
      return f;
    };
    const o = loadSaslOptions({ usersFile: jaas(good, 'zookeeper/h@R', ' user_bob="pw"'), kerberosRemoveRealm: true });
    assert.deepEqual(o?.kerberos?.keys.map((k) => [k.principal, k.etype]), [['zookeeper/h@R', 18]], 'only the AES key is kept');
    assert.equal(o?.kerberos?.mapping?.removeRealm, true);
    assert.deepEqual([...o!.users], [['bob', 'pw']], 'DIGEST-MD5 users beside the Kerberos login');
    assert.throws(() => loadSaslOptions({ usersFile: jaas(good, 'zookeeper/other@R') }), /has no key for zookeeper\/other@R \(it has zookeeper\/h@R\)/);
    assert.throws(() => loadSaslOptions({ usersFile: jaas(rc4, 'zookeeper/h') }), /no AES key for zookeeper\/h \(found encryption types 23.*ktadd -e/);
    assert.throws(() => loadSaslOptions({ usersFile: jaas(path.join(dir, 'missing.keytab'), 'zookeeper/h@R') }), /cannot read keytab .*missing\.keytab/);
    writeFileSync(path.join(dir, 'jaas.conf'), 'Server { com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true principal="z/h@R"; };');
    assert.throws(() => loadSaslOptions({ usersFile: path.join(dir, 'jaas.conf') }), /needs useKeyTab=true and keyTab="<file>"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SaslAuthenticator: a Kerberos exchange gives the identity the principal mapping asks for, and super', () => {
  for (const [mapping, want] of [[{}, 'alice@EXAMPLE.COM'], [{ removeRealm: true }, 'alice']] as const) {
    // The authenticator checks times against the real clock.
    const s = setup({ now: Date.now() });
    const a = new SaslAuthenticator({ users: new Map(), kerberos: { keys: s.keys, principal: '*', mapping }, superUsers: [want] });
    const conn = {};
    assert.ok(a.step(conn, initialToken(s.spec)).ok);
    const offer = a.step(conn, Buffer.alloc(0));
    assert.ok(offer.ok);
    const done = a.step(conn, initiatorWrap(s.spec.subkey!, Buffer.from([1, 0, 0, 0]), 8));
    assert.deepEqual(done.ok && [done.user, done.superUser, done.token], [want, true, null]);
  }
});
