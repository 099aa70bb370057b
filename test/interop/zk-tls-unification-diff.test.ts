/**
 * Differential test of port unification (ZooKeeper's `client.portUnification`): ONE client port
 * that takes plain and TLS clients. A real Apache ZooKeeper 3.8 (NettyServerCnxnFactory,
 * `client.portUnification=true` in zoo.cfg, clientPort only, X509AuthenticationProvider, PEM key
 * and trust stores) and Coracle (`--zk-port-unification` on `--zk-listen`, no
 * `--zk-secure-listen`, the same certificates) get the same scripted raw requests (ZkWireClient)
 * over plain TCP and over TLS on that one port; replies are compared field by field, except
 * zxids, times and session ids (support/zk-reply-diff.ts).
 *
 * Two pairs of servers: clientAuth `need` with an x509 super user, and clientAuth `want`
 * (ZooKeeper 3.8 honours `want` on a unified port: a TLS client without a certificate gets a
 * session with only the ip id). Covered: whoAmI plain (ip) and over TLS (x509 then ip); an x509
 * ACL made over TLS, read by the plain client (NoAuth) and by the TLS clients; each side's
 * znodes seen by the other; the `auth` ACL scheme over TLS and plain; an `auth` packet with
 * scheme x509 on either kind of connection; `ruok` plain (also in pieces, without closing the
 * write side) and over TLS on the same port, and `conf` (no secure port); a first byte 0x16
 * that is not TLS; `cons` listing the plain and the TLS session; refused TLS clients (untrusted
 * certificate, no certificate under need), compared with probeSession, and the port still
 * serving plain clients after them.
 *
 * TLS-layer details (negotiated version, which alert a refused client gets) are printed as
 * diagnostics, not compared: they come from the JDK and from OpenSSL respectively.
 *
 * Each of these fails against a server without port unification: TLS clients get no session at
 * all on a plain-only port (the real server resets them), and the comparisons assert that the
 * real server's TLS answers are the successful ones.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import type { Acl, ZkRequest } from '../../protocol/jute';
import { startCoracle, type CoracleServer } from '../support/coracle-server';
import { requirePeer } from '../support/peers';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import type { TestCerts } from '../support/tls-certs';
import { coracleUnifiedArgs, rawExchange, zookeeperUnifiedConfig } from '../support/zk-port-unification';
import { call, differentialRun, stepper, WireSessions, type DiffPair, type Transcript } from '../support/zk-reply-diff';
import { makeDiffCerts, probeSession, tlsClientOptions, waitSecurePort, zookeeperTlsJvmArgs, type ClientAuth } from '../support/zk-tls-peers';
import { answersRuok, fourLetterWord, startZookeeper, type ZookeeperPeer } from '../support/zookeeper-peer';

/** Client certificates (openssl -subj); Java reports them reversed (RFC 2253). */
const SUBJECTS: Record<string, string> = {
  alice: '/C=US/O=Coracle/OU=eng/CN=alice',
  bob: '/O=Coracle/CN=bob',
  root: '/O=Coracle/OU=ops/CN=root',
};
const ALICE_DN = 'CN=alice,OU=eng,O=Coracle,C=US';
const BOB_DN = 'CN=bob,O=Coracle';
const SUPER_USER = 'CN=root,OU=ops,O=Coracle';

const OPEN: Acl[] = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
const READ = 1;
const ALL = 31;

/** One server under test: its one client port. */
interface Side {
  name: 'zookeeper' | 'coracle';
  port: number;
}

let dir: string | undefined;
let certs: TestCerts;
const zookeepers: ZookeeperPeer[] = [];
const coracles: CoracleServer[] = [];
let need: DiffPair<Side>;
let want: DiffPair<Side>;
let setupSkip: string | undefined;

async function startPair(clientAuth: ClientAuth, superUser: string | undefined): Promise<DiffPair<Side>> {
  const [zk, co] = await Promise.all([
    startZookeeper({ config: zookeeperUnifiedConfig(certs, clientAuth), jvmArgs: zookeeperTlsJvmArgs(superUser), logLevel: 'warn' })
      .then((z) => (zookeepers.push(z), z)),
    startCoracle(coracleUnifiedArgs(certs, clientAuth, superUser)).then((c) => (coracles.push(c), c)),
  ]);
  // Both came up answering plain ruok; now TLS on the same port.
  await Promise.all([waitSecurePort(certs, zk.port, 'alice'), waitSecurePort(certs, co.zkPort, 'alice')]);
  return { zookeeper: { name: 'zookeeper', port: zk.port }, coracle: { name: 'coracle', port: co.zkPort } };
}

before(async () => {
  setupSkip = requirePeer('zookeeper');
  if (setupSkip) return;
  dir = createTempDir('coracle-zk-tls-unification-diff-');
  certs = await makeDiffCerts(dir, SUBJECTS);
  [need, want] = await Promise.all([startPair('need', SUPER_USER), startPair('want', undefined)]);
});

after(async () => {
  await Promise.all([...zookeepers.map((z) => z.stop()), ...coracles.map((c) => c.stop())]);
  if (dir) removeTempDir(dir);
});

const sessions = new WireSessions();

/** A plain session on the port. */
function plain(side: Side): Promise<ZkWireClient> {
  return sessions.connect(side.port, undefined, 'plain');
}

/** A TLS session on the same port with certificate `name` (none when undefined). */
function secure(side: Side, name?: string): Promise<ZkWireClient> {
  return sessions.connect(side.port, tlsClientOptions(certs, name), `TLS ${name ?? 'without a certificate'}`);
}

async function differential(t: TestContext, pair: () => DiffPair<Side>, script: (side: Side) => Promise<Transcript>): Promise<void> {
  if (setupSkip) return t.skip(setupSkip);
  await differentialRun(t, pair(), sessions, script);
}

/** The answer recorded under `label` (to check that the real server's answer is the expected one). */
function answer(out: Transcript, label: string): unknown {
  const hit = out.find(([l]) => l === label);
  assert.ok(hit, `no step ${label}`);
  return hit[1];
}

/** A whoAmI answer as `scheme:user` strings in the server's order. */
function ids(reply: unknown): string[] {
  const body = (reply as { body?: { clientInfo?: Array<{ authScheme: string; user: string }> } }).body;
  return (body?.clientInfo ?? []).map((i) => `${i.authScheme}:${i.user}`);
}

const data = (s: string): Buffer => Buffer.from(s);
const x509 = (id: string, perms = ALL): Acl => ({ perms, id: { scheme: 'x509', id } });
const authAcl: Acl[] = [{ perms: ALL, id: { scheme: 'auth', id: '' } }];
const whoAmI: ZkRequest = { op: 'whoAmI' };

test('whoAmI on the one port: plain gets ip, TLS gets x509 then ip (clientAuth need)', { timeout: 60_000 }, async (t) => {
  const seen: Record<string, Transcript> = {};
  await differential(t, () => need, async (side) => {
    const out: Transcript = [];
    const p = await plain(side);
    const a = await secure(side, 'alice');
    const b = await secure(side, 'bob');
    const p2 = await plain(side);
    // keepOrder: the real server's order (x509 before ip for these subjects).
    out.push(['plain whoAmI', await call(p, whoAmI, true)]);
    out.push(['TLS alice whoAmI', await call(a, whoAmI, true)]);
    out.push(['TLS bob whoAmI', await call(b, whoAmI, true)]);
    out.push(['second plain whoAmI (after TLS sessions)', await call(p2, whoAmI, true)]);
    seen[side.name] = out;
    return out;
  });
  if (setupSkip) return;
  const zk = seen.zookeeper as Transcript;
  assert.deepEqual(ids(answer(zk, 'plain whoAmI')), ['ip:127.0.0.1']);
  assert.deepEqual(ids(answer(zk, 'TLS alice whoAmI')), [`x509:${ALICE_DN}`, 'ip:127.0.0.1']);
  assert.deepEqual(ids(answer(zk, 'TLS bob whoAmI')), [`x509:${BOB_DN}`, 'ip:127.0.0.1']);
});

test('an x509 ACL made over TLS: the plain client gets NoAuth, the owner reads; each side sees the other\'s znodes', { timeout: 60_000 }, async (t) => {
  const seen: Record<string, Transcript> = {};
  await differential(t, () => need, async (side) => {
    const p = await plain(side);
    const a = await secure(side, 'alice');
    const b = await secure(side, 'bob');
    const r = await secure(side, 'root');
    const out: Transcript = [];
    const step = stepper(out);
    await step('plain creates /uni (open)', p, { op: 'create', path: '/uni', data: data('p'), acl: OPEN, flags: 0 });
    await step('alice (TLS) reads /uni', a, { op: 'getData', path: '/uni', watch: false });
    await step('alice creates /uni/owned with x509:alice ALL', a, { op: 'create', path: '/uni/owned', data: data('secret'), acl: [x509(ALICE_DN)], flags: 0 });
    await step('alice getData /uni/owned', a, { op: 'getData', path: '/uni/owned', watch: false });
    await step('alice getACL /uni/owned', a, { op: 'getACL', path: '/uni/owned' });
    await step('plain getData /uni/owned', p, { op: 'getData', path: '/uni/owned', watch: false });
    await step('plain setData /uni/owned', p, { op: 'setData', path: '/uni/owned', data: data('x'), version: -1 });
    await step('plain getACL /uni/owned', p, { op: 'getACL', path: '/uni/owned' });
    await step('plain exists /uni/owned', p, { op: 'exists', path: '/uni/owned', watch: false });
    await step('plain getChildren /uni', p, { op: 'getChildren', path: '/uni', watch: false });
    await step('plain creates /uni/owned/kid', p, { op: 'create', path: '/uni/owned/kid', data: null, acl: OPEN, flags: 0 });
    await step('bob (TLS) getData /uni/owned', b, { op: 'getData', path: '/uni/owned', watch: false });
    await step('root (TLS, super user) getData /uni/owned', r, { op: 'getData', path: '/uni/owned', watch: false });
    await step('alice setData /uni/owned', a, { op: 'setData', path: '/uni/owned', data: data('s2'), version: -1 });
    await step('plain creates /uni/x with x509:alice READ', p, { op: 'create', path: '/uni/x', data: data('px'), acl: [x509(ALICE_DN, READ)], flags: 0 });
    await step('plain getData /uni/x', p, { op: 'getData', path: '/uni/x', watch: false });
    await step('alice getData /uni/x', a, { op: 'getData', path: '/uni/x', watch: false });
    await step('alice setData /uni/x (READ only)', a, { op: 'setData', path: '/uni/x', data: data('y'), version: -1 });
    await step('alice creates /uni/auth with auth:: (expands to x509)', a, { op: 'create', path: '/uni/auth', data: data('a'), acl: authAcl, flags: 0 });
    await step('alice getACL /uni/auth', a, { op: 'getACL', path: '/uni/auth' });
    await step('plain getACL /uni/auth', p, { op: 'getACL', path: '/uni/auth' });
    await step('plain creates /uni/auth2 with auth:: (no authenticated id)', p, { op: 'create', path: '/uni/auth2', data: null, acl: authAcl, flags: 0 });
    await step('alice getChildren /uni', a, { op: 'getChildren', path: '/uni', watch: false });
    await step('plain multiRead /uni and /uni/owned', p, {
      op: 'multiRead', ops: [{ op: 'getData', path: '/uni', watch: false }, { op: 'getData', path: '/uni/owned', watch: false }],
    });
    seen[side.name] = out;
    return out;
  });
  if (setupSkip) return;
  const zk = seen.zookeeper as Transcript;
  assert.deepEqual(answer(zk, 'plain getData /uni/owned'), { err: 'NOAUTH' });
  assert.equal((answer(zk, 'alice getData /uni/owned') as { err: string }).err, 'OK');
  // auth:: made over TLS expands to the connection's x509 id.
  assert.deepEqual((answer(zk, 'alice getACL /uni/auth') as { body?: { acl?: unknown } }).body?.acl, [x509(ALICE_DN)]);
});

test('an auth packet with scheme x509: accepted over TLS, AuthFailed and closed on a plain connection', { timeout: 60_000 }, async (t) => {
  const x509Auth: ZkRequest = { op: 'auth', type: 0, scheme: 'x509', auth: Buffer.alloc(0) };
  await differential(t, () => need, async (side) => {
    const a = await secure(side, 'alice');
    const p = await plain(side);
    const out: Transcript = [];
    out.push(['TLS alice: auth x509', await call(a, x509Auth)]);
    out.push(['TLS alice: whoAmI after', await call(a, whoAmI)]);
    out.push(['plain: auth x509', await call(p, x509Auth)]);
    out.push(['plain: connection closed after', await p.waitClosed(3000)]);
    return out;
  });
});

test('clientAuth want on the one port: TLS without a certificate gets only ip, with one gets x509', { timeout: 60_000 }, async (t) => {
  const seen: Record<string, Transcript> = {};
  await differential(t, () => want, async (side) => {
    const n = await secure(side, undefined);
    const a = await secure(side, 'alice');
    const p = await plain(side);
    const out: Transcript = [];
    const step = stepper(out);
    await step('TLS without a certificate: whoAmI', n, whoAmI);
    await step('TLS alice: whoAmI', a, whoAmI);
    await step('plain: whoAmI', p, whoAmI);
    await step('alice creates /want (x509:alice)', a, { op: 'create', path: '/want', data: data('w'), acl: [x509(ALICE_DN)], flags: 0 });
    await step('TLS without a certificate: getData /want', n, { op: 'getData', path: '/want', watch: false });
    await step('plain: getData /want', p, { op: 'getData', path: '/want', watch: false });
    await step('alice: getData /want', a, { op: 'getData', path: '/want', watch: false });
    await step('TLS without a certificate: create with auth::', n, { op: 'create', path: '/want-auth', data: null, acl: authAcl, flags: 0 });
    seen[side.name] = out;
    return out;
  });
  if (setupSkip) return;
  const zk = seen.zookeeper as Transcript;
  assert.deepEqual(ids(answer(zk, 'TLS without a certificate: whoAmI')), ['ip:127.0.0.1']);
  assert.deepEqual(ids(answer(zk, 'TLS alice: whoAmI')).sort(), ['ip:127.0.0.1', `x509:${ALICE_DN}`]);
});

/** ruok over TLS on `port` with certificate `name`: `imok`, or `refused`. */
async function tlsRuok(port: number, name: string | undefined): Promise<string> {
  const r = await fourLetterWord('127.0.0.1', port, 'ruok', 3000, tlsClientOptions(certs, name)).catch(() => 'refused');
  return r === 'imok' ? r : 'refused';
}

test('ruok plain (whole, in pieces, without closing) and over TLS on the one port', { timeout: 60_000 }, async (t) => {
  if (setupSkip) return t.skip(setupSkip);
  const cases: Array<[string, (port: number) => Promise<unknown>, () => DiffPair<Side>, unknown]> = [
    ['need: plain ruok', (port) => fourLetterWord('127.0.0.1', port, 'ruok', 3000), () => need, 'imok'],
    ['need: plain ruok, one write, write side left open', (port) => rawExchange(port, ['ruok']), () => need, { reply: 'imok', closed: true }],
    ['need: plain ruok as r + uok, 300 ms apart', (port) => rawExchange(port, ['r', 'uok']), () => need, { reply: 'imok', closed: true }],
    ['need: plain srvr starts with the version', async (port) => /^Zookeeper version: /.test(await fourLetterWord('127.0.0.1', port, 'srvr', 3000)), () => need, true],
    ['need: TLS ruok with alice\'s certificate', (port) => tlsRuok(port, 'alice'), () => need, 'imok'],
    ['need: TLS ruok without a certificate', (port) => tlsRuok(port, undefined), () => need, 'refused'],
    ['want: TLS ruok without a certificate', (port) => tlsRuok(port, undefined), () => want, 'imok'],
    ['want: plain ruok', (port) => fourLetterWord('127.0.0.1', port, 'ruok', 3000), () => want, 'imok'],
    ['need: conf over TLS has no secure port', async (port) => /^secureClientPort=.*$/m.exec(await fourLetterWord('127.0.0.1', port, 'conf', 3000, tlsClientOptions(certs, 'alice')))?.[0], () => need, 'secureClientPort=-1'],
    // A TLS record header of type handshake around bytes that are no ClientHello: taken as TLS,
    // answered with a fatal alert record (0x15; which alert differs, JDK vs OpenSSL) and closed.
    ['need: first byte 0x16, not TLS: a TLS alert, then closed', async (port) => {
      const r = await rawExchange(port, [Buffer.from([0x16, 3, 1, 0, 5, 1, 2, 3, 4, 5])]);
      return { alert: r.reply.startsWith('\x15\x03'), closed: r.closed };
    }, () => need, { alert: true, closed: true }],
    ['need: plain ruok after that', (port) => fourLetterWord('127.0.0.1', port, 'ruok', 3000), () => need, 'imok'],
  ];
  const diffs: string[] = [];
  for (const [label, run, pair, expected] of cases) {
    const zk = await run(pair().zookeeper.port).catch((e: Error) => `failed: ${e.message}`);
    const co = await run(pair().coracle.port).catch((e: Error) => `failed: ${e.message}`);
    t.diagnostic(`${label}: zookeeper ${JSON.stringify(zk)} | coracle ${JSON.stringify(co)}`);
    assert.deepStrictEqual(zk, expected, `${label}: the real server's answer`);
    try {
      assert.deepStrictEqual(co, zk);
    } catch {
      diffs.push(`${label}: zookeeper ${JSON.stringify(zk)} vs coracle ${JSON.stringify(co)}`);
    }
  }
  assert.equal(diffs.length, 0, diffs.join('\n'));
});

test('cons (asked plain and over TLS) lists the plain and the TLS session alike', { timeout: 60_000 }, async (t) => {
  if (setupSkip) return t.skip(setupSkip);
  const seen: Record<string, unknown> = {};
  for (const side of [need.zookeeper, need.coracle]) {
    try {
      const p = await plain(side);
      const a = await secure(side, 'alice');
      const sids = new Set([p, a].map((c) => `sid=0x${c.session.sessionId.toString(16)}`));
      const listed = async (tls: boolean): Promise<number> => {
        const cons = await fourLetterWord('127.0.0.1', side.port, 'cons', 3000, tls ? tlsClientOptions(certs, 'alice') : undefined);
        t.diagnostic(`${side.name} cons ${tls ? 'over TLS' : 'plain'}:\n${cons}`);
        // Only the two sessions' lines: the real server also lists the cons connection itself.
        return cons.split('\n').filter((l) => [...sids].some((sid) => l.includes(`${sid},`))).length;
      };
      seen[side.name] = { plainCons: await listed(false), tlsCons: await listed(true) };
    } finally {
      await sessions.closeAll();
    }
  }
  assert.deepStrictEqual(seen.zookeeper, { plainCons: 2, tlsCons: 2 }, 'the real server lists both sessions');
  assert.deepStrictEqual(seen.coracle, seen.zookeeper);
});

test('refused TLS clients on the one port: an untrusted certificate (need, want), none under need; plain still served', { timeout: 60_000 }, async (t) => {
  if (setupSkip) return t.skip(setupSkip);
  const cases: Array<[string, () => DiffPair<Side>, string | undefined, boolean]> = [
    ['need, untrusted certificate (alice\'s subject)', () => need, 'rogue', false],
    ['want, untrusted certificate (alice\'s subject)', () => want, 'rogue', false],
    ['need, no certificate', () => need, undefined, false],
    ['need, alice (control)', () => need, 'alice', true],
    ['want, no certificate (control)', () => want, undefined, true],
  ];
  const diffs: string[] = [];
  for (const [label, pair, name, accepted] of cases) {
    const seen: Record<string, unknown> = {};
    for (const side of [pair().zookeeper, pair().coracle]) {
      const probe = await probeSession(side.port, tlsClientOptions(certs, name));
      const ruok = await tlsRuok(side.port, name);
      // The refusal concerns that connection only: the same port keeps serving plain clients.
      const p = await plain(side).then(async (c) => ids(await call(c, whoAmI))).catch((e: Error) => [`failed: ${e.message}`]);
      await sessions.closeAll();
      const plainRuok = await answersRuok(side.port, 3000);
      t.diagnostic(`${label} — ${side.name}: ${JSON.stringify(probe)}; TLS ruok: ${ruok}; plain session: ${JSON.stringify(p)}; plain ruok: ${plainRuok}`);
      seen[side.name] = { session: probe.session, hung: probe.timedOut === true, ruok, plainSession: p, plainRuok };
    }
    assert.equal((seen.zookeeper as { session: boolean }).session, accepted, `${label}: the real server ${accepted ? 'accepts' : 'refuses'} it`);
    try {
      assert.deepStrictEqual(seen.coracle, seen.zookeeper);
    } catch {
      diffs.push(`${label}: zookeeper ${JSON.stringify(seen.zookeeper)} vs coracle ${JSON.stringify(seen.coracle)}`);
    }
  }
  assert.equal(diffs.length, 0, diffs.join('\n'));
});
