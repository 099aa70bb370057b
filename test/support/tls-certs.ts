/**
 * Test certificates made with the `openssl` command (Debian's openssl; scripts/install-peers.sh
 * checks for it): a CA, a server certificate for 127.0.0.1/localhost, client certificates signed
 * by the CA, and one signed by a second, untrusted CA. Every key and certificate is a PEM file
 * in `dir`; `<name>-combined.pem` holds a key and its certificate together (what ZooKeeper's PEM
 * key store reads). Also: more server certificates signed by the test CA (a new key each, for
 * reload tests) and a certificate revocation list of the test CA (`openssl ca -gencrl`).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from './run-command';

/** A client certificate to make: its file name and its subject as openssl's -subj takes it. */
export interface ClientCertSpec {
  name: string;
  /** e.g. `/C=US/O=Coracle/OU=eng/CN=alice` (openssl -subj; first is outermost). */
  subject: string;
  /** Signed by the untrusted CA instead of the test CA. */
  untrusted?: boolean;
}

/** Paths of the made files. */
export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  serverCombined: string;
  /** The second CA, which signs the `untrusted` client certificates (no server trusts it by default). */
  untrustedCaCert: string;
  /** By client name: its certificate, key and combined PEM. */
  clients: Record<string, { cert: string; key: string; combined: string }>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const r = await runCommand('openssl', args, { cwd: dir, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed (${r.code}): ${r.stderr.slice(0, 500)}`);
}

/** A key and a certificate for `subject` signed by `ca` (self-signed as a CA when `ca` is undefined). */
async function makeCert(dir: string, name: string, subject: string, ca: string | undefined, ext: string): Promise<void> {
  await openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
  writeFileSync(path.join(dir, `${name}.ext`), ext);
  const sign = ca === undefined ? ['-signkey', `${name}.key`] : ['-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial'];
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, ...sign, '-days', '30', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  const combined = readFileSync(path.join(dir, `${name}.key`), 'utf8') + readFileSync(path.join(dir, `${name}.pem`), 'utf8');
  writeFileSync(path.join(dir, `${name}-combined.pem`), combined);
}

const SERVER_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n';

/** Makes the CA, the server certificate and `clients` in `dir` (about a second per certificate). */
export async function makeTestCerts(dir: string, clients: readonly ClientCertSpec[]): Promise<TestCerts> {
  const caExt = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';
  await makeCert(dir, 'ca', '/O=Coracle tests/CN=Coracle test CA', undefined, caExt);
  await makeCert(dir, 'rogue-ca', '/O=Elsewhere/CN=Untrusted CA', undefined, caExt);
  await makeCert(dir, 'server', '/O=Coracle tests/CN=localhost', 'ca', SERVER_EXT);
  const out: TestCerts = {
    dir, caCert: path.join(dir, 'ca.pem'), serverCert: path.join(dir, 'server.pem'), serverKey: path.join(dir, 'server.key'),
    serverCombined: path.join(dir, 'server-combined.pem'), untrustedCaCert: path.join(dir, 'rogue-ca.pem'), clients: {},
  };
  for (const c of clients) {
    await makeCert(dir, c.name, c.subject, c.untrusted ? 'rogue-ca' : 'ca',
      'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
    out.clients[c.name] = { cert: path.join(dir, `${c.name}.pem`), key: path.join(dir, `${c.name}.key`), combined: path.join(dir, `${c.name}-combined.pem`) };
  }
  return out;
}

/**
 * Another server certificate for 127.0.0.1/localhost signed by the test CA of `certs`, with a new
 * key: `<name>.pem`, `<name>.key`, `<name>-combined.pem` in `certs.dir` (`name` must not be one
 * already made there).
 */
export async function makeServerCert(certs: TestCerts, name: string): Promise<{ cert: string; key: string; combined: string }> {
  await makeCert(certs.dir, name, '/O=Coracle tests/CN=localhost', 'ca', SERVER_EXT);
  return { cert: path.join(certs.dir, `${name}.pem`), key: path.join(certs.dir, `${name}.key`), combined: path.join(certs.dir, `${name}-combined.pem`) };
}

/**
 * A PEM certificate revocation list of the test CA revoking the client certificates named in
 * `revoked` (made by {@link makeTestCerts} and signed by the test CA), valid 30 days: a minimal
 * `openssl ca` setup (its own index and CRL number under `<dir>/<out>-ca/`), `openssl ca -revoke`
 * for each, then `openssl ca -gencrl`. Returns the CRL's path, `<dir>/<out>`. An empty `revoked`
 * gives a valid CRL that revokes nothing.
 */
export async function makeCrl(certs: TestCerts, revoked: readonly string[], out = 'crl.pem'): Promise<string> {
  const caDir = path.join(certs.dir, `${out}-ca`);
  mkdirSync(caDir, { recursive: true });
  writeFileSync(path.join(caDir, 'index.txt'), '');
  writeFileSync(path.join(caDir, 'crlnumber'), '01\n');
  writeFileSync(path.join(caDir, 'ca.cnf'),
    '[ca]\ndefault_ca = coracle_test_ca\n[coracle_test_ca]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\n');
  const signer = ['-config', 'ca.cnf', '-keyfile', path.join(certs.dir, 'ca.key'), '-cert', certs.caCert];
  for (const name of revoked) {
    const c = certs.clients[name];
    if (!c) throw new Error(`makeCrl: no client certificate named ${name}`);
    await openssl(caDir, ['ca', ...signer, '-revoke', c.cert]);
  }
  const file = path.join(certs.dir, out);
  await openssl(caDir, ['ca', ...signer, '-gencrl', '-out', file]);
  return file;
}
