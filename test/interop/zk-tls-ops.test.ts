/**
 * Operating the ZooKeeper TLS support of the `coracle` binary: port unification
 * (`--zk-port-unification`, ZooKeeper's client.portUnification: the plain port also takes TLS
 * clients, told apart by the first byte), certificate revocation lists (`--zk-tls-crl-file`) and
 * reloading the PEM files without a restart (`--zk-tls-reload-interval`: new connections get the
 * new files, existing ones keep theirs, broken files keep the last good ones). The secure port's
 * basics (need/want, x509 identities and ACLs) are in zk-tls.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { ConnectionOptions, connect as connectTls } from 'node:tls';
import { ZkErr } from '../../protocol/jute';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { CORACLE_BIN, CoracleServer, startCoracle } from '../support/coracle-server';
import { pollUntil, sleep } from '../support/poll';
import { freePort } from '../support/ports';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { TestCerts, makeCrl, makeServerCert, makeTestCerts } from '../support/tls-certs';
import { probeSession, sortedWhoAmI, tlsClientOptions, waitSecurePort } from '../support/zk-tls-peers';
import { fourLetterWord } from '../support/zookeeper-peer';

const BOB_DN = 'CN=bob,O=Coracle';
const OPEN_ACL = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

let certs: TestCerts;
let certDir: string;
/** A CRL of the test CA revoking mallory2 (a certificate the CA signed). */
let crlFile: string;

test.before(async () => {
  certDir = createTempDir('coracle-tls-ops-');
  certs = await makeTestCerts(certDir, [
    { name: 'bob', subject: '/O=Coracle/CN=bob' },
    { name: 'mallory2', subject: '/O=Coracle/CN=mallory2' },
    { name: 'mallory', subject: '/O=Coracle/CN=mallory', untrusted: true },
  ]);
  crlFile = await makeCrl(certs, ['mallory2']);
});
test.after(() => removeTempDir(certDir));

const tlsAs = (name?: string): ConnectionOptions => tlsClientOptions(certs, name);

/** The TLS flags with the test CA's files (`files` overrides some of them). */
function tlsArgs(files: { cert?: string; key?: string; ca?: string } = {}): string[] {
  return ['--zk-tls-cert-file', files.cert ?? certs.serverCert, '--zk-tls-key-file', files.key ?? certs.serverKey,
    '--zk-tls-trusted-ca-file', files.ca ?? certs.caCert];
}

async function getData(z: ZkWireClient, p: string): Promise<string | number> {
  const r = await z.send({ op: 'getData', path: p, watch: false });
  return r.header.err === ZkErr.OK && r.body?.op === 'getData' ? String(r.body.data) : r.header.err;
}

async function create(z: ZkWireClient, p: string, data: string): Promise<void> {
  assert.equal((await z.send({ op: 'create', path: p, data: Buffer.from(data), acl: OPEN_ACL, flags: 0 })).header.err, ZkErr.OK, `create ${p}`);
}

/** Whether a TLS client with `opts` gets a session on `port` (bounded). */
async function accepted(port: number, opts: ConnectionOptions): Promise<boolean> {
  return (await probeSession(port, opts, 4000)).session;
}

/** The SHA-256 fingerprint of the certificate the server on `port` presents to a new TLS connection. */
function serverFingerprint(port: number, opts: ConnectionOptions, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connectTls({ ...opts, host: '127.0.0.1', port });
    const timer = setTimeout(() => s.destroy(new Error(`TLS to ${port}: no handshake within ${timeoutMs} ms`)), timeoutMs);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      const fp = s.getPeerCertificate().fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

const fingerprintOf = (pemFile: string): string => new X509Certificate(readFileSync(pemFile)).fingerprint256;

/** Replace `to` with `from`'s bytes in one rename (a reader never sees half a file). */
function replaceFile(to: string, content: Buffer | string): void {
  const tmp = `${to}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, to);
}

/** Runs `body` with a list for the clients it opens, then closes them and stops `server`. */
async function withServer(server: CoracleServer, body: (open: ZkWireClient[]) => Promise<void>): Promise<void> {
  const open: ZkWireClient[] = [];
  try {
    await body(open);
  } finally {
    for (const z of open) await z.close();
    await server.stop();
  }
}

async function connect(open: ZkWireClient[], port: number, tls?: ConnectionOptions): Promise<ZkWireClient> {
  const z = await ZkWireClient.connect({ host: '127.0.0.1', port, tls, timeoutMs: 10_000 });
  open.push(z);
  return z;
}

test('port unification: plain and TLS clients on one port share the tree; TLS ones get their x509 identity', { timeout: 120_000 }, async () => {
  const server = await startCoracle(['--zk-port-unification', ...tlsArgs()]);
  const port = server.zkPort;
  await withServer(server, async (open) => {
    const plain = await connect(open, port);
    const bob = await connect(open, port, tlsAs('bob'));
    assert.deepEqual(await sortedWhoAmI(plain), ['ip:127.0.0.1']);
    assert.deepEqual(await sortedWhoAmI(bob), ['ip:127.0.0.1', `x509:${BOB_DN}`], 'the same x509 identity as on the secure port');
    await create(plain, '/from-plain', 'p');
    await create(bob, '/from-tls', 't');
    assert.equal(await getData(bob, '/from-plain'), 'p');
    assert.equal(await getData(plain, '/from-tls'), 't');

    assert.equal(await fourLetterWord('127.0.0.1', port, 'ruok', 5000), 'imok', 'a plain four-letter word');
    assert.equal(await fourLetterWord('127.0.0.1', port, 'ruok', 5000, tlsAs('bob')), 'imok', 'a four-letter word over TLS');

    // need (the default): no certificate, or one the CA did not sign, is refused; plain clients go on.
    assert.equal(await accepted(port, tlsAs('mallory')), false, 'an untrusted certificate');
    assert.equal(await accepted(port, tlsAs()), false, 'no certificate');
    assert.equal(await getData(plain, '/from-tls'), 't', 'the plain session is unaffected');
    assert.equal(await getData(bob, '/from-plain'), 'p', 'the TLS session is unaffected');
    const plain2 = await connect(open, port);
    assert.equal(await getData(plain2, '/from-tls'), 't', 'new plain sessions still open');
  });
});

test('without --zk-port-unification the plain port does not speak TLS (even with a secure port configured)', { timeout: 90_000 }, async () => {
  const securePort = await freePort();
  const server = await startCoracle(['--zk-secure-listen', `127.0.0.1:${securePort}`, ...tlsArgs()]);
  await withServer(server, async () => {
    await waitSecurePort(certs, securePort, 'bob');
    assert.equal(await accepted(securePort, tlsAs('bob')), true, 'the secure port takes bob');
    assert.equal(await accepted(server.zkPort, tlsAs('bob')), false, 'the plain port does not');
    // No CRL here: mallory2's certificate is valid, so its refusal in the CRL tests is the CRL's doing.
    assert.equal(await accepted(securePort, tlsAs('mallory2')), true, 'mallory2 without a CRL');
    assert.equal(await fourLetterWord('127.0.0.1', server.zkPort, 'ruok', 5000), 'imok');
  });
});

test('unification, CRL and reload flags: usage errors name what to fix', { timeout: 60_000 }, () => {
  const cases: [string[], RegExp][] = [
    [['--zk-port-unification'], /--zk-tls-cert-file/],
    [['--zk-port-unification', '--zk-tls-cert-file', certs.serverCert, '--zk-tls-trusted-ca-file', certs.caCert], /--zk-tls-key-file/],
    [['--zk-port-unification', ...tlsArgs(), '--zk-listen', ''], /--zk-listen/],
    [['--zk-port-unification', ...tlsArgs(), '--zk-tls-crl-file', '/nonexistent-crl.pem'], /--zk-tls-crl-file/],
    [['--zk-port-unification', ...tlsArgs(), '--zk-tls-reload-interval', 'soon'], /--zk-tls-reload-interval/],
  ];
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [CORACLE_BIN, '--data-dir', `${certDir}/never`, ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('CRL with need: a revoked certificate is refused on the secure and the unified port; others connect', { timeout: 90_000 }, async () => {
  const securePort = await freePort();
  const server = await startCoracle([
    '--zk-secure-listen', `127.0.0.1:${securePort}`, '--zk-port-unification', ...tlsArgs(), '--zk-tls-crl-file', crlFile,
  ]);
  await withServer(server, async (open) => {
    await waitSecurePort(certs, securePort, 'bob');
    for (const port of [securePort, server.zkPort]) {
      assert.equal(await accepted(port, tlsAs('mallory2')), false, `revoked mallory2 on ${port}`);
      const bob = await connect(open, port, tlsAs('bob'));
      assert.deepEqual(await sortedWhoAmI(bob), ['ip:127.0.0.1', `x509:${BOB_DN}`], `bob on ${port}`);
    }
    assert.equal(await fourLetterWord('127.0.0.1', server.zkPort, 'ruok', 5000), 'imok', 'plain clients on the unified port');
  });
});

test('CRL with want: a revoked certificate is closed after the handshake; no certificate connects', { timeout: 90_000 }, async () => {
  const securePort = await freePort();
  const server = await startCoracle([
    '--zk-secure-listen', `127.0.0.1:${securePort}`, ...tlsArgs(), '--zk-tls-client-auth', 'want', '--zk-tls-crl-file', crlFile,
  ]);
  await withServer(server, async (open) => {
    await waitSecurePort(certs, securePort, undefined);
    const probe = await probeSession(securePort, tlsAs('mallory2'), 4000);
    assert.equal(probe.session, false, `revoked mallory2: ${JSON.stringify(probe)}`);
    assert.equal(probe.timedOut, undefined, 'closed, not left hanging');
    const anon = await connect(open, securePort, tlsAs());
    assert.deepEqual(await sortedWhoAmI(anon), ['ip:127.0.0.1']);
    const bob = await connect(open, securePort, tlsAs('bob'));
    assert.deepEqual(await sortedWhoAmI(bob), ['ip:127.0.0.1', `x509:${BOB_DN}`]);
  });
});

test('reload: new connections get new files, existing sessions keep working, broken files keep the last good ones', { timeout: 150_000 }, async () => {
  const dir = createTempDir('coracle-tls-reload-');
  const files = { cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key'), ca: path.join(dir, 'ca.pem') };
  copyFileSync(certs.serverCert, files.cert);
  copyFileSync(certs.serverKey, files.key);
  copyFileSync(certs.caCert, files.ca);
  const server2 = await makeServerCert(certs, 'server2');
  const securePort = await freePort();
  const server = await startCoracle([
    '--zk-secure-listen', `127.0.0.1:${securePort}`, '--zk-port-unification', ...tlsArgs(files),
    '--zk-tls-reload-interval', '200', '--log-level', 'info',
  ]);
  const ports = [securePort, server.zkPort];
  const fingerprints = async (): Promise<string[]> => Promise.all(ports.map((p) => serverFingerprint(p, tlsAs('bob'))));
  try {
    await withServer(server, async (open) => {
      await waitSecurePort(certs, securePort, 'bob');
      const fp1 = fingerprintOf(certs.serverCert);
      const fp2 = fingerprintOf(server2.cert);
      assert.notEqual(fp1, fp2);
      assert.deepEqual(await fingerprints(), [fp1, fp1]);
      const before = await connect(open, securePort, tlsAs('bob'));
      await create(before, '/reload', 'v1');

      // A new certificate and key (same CA): new connections on both ports see it.
      const sinceSwap = server.process.lineCount;
      replaceFile(files.key, readFileSync(server2.key));
      replaceFile(files.cert, readFileSync(server2.cert));
      await pollUntil('the new server certificate', async () => ((await fingerprints()).every((f) => f === fp2) ? true : undefined), 10_000, 200);
      await server.process.waitForLine('reloaded the ZooKeeper TLS files', 5000, sinceSwap);
      assert.equal(await getData(before, '/reload'), 'v1', 'a session opened before the swap still answers');
      const after = await connect(open, securePort, tlsAs('bob'));
      assert.deepEqual(await sortedWhoAmI(after), ['ip:127.0.0.1', `x509:${BOB_DN}`]);

      // A key that does not match the certificate, then a garbage certificate: the last good files stay.
      const sinceBroken = server.process.lineCount;
      replaceFile(files.key, readFileSync(certs.clients.bob!.key));
      await server.process.waitForLine('cannot reload the ZooKeeper TLS files', 5000, sinceBroken);
      replaceFile(files.cert, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
      for (let i = 0; i < 6; i++) {
        await sleep(250);
        assert.deepEqual(await fingerprints(), [fp2, fp2], `still the last good certificate (check ${i})`);
      }
      const stillOk = await connect(open, server.zkPort, tlsAs('bob'));
      assert.equal(await getData(stillOk, '/reload'), 'v1', 'new TLS sessions still open with the last good files');
      assert.equal(await getData(before, '/reload'), 'v1');

      // CA rotation: a client of the second CA is refused until the CA file holds both CAs.
      assert.equal(await accepted(securePort, tlsAs('mallory')), false, 'second-CA client before the rotation');
      replaceFile(files.ca, Buffer.concat([readFileSync(certs.caCert), readFileSync(certs.untrustedCaCert)]));
      replaceFile(files.key, readFileSync(server2.key));
      replaceFile(files.cert, readFileSync(server2.cert));
      await pollUntil('the second CA trusted', async () => ((await accepted(securePort, tlsAs('mallory'))) ? true : undefined), 10_000, 200);
      assert.equal(await accepted(server.zkPort, tlsAs('mallory')), true, 'and on the unified port');
      assert.equal(await accepted(securePort, tlsAs('bob')), true, 'first-CA clients still accepted');
      assert.equal(await getData(before, '/reload'), 'v1');
    });
  } finally {
    removeTempDir(dir);
  }
});
