/**
 * `coracle zk-migrate` from a ZooKeeper served over TLS only (a secureClientPort that asks for a
 * client certificate): the copy connects with --from-cacert, --from-cert and --from-key. The
 * source is a `coracle` with its plain port off, whose secure port behaves as ZooKeeper's
 * (test/interop/zk-tls-diff.test.ts compares the two).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { CORACLE_BIN, startCoracle } from '../support/coracle-server';
import { freePorts, releasePorts } from '../support/ports';
import { makeTestCerts } from '../support/tls-certs';
import { coracleTlsArgs, tlsClientOptions, waitSecurePort } from '../support/zk-tls-peers';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

test('zk-migrate reads a source over TLS with a client certificate', { timeout: 120_000 }, async () => {
  const dir = createTempDir('coracle-migrate-tls-');
  const certs = await makeTestCerts(dir, [{ name: 'alice', subject: '/O=Coracle tests/CN=alice' }]);
  const [securePort] = (await freePorts(1)) as [number];
  const source = await startCoracle(['--zk-listen', '', ...coracleTlsArgs(certs, securePort, 'need')]);
  const target = await startCoracle();
  let z: ZkWireClient | undefined;
  try {
    await waitSecurePort(certs, securePort, 'alice');
    z = await ZkWireClient.connect({ host: '127.0.0.1', port: securePort, timeoutMs: 30_000, tls: tlsClientOptions(certs, 'alice') });
    assert.equal((await z.send({ op: 'create', path: '/over-tls', data: Buffer.from('sealed'), acl: OPEN, flags: 0 })).header.err, 0);
    const migrate = (...tls: string[]) => spawnSync(process.execPath, [
      CORACLE_BIN, 'zk-migrate', '--from', `127.0.0.1:${securePort}`, '--endpoints', `http://127.0.0.1:${target.clientPort}`, ...tls,
    ], { encoding: 'utf8', timeout: 60_000 });
    const alice = certs.clients.alice!;
    const noCert = migrate('--from-cacert', certs.caCert);
    assert.equal(noCert.status, 1, 'the source asks for a client certificate');
    assert.match(noCert.stderr, /cannot connect to the source ZooKeeper at 127\.0\.0\.1:\d+: .*\(if its TLS port asks for a client certificate, give --from-cert and --from-key\)/);
    const ok = migrate('--from-cacert', certs.caCert, '--from-cert', alice.cert, '--from-key', alice.key);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^copied 2 znodes \(6 bytes of data\)/, 'the root and /over-tls');
    const t = await ZkWireClient.connect({ host: '127.0.0.1', port: target.zkPort, timeoutMs: 30_000 });
    try {
      const r = await t.send({ op: 'getData', path: '/over-tls', watch: false });
      assert.equal(r.header.err, 0);
      assert.equal((r.body as { data: Buffer }).data.toString(), 'sealed');
    } finally {
      await t.close();
    }
    const usage = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', '--from', '127.0.0.1:1', '--from-cert', alice.cert], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--from-cert and --from-key go together/);
    const missing = spawnSync(process.execPath, [CORACLE_BIN, 'zk-migrate', '--from', '127.0.0.1:1', '--from-cacert', path.join(dir, 'nope.pem')], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read --from-cacert .*nope\.pem/);
  } finally {
    await z?.close();
    await source.stop();
    await target.stop();
    releasePorts([securePort]);
    removeTempDir(dir);
  }
});
