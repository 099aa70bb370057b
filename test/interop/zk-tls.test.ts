/**
 * The secure ZooKeeper port of the `coracle` binary (`--zk-secure-listen`, ZooKeeper's
 * secureClientPort with authProvider.x509), as an operator turns it on: TLS with the server
 * certificate, client certificates checked against the CA (need, want), the x509 identity they
 * give (whoAmI, x509 ACLs, the auth scheme, the x509 super user), the plain port beside it or
 * turned off, four-letter words over TLS, and the usage errors of incomplete TLS flags. Real
 * clients (kazoo, zkCli.sh) and the comparison with ZooKeeper 3.8 are in zk-tls-clients and
 * zk-tls-diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ConnectionOptions } from 'node:tls';
import { ZkErr } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { CORACLE_BIN, CoracleServer, startCoracle } from '../support/coracle-server';
import { pollUntil } from '../support/poll';
import { freePort } from '../support/ports';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { TestCerts, makeTestCerts } from '../support/tls-certs';
import { probeSession, sortedWhoAmI, tlsClientOptions } from '../support/zk-tls-peers';
import { fourLetterWord } from '../support/zookeeper-peer';

const ALICE_DN = 'CN=alice,OU=eng,O=Acme\\, Inc.,C=US';
const BOB_DN = 'CN=bob,O=Coracle';
const ADMIN_DN = 'CN=admin,O=Coracle';

let certs: TestCerts;
let certDir: string;

test.before(async () => {
  certDir = createTempDir('coracle-tls-');
  certs = await makeTestCerts(certDir, [
    { name: 'alice', subject: '/C=US/O=Acme\\, Inc./OU=eng/CN=alice' },
    { name: 'bob', subject: '/O=Coracle/CN=bob' },
    { name: 'admin', subject: '/O=Coracle/CN=admin' },
    { name: 'mallory', subject: '/O=Coracle/CN=mallory', untrusted: true },
  ]);
});
test.after(() => removeTempDir(certDir));

const tlsAs = (name?: string): ConnectionOptions => tlsClientOptions(certs, name);

/** Starts coracle with a secure port on a fresh port; `plain` false turns the plain port off. */
async function startSecure(clientAuth: string, plain = true): Promise<{ server: CoracleServer; securePort: number }> {
  const securePort = await freePort();
  const server = await startCoracle([
    ...(plain ? [] : ['--zk-listen', '']),
    '--zk-secure-listen', `127.0.0.1:${securePort}`, '--zk-tls-cert-file', certs.serverCert, '--zk-tls-key-file', certs.serverKey,
    '--zk-tls-trusted-ca-file', certs.caCert, '--zk-tls-client-auth', clientAuth, '--zk-x509-super-user', ADMIN_DN,
  ]);
  // The secure port opens with the plain one; without a plain port nothing else says it is up.
  await pollUntil('secure ZooKeeper port', async () => ((await fourLetterWord('127.0.0.1', securePort, 'ruok', 5000, tlsAs('bob')).catch(() => '')) === 'imok' ? true : undefined), 15_000);
  return { server, securePort };
}

/** Whether a TLS client with `tls` gets no session on `port` (bounded). */
async function refused(port: number, tls: ConnectionOptions): Promise<boolean> {
  return !(await probeSession(port, tls, 4000)).session;
}

test('clientAuth need: a trusted certificate is the x509 identity; others are refused; the plain port serves beside it', { timeout: 120_000 }, async () => {
  const { server, securePort } = await startSecure('need');
  const open: ZkWireClient[] = [];
  const as = async (name: string): Promise<ZkWireClient> => {
    const z = await ZkWireClient.connect({ host: '127.0.0.1', port: securePort, tls: tlsAs(name) });
    open.push(z);
    return z;
  };
  try {
    const alice = await as('alice');
    assert.deepEqual(await sortedWhoAmI(alice), ['ip:127.0.0.1', `x509:${ALICE_DN}`], 'the subject as ZooKeeper (Java RFC 2253) names it');
    assert.ok(await refused(securePort, tlsAs()), 'no client certificate');
    assert.ok(await refused(securePort, tlsAs('mallory')), 'a certificate the CA did not sign');
    assert.ok(await refused(securePort, { rejectUnauthorized: false }), 'a client that does not trust the server still needs a certificate');

    // An x509 ACL: alice reads; bob, another certificate, gets NOAUTH; the super user reads anything.
    const x509Acl = [{ perms: 31, id: { scheme: 'x509', id: ALICE_DN } }];
    assert.equal((await alice.send({ op: 'create', path: '/mine', data: Buffer.from('secret'), acl: x509Acl, flags: 0 })).header.err, ZkErr.OK);
    const read = async (z: ZkWireClient): Promise<number> => (await z.send({ op: 'getData', path: '/mine', watch: false })).header.err;
    assert.equal(await read(alice), ZkErr.OK);
    const bob = await as('bob');
    assert.equal(await read(bob), ZkErr.NOAUTH);
    const admin = await as('admin');
    assert.deepEqual(await sortedWhoAmI(admin), ['ip:127.0.0.1', 'super:', `x509:${ADMIN_DN}`], 'super shows no user name, as in ZooKeeper');
    assert.equal(await read(admin), ZkErr.OK, '--zk-x509-super-user bypasses ACLs');

    // The auth scheme stands for the connection's x509 identity.
    const authAcl = [{ perms: 31, id: { scheme: 'auth', id: '' } }];
    assert.equal((await bob.send({ op: 'create', path: '/bobs', data: Buffer.alloc(0), acl: authAcl, flags: 0 })).header.err, ZkErr.OK);
    const acl = await bob.send({ op: 'getACL', path: '/bobs' });
    assert.ok(acl.body?.op === 'getACL');
    assert.deepEqual(acl.body.acl, [{ perms: 31, id: { scheme: 'x509', id: BOB_DN } }]);
    const bad = await alice.send({ op: 'setACL', path: '/mine', acl: [{ perms: 31, id: { scheme: 'x509', id: 'not a DN' } }], version: -1 });
    assert.equal(bad.header.err, ZkErr.INVALIDACL);

    // The plain port serves the same tree, with no x509 identity.
    const plain = await ZkWireClient.connect({ host: '127.0.0.1', port: server.zkPort });
    open.push(plain);
    assert.deepEqual(await sortedWhoAmI(plain), ['ip:127.0.0.1']);
    assert.equal((await plain.send({ op: 'getData', path: '/mine', watch: false })).header.err, ZkErr.NOAUTH);
    assert.equal((await plain.send({ op: 'exists', path: '/bobs', watch: false })).header.err, ZkErr.OK);

    const conf = await fourLetterWord('127.0.0.1', securePort, 'conf', 5000, tlsAs('bob'));
    assert.match(conf, new RegExp(`^secureClientPort=${securePort}$`, 'm'), conf);
    assert.match(conf, new RegExp(`^clientPort=${server.zkPort}$`, 'm'));
  } finally {
    for (const z of open) await z.close();
    await server.stop();
  }
});

test('clientAuth want: no certificate connects without an x509 id; an untrusted one is refused; the plain port can be off', { timeout: 90_000 }, async () => {
  const { server, securePort } = await startSecure('want', false);
  const open: ZkWireClient[] = [];
  try {
    const anon = await ZkWireClient.connect({ host: '127.0.0.1', port: securePort, tls: tlsAs() });
    open.push(anon);
    assert.deepEqual(await sortedWhoAmI(anon), ['ip:127.0.0.1']);
    const bob = await ZkWireClient.connect({ host: '127.0.0.1', port: securePort, tls: tlsAs('bob') });
    open.push(bob);
    assert.deepEqual(await sortedWhoAmI(bob), ['ip:127.0.0.1', `x509:${BOB_DN}`]);
    assert.ok(await refused(securePort, tlsAs('mallory')), 'a presented certificate must be trusted');
    assert.equal(await fourLetterWord('127.0.0.1', server.zkPort, 'ruok', 2000).catch(() => 'refused'), 'refused', '--zk-listen "" turns the plain port off');
    const conf = await fourLetterWord('127.0.0.1', securePort, 'conf', 5000, tlsAs());
    assert.match(conf, /^clientPort=-1$/m, conf);
  } finally {
    for (const z of open) await z.close();
    await server.stop();
  }
});

test('incomplete TLS flags are usage errors that name what is missing', { timeout: 60_000 }, () => {
  const cases: [string[], RegExp][] = [
    [['--zk-secure-listen', '127.0.0.1:0'], /needs --zk-tls-cert-file and --zk-tls-key-file/],
    [['--zk-secure-listen', '127.0.0.1:0', '--zk-tls-cert-file', certs.serverCert, '--zk-tls-key-file', certs.serverKey], /--zk-tls-client-auth need needs --zk-tls-trusted-ca-file/],
    [['--zk-secure-listen', '127.0.0.1:0', '--zk-tls-cert-file', '/nonexistent.pem', '--zk-tls-key-file', certs.serverKey, '--zk-tls-client-auth', 'none'], /cannot read --zk-tls-cert-file \/nonexistent\.pem/],
    [['--zk-tls-client-auth', 'sometimes'], /need, want or none/],
  ];
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [CORACLE_BIN, '--data-dir', `${certDir}/never`, ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
