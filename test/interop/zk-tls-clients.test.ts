/**
 * Real ZooKeeper clients against Coracle's secure client port (`--zk-secure-listen`, TLS with
 * `--zk-tls-client-auth need` and the test CA): kazoo 2.8 (`use_ssl=True` with a client
 * certificate), zkCli.sh 3.8 (the Java client with ClientCnxnSocketNetty; see
 * support/zk-tls-peers.ts for its classpath), and the four-letter word `ruok` over TLS.
 *
 * Then the same clients on ONE port with port unification (`--zk-port-unification` on
 * `--zk-listen`, no `--zk-secure-listen`): kazoo over TLS next to a plain kazoo client, and
 * zkCli.sh over TLS next to a plain zkCli.sh, on the same port at once. Each sees the other's
 * znodes and watches fire across; the TLS client has its x509 identity (kazoo has no whoAmI:
 * an `auth::` ACL made over TLS expands to it, and x509 ACLs let the TLS client in and keep the
 * plain one out; zkCli.sh prints it with `whoami`), the plain client only its ip.
 *
 * The C client is not exercised: Debian's zookeeper-bin 3.8 is built without SSL (cli_mt has no
 * `-s`/`--ssl` option, libzookeeper_mt.so.2 exports no `zookeeper_init_ssl` and does not link
 * libssl), so it cannot reach a TLS port at all.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCoracle, type CoracleServer } from '../support/coracle-server';
import { kazoo } from '../support/kazoo';
import { requirePeer } from '../support/peers';
import { freePort } from '../support/ports';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { makeTestCerts, type TestCerts } from '../support/tls-certs';
import { withoutSessionEvents, zkCli } from '../support/zk-cli';
import { coracleUnifiedArgs } from '../support/zk-port-unification';
import { coracleTlsArgs, probeSession, tlsClientOptions, waitSecurePort, zkCliTls } from '../support/zk-tls-peers';
import { fourLetterWord } from '../support/zookeeper-peer';

/** Java's RFC 2253 rendering of the subjects below (RDNs reversed). */
const ALICE_DN = 'CN=alice,OU=eng,O=Coracle,C=US';
const BOB_DN = 'CN=bob,O=Coracle,C=US';

let dir: string | undefined;
let certs: TestCerts;
let server: CoracleServer | undefined;
let securePort: number;

before(async () => {
  dir = createTempDir('coracle-zk-tls-clients-');
  certs = await makeTestCerts(dir, [
    { name: 'alice', subject: '/C=US/O=Coracle/OU=eng/CN=alice' },
    { name: 'bob', subject: '/C=US/O=Coracle/CN=bob' },
    // Same subject as alice, signed by a CA the server does not trust.
    { name: 'rogue', subject: '/C=US/O=Coracle/OU=eng/CN=alice', untrusted: true },
  ]);
  securePort = await freePort();
  server = await startCoracle(coracleTlsArgs(certs, securePort, 'need'));
  await waitSecurePort(certs, securePort, 'alice');
});

after(async () => {
  await server?.stop();
  if (dir) removeTempDir(dir);
});

const KAZOO_TLS = `
import threading
from kazoo.security import make_acl
from kazoo.exceptions import NoAuthError
def client(name):
    c = args['certs'].get(name) if name else None
    return KazooClient(hosts=hosts, timeout=10, use_ssl=True, ca=args['ca'],
                       certfile=c['cert'] if c else None, keyfile=c['key'] if c else None, verify_certs=True)
out = {}
a = client('alice'); b = client('bob')
try:
    a.start(timeout=10); b.start(timeout=10)
    a.create('/kz', b'v1')
    out['get1'] = a.get('/kz')[0]
    out['setVersion'] = a.set('/kz', b'v2').version
    out['getByBob'] = b.get('/kz')[0]
    out['eph'] = a.create('/kz/eph', b'e', ephemeral=True)
    out['ephOwnedByA'] = a.exists('/kz/eph').ephemeralOwner == a.client_id[0]
    fired = threading.Event(); events = []
    def on_change(event):
        events.append([event.type, event.path]); fired.set()
    out['beforeWatch'] = b.get('/kz', watch=on_change)[0]
    a.set('/kz', b'v3')
    out['watchFired'] = fired.wait(5)
    out['events'] = events
    a.create('/kz/secret', b's', acl=[make_acl('x509', args['aliceDn'], all=True)])
    out['ownerRead'] = a.get('/kz/secret')[0]
    out['acl'] = [[x.perms, x.id.scheme, x.id.id] for x in a.get_acls('/kz/secret')[0]]
    try:
        b.get('/kz/secret'); out['otherRead'] = 'allowed'
    except NoAuthError:
        out['otherRead'] = 'NoAuthError'
    try:
        b.set('/kz/secret', b'x'); out['otherWrite'] = 'allowed'
    except NoAuthError:
        out['otherWrite'] = 'NoAuthError'
    a.stop(); a.close()
    out['ephAfterClose'] = b.exists('/kz/eph')
    # Deleting needs DELETE on the parent only (open), not on the x509-protected node itself.
    b.delete('/kz/secret'); b.delete('/kz')
finally:
    for c in (a, b):
        try:
            c.stop(); c.close()
        except Exception:
            pass
result = out
`;

const KAZOO_REFUSED = `
out = {}
for name in ['none', 'rogue']:
    c = args['certs'].get(name)
    z = KazooClient(hosts=hosts, timeout=10, use_ssl=True, ca=args['ca'],
                    certfile=c['cert'] if c else None, keyfile=c['key'] if c else None, verify_certs=True)
    try:
        z.start(timeout=3)
        out[name] = 'connected'
    except Exception as e:
        out[name] = type(e).__name__
    finally:
        z.stop(); z.close()
result = out
`;

function kazooArgs(): unknown {
  const cs: Record<string, { cert: string; key: string }> = {};
  for (const [n, c] of Object.entries(certs.clients)) cs[n] = { cert: c.cert, key: c.key };
  return { ca: certs.caCert, certs: cs, aliceDn: ALICE_DN };
}

test('kazoo over TLS with client certificates: CRUD, ephemeral, data watch, x509 ACL', { timeout: 60_000 }, async (t) => {
  const skip = requirePeer('kazoo');
  if (skip) return t.skip(skip);
  const r = await kazoo<Record<string, unknown>>(`127.0.0.1:${securePort}`, KAZOO_TLS, { connect: false, args: kazooArgs(), timeoutMs: 45_000 });
  assert.equal(r.get1, 'v1');
  assert.equal(r.setVersion, 1);
  assert.equal(r.getByBob, 'v2');
  assert.equal(r.eph, '/kz/eph');
  assert.equal(r.ephOwnedByA, true, 'the ephemeral belongs to the creating TLS session');
  assert.equal(r.beforeWatch, 'v2');
  assert.equal(r.watchFired, true, 'the data watch set over TLS fired');
  assert.deepEqual(r.events, [['CHANGED', '/kz']]);
  assert.equal(r.ownerRead, 's');
  assert.deepEqual(r.acl, [[31, 'x509', ALICE_DN]]);
  assert.equal(r.otherRead, 'NoAuthError', `${BOB_DN} must not read a node whose ACL is x509:${ALICE_DN}`);
  assert.equal(r.otherWrite, 'NoAuthError');
  assert.equal(r.ephAfterClose, null, 'closing the TLS session removed its ephemeral');
});

test('kazoo over TLS without a certificate, or with an untrusted one, cannot connect (clientAuth need)', { timeout: 60_000 }, async (t) => {
  const skip = requirePeer('kazoo');
  if (skip) return t.skip(skip);
  const r = await kazoo<Record<string, string>>(`127.0.0.1:${securePort}`, KAZOO_REFUSED, { connect: false, args: kazooArgs(), timeoutMs: 30_000 });
  assert.deepEqual(r, { none: 'KazooTimeoutError', rogue: 'KazooTimeoutError' });
  // The same refusals seen from a raw TLS session attempt: no ConnectResponse ever arrives.
  for (const name of [undefined, 'rogue']) {
    const p = await probeSession(securePort, tlsClientOptions(certs, name));
    assert.equal(p.session, false, `${name ?? 'no certificate'}: refused (${JSON.stringify(p)})`);
    assert.notEqual(p.timedOut, true, `${name ?? 'no certificate'}: the server closes the connection instead of leaving it hanging`);
  }
  const ok = await probeSession(securePort, tlsClientOptions(certs, 'alice'));
  assert.equal(ok.session, true, `a trusted certificate gets a session (${JSON.stringify(ok)})`);
});

test('zkCli.sh over TLS (ClientCnxnSocketNetty, PEM key and trust stores)', { timeout: 90_000 }, async (t) => {
  const skip = requirePeer('zkCli');
  if (skip) return t.skip(skip);
  const connect = `127.0.0.1:${securePort}`;
  const a = await zkCliTls(connect, [
    'create /cli data1',
    'create -e /cli/eph e',
    'get /cli',
    'ls /cli',
    'set /cli data2',
    'get -s /cli',
    'whoami',
    'setAcl /cli auth::cdrwa',
    'getAcl /cli',
  ], certs, 'alice');
  const out = a.stdout;
  assert.match(out, /WatchedEvent state:SyncConnected/, out);
  assert.match(out, /Created \/cli\n/);
  assert.match(out, /Created \/cli\/eph\n/);
  assert.match(out, /\ndata1\n/);
  assert.match(out, /\n\[eph\]\n/);
  assert.match(out, /data2\ncZxid = 0x[0-9a-f]+\n[\s\S]*dataVersion = 1\naclVersion = 0\nephemeralOwner = 0x0\ndataLength = 5\nnumChildren = 1/);
  assert.match(out, /Auth scheme: User\n/);
  assert.match(out, /\nx509: CN=alice,OU=eng,O=Coracle,C=US\n/);
  assert.match(out, /\nip: 127\.0\.0\.1\n/);
  // zkCli URL-encodes the id's commas when it prints an ACL.
  assert.match(out, /'x509,'CN=alice%2COU=eng%2CO=Coracle%2CC=US\n: cdrwa/, 'auth:: expanded to the x509 identity');
  assert.doesNotMatch(out, /ConnectionLoss|NoClassDefFoundError/);

  const b = await zkCliTls(connect, ['get /cli', 'set /cli x', 'whoami'], certs, 'bob');
  assert.match(withoutSessionEvents(b.stdout), /Insufficient permission : \/cli\nInsufficient permission : \/cli\n/, b.stdout);
  assert.match(b.stdout, /\nx509: CN=bob,O=Coracle,C=US\n/);

  const c = await zkCliTls(connect, ['deleteall /cli', 'ls /'], certs, 'alice');
  assert.match(c.stdout, /\n\[(\w+, )*zookeeper\]\n/, c.stdout);
  assert.doesNotMatch(c.stdout, /\[.*\bcli\b.*\]/, 'deleteall removed /cli');
});

test('four-letter word ruok over TLS answers imok', { timeout: 30_000 }, async () => {
  assert.equal(await fourLetterWord('127.0.0.1', securePort, 'ruok', 5000, tlsClientOptions(certs, 'alice')), 'imok');
});

describe('port unification: TLS and plain clients on the one --zk-listen port', () => {
  let unified: CoracleServer | undefined;
  let port: number;

  before(async () => {
    unified = await startCoracle(coracleUnifiedArgs(certs, 'need'));
    port = unified.zkPort;
    await waitSecurePort(certs, port, 'alice');
  });

  after(async () => {
    await unified?.stop();
  });

  const KAZOO_UNIFIED = `
import threading
from kazoo.security import make_acl
from kazoo.exceptions import NoAuthError, InvalidACLError
c = args['certs']['alice']
s = KazooClient(hosts=hosts, timeout=10, use_ssl=True, ca=args['ca'], certfile=c['cert'], keyfile=c['key'], verify_certs=True)
p = KazooClient(hosts=hosts, timeout=10)
out = {}
def outcome(f):
    try:
        f(); return 'allowed'
    except (NoAuthError, InvalidACLError) as e:
        return type(e).__name__
try:
    s.start(timeout=10); p.start(timeout=10)
    s.create('/uni', b'from-tls')
    p.create('/uni/plain', b'from-plain')
    out['plainReadsTlsNode'] = p.get('/uni')[0]
    out['tlsReadsPlainNode'] = s.get('/uni/plain')[0]
    out['eph'] = s.create('/uni/eph', b'e', ephemeral=True)
    out['plainSeesChildren'] = sorted(p.get_children('/uni'))
    fired = threading.Event(); events = []
    def on_change(event):
        events.append([event.type, event.path]); fired.set()
    p.get('/uni/plain', watch=on_change)
    s.set('/uni/plain', b'set-over-tls')
    out['plainWatchFired'] = fired.wait(5)
    out['events'] = events
    s.create('/uni/mine', b'm', acl=[make_acl('auth', '', all=True)])
    out['authAcl'] = [[x.perms, x.id.scheme, x.id.id] for x in s.get_acls('/uni/mine')[0]]
    out['tlsReadsMine'] = s.get('/uni/mine')[0]
    out['plainReadsMine'] = outcome(lambda: p.get('/uni/mine'))
    out['plainAuthAcl'] = outcome(lambda: p.create('/uni/p-auth', b'', acl=[make_acl('auth', '', all=True)]))
    p.create('/uni/for-alice', b'f', acl=[make_acl('x509', args['aliceDn'], read=True)])
    out['tlsReadsForAlice'] = s.get('/uni/for-alice')[0]
    out['plainReadsForAlice'] = outcome(lambda: p.get('/uni/for-alice'))
    s.stop(); s.close()
    out['ephAfterTlsClose'] = p.exists('/uni/eph')
    # Deleting needs DELETE on the parent only (open): the plain client may delete the x509 nodes.
    for child in p.get_children('/uni'):
        p.delete('/uni/' + child)
    p.delete('/uni')
finally:
    for z in (s, p):
        try:
            z.stop(); z.close()
        except Exception:
            pass
result = out
`;

  test('kazoo over TLS and plain kazoo on the same port: shared znodes, a watch across, x509 identity only over TLS', { timeout: 60_000 }, async (t) => {
    const skip = requirePeer('kazoo');
    if (skip) return t.skip(skip);
    const r = await kazoo<Record<string, unknown>>(`127.0.0.1:${port}`, KAZOO_UNIFIED, { connect: false, args: kazooArgs(), timeoutMs: 45_000 });
    assert.equal(r.plainReadsTlsNode, 'from-tls');
    assert.equal(r.tlsReadsPlainNode, 'from-plain');
    assert.deepEqual(r.plainSeesChildren, ['eph', 'plain']);
    assert.equal(r.plainWatchFired, true, 'a watch set by the plain client fired on a write over TLS');
    assert.deepEqual(r.events, [['CHANGED', '/uni/plain']]);
    assert.deepEqual(r.authAcl, [[31, 'x509', ALICE_DN]], 'auth:: over TLS expanded to the x509 identity');
    assert.equal(r.tlsReadsMine, 'm');
    assert.equal(r.plainReadsMine, 'NoAuthError', 'the plain client has no x509 identity');
    assert.equal(r.plainAuthAcl, 'InvalidACLError', 'the plain client has no authenticated id for auth::');
    assert.equal(r.tlsReadsForAlice, 'f');
    assert.equal(r.plainReadsForAlice, 'NoAuthError');
    assert.equal(r.ephAfterTlsClose, null, 'closing the TLS session removed its ephemeral');
  });

  test('zkCli.sh over TLS and plain zkCli.sh on the same port: shared znodes, whoami x509 only over TLS', { timeout: 120_000 }, async (t) => {
    const skip = requirePeer('zkCli');
    if (skip) return t.skip(skip);
    const connect = `127.0.0.1:${port}`;
    const p1 = await zkCli(connect, ['create /cliu plain-data', 'whoami'], { mergeStderr: true });
    assert.match(p1.stdout, /Created \/cliu\n/, p1.stdout);
    assert.match(p1.stdout, /Auth scheme: User\nip: 127\.0\.0\.1\n/);
    assert.doesNotMatch(p1.stdout, /x509/, 'a plain zkCli has no x509 identity');

    const a = await zkCliTls(connect, [
      'get /cliu',
      'create /cliu/tls tls-data',
      'setAcl /cliu/tls auth::cdrwa',
      'getAcl /cliu/tls',
      'create /cliu/open open-data',
      'whoami',
    ], certs, 'alice');
    assert.match(a.stdout, /WatchedEvent state:SyncConnected/, a.stdout);
    assert.match(a.stdout, /\nplain-data\n/, 'the TLS client reads the plain client\'s znode');
    assert.match(a.stdout, /Created \/cliu\/tls\n/);
    assert.match(a.stdout, /'x509,'CN=alice%2COU=eng%2CO=Coracle%2CC=US\n: cdrwa/, 'auth:: expanded to the x509 identity');
    assert.match(a.stdout, /\nx509: CN=alice,OU=eng,O=Coracle,C=US\n/);
    assert.match(a.stdout, /\nip: 127\.0\.0\.1\n/);
    assert.doesNotMatch(a.stdout, /ConnectionLoss|NoClassDefFoundError/);

    const p2 = await zkCli(connect, [
      'ls /cliu', 'get /cliu/open', 'get /cliu/tls',
      // Not deleteall: it lists /cliu/tls's children, which needs READ there.
      'delete /cliu/tls', 'delete /cliu/open', 'delete /cliu', 'ls /',
    ], { mergeStderr: true });
    assert.match(p2.stdout, /\[(open, tls|tls, open)\]\n/, p2.stdout);
    assert.match(p2.stdout, /\nopen-data\n/, 'the plain client reads the TLS client\'s znode');
    assert.match(p2.stdout, /Insufficient permission : \/cliu\/tls\n/, 'the x509-only znode is closed to the plain client');
    assert.doesNotMatch(p2.stdout, /\[.*\bcliu\b.*\]/, 'the plain client deleted /cliu and its children');
  });

  test('ruok plain and over TLS on the same port', { timeout: 30_000 }, async () => {
    assert.equal(await fourLetterWord('127.0.0.1', port, 'ruok', 5000), 'imok');
    assert.equal(await fourLetterWord('127.0.0.1', port, 'ruok', 5000, tlsClientOptions(certs, 'alice')), 'imok');
  });
});
