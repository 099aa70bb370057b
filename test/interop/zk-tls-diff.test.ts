/**
 * Differential test of the secure client port: the same scripted raw requests (ZkWireClient over
 * TLS) against a real Apache ZooKeeper 3.8 (NettyServerCnxnFactory, secureClientPort,
 * X509AuthenticationProvider, PEM key and trust stores) and against Coracle
 * (`--zk-secure-listen` with the same certificates). Replies are compared field by field,
 * except zxids, times and session ids (support/zk-reply-diff.ts).
 *
 * Two pairs of servers: clientAuth `need` with an x509 super user, and clientAuth `want`.
 * Covered: whoAmI for certificate subjects of many shapes (the x509 id is Java's
 * X500Principal.getName(): RFC 2253, attributes without a keyword as OID=#hex); x509 ACLs
 * (exact DN match); the `auth` ACL scheme expanding to the x509 id; setACL/create with valid and
 * malformed x509 ids; the super user bypassing ACLs; `want` without a certificate; an `auth`
 * packet with scheme x509; refused connections (no certificate under need, an untrusted one
 * under need and want).
 *
 * whoAmI lists are compared as sets, except in one test that compares their order: the real
 * server keeps a connection's ids in a ConcurrentHashMap-backed set, so whoAmI and the `auth`
 * ACL expansion follow its bucket order (the Id's jute hashCode), not the order of
 * authentication.
 *
 * TLS-layer details (negotiated version, the alert a refused client receives) are printed as
 * diagnostics, not compared: they come from the JDK and from OpenSSL respectively.
 * CORACLE_TLS_DIFF_TRACE=1 prints every step's two answers, equal or not.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import type { Acl, ZkRequest } from '../../protocol/jute';
import { startCoracle, type CoracleServer } from '../support/coracle-server';
import { requirePeer } from '../support/peers';
import { freePorts } from '../support/ports';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import type { TestCerts } from '../support/tls-certs';
import { call, differentialRun, stepper, within, WireSessions, type DiffPair, type Transcript } from '../support/zk-reply-diff';
import {
  coracleTlsArgs, makeDiffCerts, probeSession, tlsClientOptions, waitSecurePort, zookeeperTlsConfig, zookeeperTlsJvmArgs,
} from '../support/zk-tls-peers';
import { fourLetterWord, startZookeeper, type ZookeeperPeer } from '../support/zookeeper-peer';

/** Client certificates (openssl -subj, outermost first). Java prints them reversed (RFC 2253). */
const SUBJECTS: Record<string, string> = {
  // Plain keywords, values with spaces.
  alice: '/C=US/ST=California/L=San Francisco/O=Coracle/OU=eng/CN=alice',
  bob: '/O=Coracle/CN=bob',
  // Commas inside values: escaped as \, in the DN.
  comma: '/O=Acme, Inc./CN=Smith, John',
  // emailAddress has no RFC 2253 keyword in Java: 1.2.840.113549.1.9.1=#<DER hex>.
  email: '/O=Coracle/CN=carol/emailAddress=carol@example.com',
  dc: '/DC=org/DC=example/CN=dave',
  // + ; " < > \ inside a value.
  special: '/O=Coracle/CN=p\\+q;r"s<t>u\\\\v=w',
  // A multi-valued RDN (CN + UID).
  multi: '/O=Coracle/CN=eve+UID=eve1',
  // A value starting with '#'.
  hash: '/O=Coracle/CN=#hash',
  // STREET by keyword; serialNumber and title as OIDs.
  attrs: '/C=US/serialNumber=1234/title=boss/street=1 Main St/CN=frank',
  // Non-ASCII in a UTF8String (openssl without -utf8 takes the bytes as Latin-1 characters).
  latin: '/O=Coracle/CN=José',
  // The x509 super user of the `need` servers.
  root: '/O=Coracle/OU=ops/CN=root',
};
const SUPER_USER = 'CN=root,OU=ops,O=Coracle';

const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const READ = 1;
const WRITE = 2;
const ALL = 31;

/** One server under test: its secure port (need or want) and plain port. */
interface Side {
  name: 'zookeeper' | 'coracle';
  secure: number;
  plain: number;
}
type Pair = DiffPair<Side>;

let dir: string | undefined;
let certs: TestCerts;
const zookeepers: ZookeeperPeer[] = [];
const coracles: CoracleServer[] = [];
let need: Pair;
let want: Pair;
/** Each certificate's x509 id as the real ZooKeeper reports it (whoAmI). */
const dn: Record<string, string> = {};
let setupSkip: string | undefined;

async function startPair(clientAuth: 'need' | 'want', superUser: string | undefined): Promise<Pair> {
  const [zkSecure, coSecure] = (await freePorts(2)) as [number, number];
  const [zk, co] = await Promise.all([
    startZookeeper({ config: zookeeperTlsConfig(certs, zkSecure, clientAuth), jvmArgs: zookeeperTlsJvmArgs(superUser), logLevel: 'warn' })
      .then((z) => (zookeepers.push(z), z)),
    startCoracle(coracleTlsArgs(certs, coSecure, clientAuth, superUser)).then((c) => (coracles.push(c), c)),
  ]);
  await Promise.all([waitSecurePort(certs, zkSecure, 'alice'), waitSecurePort(certs, coSecure, 'alice')]);
  return {
    zookeeper: { name: 'zookeeper', secure: zkSecure, plain: zk.port },
    coracle: { name: 'coracle', secure: coSecure, plain: co.zkPort },
  };
}

before(async () => {
  setupSkip = requirePeer('zookeeper');
  if (setupSkip) return;
  dir = createTempDir('coracle-zk-tls-diff-');
  certs = await makeDiffCerts(dir, SUBJECTS);
  need = await startPair('need', SUPER_USER);
  want = await startPair('want', undefined);
  for (const name of Object.keys(SUBJECTS)) {
    const c = await open(need.zookeeper.secure, name);
    const r = await within(c.send({ op: 'whoAmI' }), 5000, `whoAmI ${name}`);
    await c.close();
    const info = r.body?.op === 'whoAmI' ? r.body.clientInfo : [];
    const x509 = info.find((i) => i.authScheme === 'x509');
    if (!x509) throw new Error(`ZooKeeper gave ${name} no x509 identity: ${JSON.stringify(info)}`);
    dn[name] = x509.user;
  }
});

after(async () => {
  await Promise.all([...zookeepers.map((z) => z.stop()), ...coracles.map((c) => c.stop())]);
  if (dir) removeTempDir(dir);
});

const sessions = new WireSessions();

/** A session over TLS with certificate `name` (none when undefined), or over plain TCP when `plain`. */
function open(port: number, name?: string, plain = false): Promise<ZkWireClient> {
  return sessions.connect(port, plain ? undefined : tlsClientOptions(certs, name), name ?? 'no certificate');
}

/** Run `script` against both sides (see support/zk-reply-diff.ts). */
async function differential(t: TestContext, pair: () => Pair, script: (side: Side) => Promise<Transcript>): Promise<void> {
  if (setupSkip) return t.skip(setupSkip);
  await differentialRun(t, pair(), sessions, script);
}

const data = (s: string): Buffer => Buffer.from(s);
const x509 = (id: string, perms = ALL): Acl => ({ perms, id: { scheme: 'x509', id } });

test('whoAmI per certificate subject, and on the plain port (clientAuth need)', { timeout: 60_000 }, async (t) => {
  await differential(t, () => need, async (side) => {
    const out: Transcript = [];
    for (const name of Object.keys(SUBJECTS)) {
      const c = await open(side.secure, name);
      out.push([`whoAmI ${name} (${SUBJECTS[name]})`, await call(c, { op: 'whoAmI' })]);
      await c.close();
    }
    const p = await open(side.plain, undefined, true);
    out.push(['whoAmI on the plain port', await call(p, { op: 'whoAmI' })]);
    return out;
  });
});

test('whoAmI lists the ids in the real server\'s order', { timeout: 60_000 }, async (t) => {
  // ZooKeeper keeps a connection's ids in Collections.newSetFromMap(new ConcurrentHashMap<>()):
  // whoAmI (and the auth ACL expansion) iterate it in hash-bucket order, not insertion order.
  await differential(t, () => need, async (side) => {
    const out: Transcript = [];
    for (const name of Object.keys(SUBJECTS)) {
      const c = await open(side.secure, name);
      out.push([`whoAmI ${name}, in order`, await call(c, { op: 'whoAmI' }, true)]);
      if (name === 'alice' || name === 'hash') {
        await call(c, { op: 'auth', type: 0, scheme: 'digest', auth: data('alice:pw') });
        out.push([`whoAmI ${name} after digest alice:pw, in order`, await call(c, { op: 'whoAmI' }, true)]);
        // The auth scheme expands to the authenticated ids in the same order.
        const path = `/order-${name}`;
        await call(c, { op: 'create', path, data: null, acl: [{ perms: ALL, id: { scheme: 'auth', id: '' } }], flags: 0 });
        out.push([`getACL ${path} (auth:: by ${name} with digest)`, await call(c, { op: 'getACL', path })]);
      }
      await c.close();
    }
    // The same on the plain port, without x509: ip:127.0.0.1 hashes after digest bob:pw.
    const p = await open(side.plain, undefined, true);
    await call(p, { op: 'auth', type: 0, scheme: 'digest', auth: data('bob:pw') });
    out.push(['plain port: whoAmI after digest bob:pw, in order', await call(p, { op: 'whoAmI' }, true)]);
    return out;
  });
});

test('x509 ACLs: exact DN match; the owner reads and writes, other certificates get NOAUTH', { timeout: 60_000 }, async (t) => {
  await differential(t, () => need, async (side) => {
    const a = await open(side.secure, 'alice');
    const b = await open(side.secure, 'bob');
    const cm = await open(side.secure, 'comma');
    const alice = dn.alice as string;
    const out: Transcript = [];
    const step = stepper(out);
    await step('create /x509', a, { op: 'create', path: '/x509', data: data('p'), acl: OPEN, flags: 0 });
    await step('alice creates /x509/owned with x509:alice ALL', a, { op: 'create', path: '/x509/owned', data: data('secret'), acl: [x509(alice)], flags: 0 });
    await step('alice getData', a, { op: 'getData', path: '/x509/owned', watch: false });
    await step('alice setData', a, { op: 'setData', path: '/x509/owned', data: data('s2'), version: -1 });
    await step('alice getACL', a, { op: 'getACL', path: '/x509/owned' });
    await step('alice getChildren', a, { op: 'getChildren', path: '/x509/owned', watch: false });
    await step('bob getData', b, { op: 'getData', path: '/x509/owned', watch: false });
    await step('bob setData', b, { op: 'setData', path: '/x509/owned', data: data('x'), version: -1 });
    await step('bob getACL', b, { op: 'getACL', path: '/x509/owned' });
    await step('bob exists', b, { op: 'exists', path: '/x509/owned', watch: false });
    await step('bob getChildren', b, { op: 'getChildren', path: '/x509/owned', watch: false });
    await step('bob creates a child', b, { op: 'create', path: '/x509/owned/kid', data: null, acl: OPEN, flags: 0 });
    await step('bob setACL', b, { op: 'setACL', path: '/x509/owned', acl: OPEN, version: -1 });
    await step('alice creates /x509/comma readable by the comma DN', a, { op: 'create', path: '/x509/comma', data: data('c'), acl: [x509(dn.comma as string, READ)], flags: 0 });
    await step('comma getData', cm, { op: 'getData', path: '/x509/comma', watch: false });
    await step('comma setData (READ only)', cm, { op: 'setData', path: '/x509/comma', data: data('x'), version: -1 });
    await step('alice getData /x509/comma', a, { op: 'getData', path: '/x509/comma', watch: false });
    // The same DN written differently does not match: x509 compares the strings.
    const spaced = alice.split(',').join(', ');
    await step('create /x509/spaced with x509:<alice DN with ", ">', a, { op: 'create', path: '/x509/spaced', data: data('s'), acl: [x509(spaced), x509(dn.bob as string, ALL)], flags: 0 });
    await step('alice getData /x509/spaced', a, { op: 'getData', path: '/x509/spaced', watch: false });
    await step('create /x509/lower with x509:<alice DN lower-cased>', a, { op: 'create', path: '/x509/lower', data: data('l'), acl: [x509(alice.toLowerCase()), x509(dn.bob as string, ALL)], flags: 0 });
    await step('alice getData /x509/lower', a, { op: 'getData', path: '/x509/lower', watch: false });
    await step('create /x509/split: alice READ, bob WRITE', a, { op: 'create', path: '/x509/split', data: data('v'), acl: [x509(alice, READ), x509(dn.bob as string, WRITE)], flags: 0 });
    await step('alice getData /x509/split', a, { op: 'getData', path: '/x509/split', watch: false });
    await step('alice setData /x509/split', a, { op: 'setData', path: '/x509/split', data: data('a'), version: -1 });
    await step('bob getData /x509/split', b, { op: 'getData', path: '/x509/split', watch: false });
    await step('bob setData /x509/split', b, { op: 'setData', path: '/x509/split', data: data('b'), version: -1 });
    await step('multiRead by alice: /x509/owned and /x509/comma', a, {
      op: 'multiRead', ops: [{ op: 'getData', path: '/x509/owned', watch: false }, { op: 'getData', path: '/x509/comma', watch: false }],
    });
    return out;
  });
});

test('the auth ACL scheme expands to the connection\'s x509 id (getACL compared)', { timeout: 60_000 }, async (t) => {
  await differential(t, () => need, async (side) => {
    const a = await open(side.secure, 'alice');
    const b = await open(side.secure, 'bob');
    const r = await open(side.secure, 'root');
    const p = await open(side.plain, undefined, true);
    const out: Transcript = [];
    const step = stepper(out);
    const auth = (perms = ALL, id = ''): Acl => ({ perms, id: { scheme: 'auth', id } });
    await step('alice creates /auth1 with auth:: ALL', a, { op: 'create', path: '/auth1', data: data('1'), acl: [auth()], flags: 0 });
    await step('alice getACL /auth1', a, { op: 'getACL', path: '/auth1' });
    await step('bob getData /auth1', b, { op: 'getData', path: '/auth1', watch: false });
    await step('alice creates /auth1b with auth:ignored:READ', a, { op: 'create', path: '/auth1b', data: data('1'), acl: [auth(READ, 'ignored')], flags: 0 });
    await step('alice getACL /auth1b', a, { op: 'getACL', path: '/auth1b' });
    await step('alice adds digest alice:pw', a, { op: 'auth', type: 0, scheme: 'digest', auth: data('alice:pw') });
    await step('alice whoAmI after digest', a, { op: 'whoAmI' });
    await step('alice creates /auth2 with auth:: cdrwa', a, { op: 'create', path: '/auth2', data: data('2'), acl: [auth()], flags: 0 });
    await step('alice getACL /auth2', a, { op: 'getACL', path: '/auth2' });
    await step('alice setACL /auth1 to auth:: READ', a, { op: 'setACL', path: '/auth1', acl: [auth(READ)], version: -1 });
    await step('alice getACL /auth1 after setACL', a, { op: 'getACL', path: '/auth1' });
    await step('root (super) creates /auth3 with auth::', r, { op: 'create', path: '/auth3', data: data('3'), acl: [auth()], flags: 0 });
    await step('root getACL /auth3', r, { op: 'getACL', path: '/auth3' });
    await step('plain-port client creates /auth4 with auth:: (no authenticated id)', p, { op: 'create', path: '/auth4', data: data('4'), acl: [auth()], flags: 0 });
    return out;
  });
});

/** x509 ids for setACL/create: the real server validates them with `new X500Principal(id)`. */
const X509_IDS = [
  'not a dn', '', 'CN=alice, O=Coracle', 'cn=alice', '=x', 'CN=a\\', 'CN=a+', '1.2.3.4=#0403616263', 'CN=#zz', 'FOO=bar',
  'CN="quoted, value"', 'CN=a;O=b', 'CN=a,', ',CN=a', 'CN', 'CN=a,,O=b', 'EMAILADDRESS=x@y', 'OID.2.5.4.3=a', 'CN=a+OU=b',
  'CN=caf\\C3\\A9', 'CN=x\\zz',
];

test('setACL and create with valid and malformed x509 ids (error codes, stored ids)', { timeout: 60_000 }, async (t) => {
  await differential(t, () => need, async (side) => {
    const a = await open(side.secure, 'alice');
    const r = await open(side.secure, 'root');
    const out: Transcript = [];
    out.push(['create /ids', await call(a, { op: 'create', path: '/ids', data: null, acl: OPEN, flags: 0 })]);
    for (const [i, id] of X509_IDS.entries()) {
      const path = `/ids/n${i}`;
      await call(a, { op: 'create', path, data: null, acl: OPEN, flags: 0 });
      out.push([`setACL x509:${JSON.stringify(id)}`, await call(a, { op: 'setACL', path, acl: [x509(id)], version: -1 })]);
      // The super user reads the ACL whatever it became.
      out.push([`getACL after setACL x509:${JSON.stringify(id)}`, await call(r, { op: 'getACL', path })]);
      out.push([`create with x509:${JSON.stringify(id)}`, await call(a, { op: 'create', path: `/ids/c${i}`, data: null, acl: [x509(id)], flags: 0 })]);
    }
    return out;
  });
});

test('the x509 super user bypasses ACLs', { timeout: 60_000 }, async (t) => {
  await differential(t, () => need, async (side) => {
    const a = await open(side.secure, 'alice');
    const r = await open(side.secure, 'root');
    const out: Transcript = [];
    const step = stepper(out);
    await step('root whoAmI', r, { op: 'whoAmI' });
    await step('create /super', a, { op: 'create', path: '/super', data: null, acl: OPEN, flags: 0 });
    await step('alice creates /super/owned (x509:alice)', a, { op: 'create', path: '/super/owned', data: data('a'), acl: [x509(dn.alice as string)], flags: 0 });
    await step('alice creates /super/digest (digest:nobody)', a, {
      op: 'create', path: '/super/digest', data: data('d'), acl: [{ perms: ALL, id: { scheme: 'digest', id: 'nobody:AAAAAAAAAAAAAAAAAAAAAAAAAAA=' } }], flags: 0,
    });
    await step('root getData /super/owned', r, { op: 'getData', path: '/super/owned', watch: false });
    await step('root getData /super/digest', r, { op: 'getData', path: '/super/digest', watch: false });
    await step('root setData /super/owned', r, { op: 'setData', path: '/super/owned', data: data('r'), version: -1 });
    await step('root getACL /super/digest', r, { op: 'getACL', path: '/super/digest' });
    await step('root creates /super/owned/kid', r, { op: 'create', path: '/super/owned/kid', data: null, acl: OPEN, flags: 0 });
    await step('root deletes /super/owned/kid', r, { op: 'delete', path: '/super/owned/kid', version: -1 });
    await step('root setACL /super/owned to x509:root READ', r, { op: 'setACL', path: '/super/owned', acl: [x509(SUPER_USER, READ)], version: -1 });
    await step('alice getData /super/owned after', a, { op: 'getData', path: '/super/owned', watch: false });
    await step('root setData /super/owned (READ-only ACL, super)', r, { op: 'setData', path: '/super/owned', data: data('r2'), version: -1 });
    return out;
  });
});

test('clientAuth want: no certificate gets only the ip id; a trusted one gets x509', { timeout: 60_000 }, async (t) => {
  await differential(t, () => want, async (side) => {
    const n = await open(side.secure, undefined);
    const a = await open(side.secure, 'alice');
    const out: Transcript = [];
    const step = stepper(out);
    await step('no certificate: whoAmI', n, { op: 'whoAmI' });
    await step('alice: whoAmI', a, { op: 'whoAmI' });
    await step('alice creates /want (x509:alice)', a, { op: 'create', path: '/want', data: data('w'), acl: [x509(dn.alice as string)], flags: 0 });
    await step('no certificate: getData /want', n, { op: 'getData', path: '/want', watch: false });
    await step('no certificate: exists /want', n, { op: 'exists', path: '/want', watch: false });
    await step('no certificate: create with auth:: (no authenticated id)', n, {
      op: 'create', path: '/want-auth', data: null, acl: [{ perms: ALL, id: { scheme: 'auth', id: '' } }], flags: 0,
    });
    await step('no certificate: create with x509:alice', n, { op: 'create', path: '/want-x', data: null, acl: [x509(dn.alice as string)], flags: 0 });
    await step('no certificate: getData /want-x', n, { op: 'getData', path: '/want-x', watch: false });
    out.push(['no certificate: ruok over TLS', await fourLetterWord('127.0.0.1', side.secure, 'ruok', 5000, tlsClientOptions(certs, undefined)).catch(() => 'refused')]);
    return out;
  });
});

const x509Auth: ZkRequest = { op: 'auth', type: 0, scheme: 'x509', auth: Buffer.alloc(0) };

test('an auth packet with scheme x509: TLS with a certificate, and the plain port', { timeout: 60_000 }, async (t) => {
  await differential(t, () => need, async (side) => {
    const a = await open(side.secure, 'alice');
    const out: Transcript = [];
    out.push(['need, alice: auth x509', await call(a, x509Auth)]);
    out.push(['need, alice: whoAmI after', await call(a, { op: 'whoAmI' })]);
    const p = await open(side.plain, undefined, true);
    out.push(['plain port: auth x509', await call(p, x509Auth)]);
    out.push(['plain port: connection closed after', await p.waitClosed(3000)]);
    return out;
  });
});

test('an auth packet with scheme x509: TLS without a certificate (clientAuth want)', { timeout: 60_000 }, async (t) => {
  await differential(t, () => want, async (side) => {
    const n = await open(side.secure, undefined);
    const out: Transcript = [];
    out.push(['want, no certificate: auth x509', await call(n, x509Auth)]);
    out.push(['want, no certificate: connection closed after', await n.waitClosed(3000)]);
    return out;
  });
});

test('refused connections: no certificate or an untrusted one under need, an untrusted one under want', { timeout: 60_000 }, async (t) => {
  if (setupSkip) return t.skip(setupSkip);
  const cases: Array<[string, () => Pair, string | undefined]> = [
    ['need, no certificate', () => need, undefined],
    ['need, untrusted certificate (alice\'s subject)', () => need, 'rogue'],
    ['want, untrusted certificate (alice\'s subject)', () => want, 'rogue'],
    ['need, alice (control)', () => need, 'alice'],
    ['want, no certificate (control)', () => want, undefined],
  ];
  const diffs: string[] = [];
  for (const [label, pair, name] of cases) {
    const seen: Record<string, unknown> = {};
    for (const side of [pair().zookeeper, pair().coracle]) {
      const probe = await probeSession(side.secure, tlsClientOptions(certs, name));
      const ruok = await fourLetterWord('127.0.0.1', side.secure, 'ruok', 3000, tlsClientOptions(certs, name)).catch((e: NodeJS.ErrnoException) => `refused (${e.code ?? e.message})`);
      t.diagnostic(`${label} — ${side.name}: ${JSON.stringify(probe)}; ruok: ${ruok}`);
      seen[side.name] = { session: probe.session, hung: probe.timedOut === true, ruok: ruok === 'imok' ? 'imok' : 'refused' };
    }
    try {
      assert.deepStrictEqual(seen.coracle, seen.zookeeper);
    } catch {
      diffs.push(`${label}: zookeeper ${JSON.stringify(seen.zookeeper)} vs coracle ${JSON.stringify(seen.coracle)}`);
    }
    if (label.includes('control')) assert.equal((seen.zookeeper as { session: boolean }).session, true, `${label}: the real server accepts it`);
    else assert.equal((seen.zookeeper as { session: boolean }).session, false, `${label}: the real server refuses it`);
  }
  assert.equal(diffs.length, 0, diffs.join('\n'));
});

test('conf reports secureClientPort on both', { timeout: 30_000 }, async (t) => {
  if (setupSkip) return t.skip(setupSkip);
  for (const side of [need.zookeeper, need.coracle]) {
    const conf = await fourLetterWord('127.0.0.1', side.plain, 'conf');
    assert.match(conf, new RegExp(`^secureClientPort=${side.secure}$`, 'm'), `${side.name}: ${conf}`);
  }
});
