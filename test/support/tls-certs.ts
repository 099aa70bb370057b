/**
 * Test certificates made with the `openssl` command (Debian's openssl; scripts/install-peers.sh
 * checks for it): a CA, a server certificate for 127.0.0.1/localhost, client certificates signed
 * by the CA, and one signed by a second, untrusted CA. Every key and certificate is a PEM file
 * in `dir`; `<name>-combined.pem` holds a key and its certificate together (what ZooKeeper's PEM
 * key store reads).
 */
import { readFileSync, writeFileSync } from 'node:fs';
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

/** Makes the CA, the server certificate and `clients` in `dir` (about a second per certificate). */
export async function makeTestCerts(dir: string, clients: readonly ClientCertSpec[]): Promise<TestCerts> {
  const caExt = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';
  await makeCert(dir, 'ca', '/O=Coracle tests/CN=Coracle test CA', undefined, caExt);
  await makeCert(dir, 'rogue-ca', '/O=Elsewhere/CN=Untrusted CA', undefined, caExt);
  await makeCert(dir, 'server', '/O=Coracle tests/CN=localhost', 'ca',
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  const out: TestCerts = {
    dir, caCert: path.join(dir, 'ca.pem'), serverCert: path.join(dir, 'server.pem'), serverKey: path.join(dir, 'server.key'),
    serverCombined: path.join(dir, 'server-combined.pem'), clients: {},
  };
  for (const c of clients) {
    await makeCert(dir, c.name, c.subject, c.untrusted ? 'rogue-ca' : 'ca',
      'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
    out.clients[c.name] = { cert: path.join(dir, `${c.name}.pem`), key: path.join(dir, `${c.name}.key`), combined: path.join(dir, `${c.name}-combined.pem`) };
  }
  return out;
}
