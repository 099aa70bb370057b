/**
 * TLS on the ZooKeeper ports (ZooKeeper's `secureClientPort`, or the plain port with
 * `client.portUnification`, with the Netty connection factory and `authProvider.x509`): TLS
 * settings from PEM files, the Node TLS server options they give, and the identities a client
 * certificate gives a connection once the handshake is done. A CRL file (Coracle's own; Java
 * reads CRLs from the certificates' distribution points instead) refuses revoked certificates.
 *
 * As ZooKeeper 3.8 (NettyServerCnxnFactory.CertificateVerifier, X509AuthenticationProvider):
 * - `need` (ssl.clientAuth's default): no trusted certificate, no connection;
 * - `want`: a client without a certificate connects with no x509 identity; one whose certificate
 *   is not trusted is refused;
 * - a trusted certificate adds `x509:<subject>` (RFC 2253, session/x509-identity.ts) after the
 *   connection's `ip` id, preceded by `super:<subject>` when the subject is the x509 super user.
 */
import { readFlagFile } from '../read-flag-file';
import { TLSSocket, TlsOptions } from 'node:tls';
import { AuthId } from '../mapping/acl-rules';
import { X509ParseError, x509SubjectName } from '../session/x509-identity';

/** ssl.clientAuth. */
export type ClientAuth = 'need' | 'want' | 'none';

/** TLS settings of the secure port and of the unified plain port. */
export interface ZkTlsOptions {
  /** Server certificate chain and key, PEM. */
  cert: Buffer;
  key: Buffer;
  /** CA certificates that sign client certificates, PEM (required unless clientAuth is none). */
  ca?: Buffer;
  /** Certificate revocation lists, PEM: a client certificate one revokes is refused. */
  crl?: Buffer;
  clientAuth: ClientAuth;
  /** zookeeper.X509AuthenticationProvider.superUser: this subject is also `super`. */
  superUser?: string;
  /** The flags these were read from, when read from files: what tls-reloader.ts watches. */
  source?: ZkTlsFlags;
}

/** Where the secure port (secureClientPort) listens. */
export interface ZkSecurePort {
  host: string;
  port: number;
}

/** The file paths and policy the `--zk-tls-*` flags give (read by {@link loadTlsOptions}). */
export interface ZkTlsFlags {
  certFile?: string;
  keyFile?: string;
  trustedCaFile?: string;
  crlFile?: string;
  clientAuth: ClientAuth;
  superUser?: string;
  /** How often the files are checked for changes, ms; 0 or absent: never (tls-reloader.ts). */
  reloadIntervalMs?: number;
}

/**
 * Reads the PEM files the flags name. Throws with what to fix when a file is missing or
 * unreadable, or when client certificates are asked for without a CA to check them against.
 */
export function loadTlsOptions(f: ZkTlsFlags): ZkTlsOptions {
  if (!f.certFile || !f.keyFile) throw new Error('TLS on the ZooKeeper port (--zk-secure-listen or --zk-port-unification) needs --zk-tls-cert-file and --zk-tls-key-file (the server certificate and its key, PEM)');
  if (f.clientAuth !== 'none' && !f.trustedCaFile) {
    throw new Error(`--zk-tls-client-auth ${f.clientAuth} needs --zk-tls-trusted-ca-file (the CA that signs client certificates, PEM), or --zk-tls-client-auth none`);
  }
  return {
    cert: readFlagFile(f.certFile, 'zk-tls-cert-file'),
    key: readFlagFile(f.keyFile, 'zk-tls-key-file'),
    ca: f.trustedCaFile ? readFlagFile(f.trustedCaFile, 'zk-tls-trusted-ca-file') : undefined,
    crl: f.crlFile ? readFlagFile(f.crlFile, 'zk-tls-crl-file') : undefined,
    clientAuth: f.clientAuth,
    superUser: f.superUser || undefined,
    source: f,
  };
}

/** Node TLS server options for `o`; `handshakeTimeoutMs` bounds a client that never finishes. */
export function tlsServerOptions(o: ZkTlsOptions, handshakeTimeoutMs: number): TlsOptions {
  return {
    cert: o.cert, key: o.key, ca: o.ca, crl: o.crl,
    requestCert: o.clientAuth !== 'none',
    // `want` checks the certificate itself (certificateIdentities): one may be absent.
    rejectUnauthorized: o.clientAuth === 'need',
    minVersion: 'TLSv1.2',
    handshakeTimeout: handshakeTimeoutMs,
  };
}

/**
 * The identities the client certificate of a connection that finished its handshake gives, or
 * why the connection must be closed.
 */
export function certificateIdentities(socket: TLSSocket, o: ZkTlsOptions): { ids: AuthId[] } | { refuse: string } {
  if (o.clientAuth === 'none') return { ids: [] };
  const cert = socket.getPeerX509Certificate();
  if (!cert) return o.clientAuth === 'need' ? { refuse: 'no client certificate' } : { ids: [] };
  if (!socket.authorized) return { refuse: `client certificate not trusted (${String(socket.authorizationError)})` };
  let name: string;
  try {
    name = x509SubjectName(cert.raw);
  } catch (e) {
    if (e instanceof X509ParseError) return { refuse: `unreadable client certificate subject: ${e.message}` };
    throw e;
  }
  const ids: AuthId[] = [];
  if (o.superUser !== undefined && name === o.superUser) ids.push({ scheme: 'super', id: name });
  ids.push({ scheme: 'x509', id: name });
  return { ids };
}
