/**
 * `TlsReloader` on real PEM files (made with openssl): files rewritten between reading them and
 * starting are taken up at start; a changed set is applied once; a key that does not match its
 * certificate is refused with a warning and the next good change is applied; unchanged files
 * are never re-applied. The binary's behaviour (new connections, open ones) is in
 * test/interop/zk-tls-ops.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { ZkLogger, silentLogger } from '../../../../zkproxy/logger';
import { ZkTlsFlags, ZkTlsOptions, loadTlsOptions } from '../../../../zkproxy/net/tls-port';
import { TlsReloader } from '../../../../zkproxy/net/tls-reloader';
import { createTempDir, removeTempDir } from '../../../support/temp-dir';
import { TestCerts, makeServerCert, makeTestCerts } from '../../../support/tls-certs';

let certs: TestCerts;
let second: { cert: string; key: string };

test.before(async () => {
  certs = await makeTestCerts(createTempDir('coracle-reloader-'), []);
  second = await makeServerCert(certs, 'server2');
});
test.after(() => removeTempDir(certs.dir));

/** Server files in a fresh directory, initially the first server certificate. */
function serverFiles(): ZkTlsFlags & { certFile: string; keyFile: string } {
  const dir = createTempDir('coracle-reloader-files-');
  const f = { certFile: path.join(dir, 'server.pem'), keyFile: path.join(dir, 'server.key'), clientAuth: 'none' as const };
  copyFileSync(certs.serverCert, f.certFile);
  copyFileSync(certs.serverKey, f.keyFile);
  return f;
}

/** A reloader whose applied sets and warnings are recorded. */
function recorded(flags: ZkTlsFlags): { reloader: TlsReloader; applied: ZkTlsOptions[]; warnings: string[] } {
  const applied: ZkTlsOptions[] = [];
  const warnings: string[] = [];
  const logger: ZkLogger = { ...silentLogger, warn: (fields: object | string, message?: string) => warnings.push(String(message ?? fields)) };
  // A long interval: the test calls check() itself.
  return { reloader: new TlsReloader(flags, 3_600_000, (o) => applied.push(o), logger), applied, warnings };
}

test('files rewritten after they were read are taken up at start; unchanged ones are not re-applied', async () => {
  const f = serverFiles();
  const inService = loadTlsOptions(f);
  copyFileSync(second.cert, f.certFile);
  copyFileSync(second.key, f.keyFile);
  const { reloader, applied } = recorded(f);
  await reloader.start(inService);
  try {
    assert.equal(applied.length, 1, 'the renewed files were applied at start');
    assert.ok(applied[0]!.cert.equals(loadTlsOptions(f).cert));
    await reloader.check();
    assert.equal(applied.length, 1, 'nothing changed since: nothing applied');
  } finally {
    reloader.stop();
    removeTempDir(path.dirname(f.certFile));
  }
});

test('a key that does not match keeps the files in service; the next good change is applied', async () => {
  const f = serverFiles();
  const { reloader, applied, warnings } = recorded(f);
  await reloader.start(loadTlsOptions(f));
  try {
    assert.equal(applied.length, 0, 'the files in service are the ones on disk');
    copyFileSync(second.key, f.keyFile);
    await reloader.check();
    assert.equal(applied.length, 0, 'a mismatched key is never applied');
    assert.match(warnings.join('\n'), /cannot reload the ZooKeeper TLS files/);
    await reloader.check();
    assert.equal(warnings.length, 1, 'the same bad files are not read again until they change');
    copyFileSync(second.cert, f.certFile);
    await reloader.check();
    assert.equal(applied.length, 1, 'the matching certificate completes the set');
    assert.ok(applied[0]!.key.equals(loadTlsOptions(f).key));
  } finally {
    reloader.stop();
    removeTempDir(path.dirname(f.certFile));
  }
});
