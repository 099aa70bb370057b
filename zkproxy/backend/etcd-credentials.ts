/**
 * How `zk-proxy` proves itself to an etcd cluster, as etcdctl does (`--cacert`, `--cert`,
 * `--key`, `--user`): TLS with the cluster's CA and, when etcd runs with
 * `--client-cert-auth`, a client certificate; and with etcd authentication enabled, a user whose
 * token goes with every call. Production clusters (Kubernetes' among them) accept nothing less.
 *
 * Tokens: etcd's simple tokens expire after `--auth-token-ttl` without use and every token dies
 * with a leader change or a restart; etcd then answers `etcdserver: invalid auth token` before
 * doing anything, so the call is safe to repeat with a fresh token ({@link EtcdToken}).
 */
import { readFlagFile } from '../read-flag-file';

/** TLS towards etcd, PEM. */
export interface EtcdTls {
  /** CA certificates that sign etcd's server certificate (absent: the system's). */
  ca?: Buffer;
  /** Client certificate and key, for etcd's `--client-cert-auth`. */
  cert?: Buffer;
  key?: Buffer;
}

/** An etcd user (etcdctl `--user name:password`). */
export interface EtcdUser {
  name: string;
  password: string;
}

/** Everything the backend presents to etcd. */
export interface EtcdCredentials {
  /** Present: every connection is TLS. */
  tls?: EtcdTls;
  user?: EtcdUser;
}

/** The `zk-proxy` flags that give the credentials (file paths, the user as typed). */
export interface EtcdCredentialFlags {
  cacert?: string;
  cert?: string;
  key?: string;
  /** `name:password`, or `name` with `password`. */
  user?: string;
  password?: string;
  /** Whether an endpoint is an `https://` URL (TLS even without a CA or certificate flag). */
  https: boolean;
}

/** Reads the files and splits the user; throws with the flag to fix. */
export function loadEtcdCredentials(f: EtcdCredentialFlags): EtcdCredentials {
  if (!!f.cert !== !!f.key) throw new Error('--cert and --key go together (the client certificate and its key, PEM)');
  const tls = f.https || f.cacert || f.cert
    ? { ca: f.cacert ? readFlagFile(f.cacert, 'cacert') : undefined, cert: f.cert ? readFlagFile(f.cert, 'cert') : undefined, key: f.key ? readFlagFile(f.key, 'key') : undefined }
    : undefined;
  return { tls, user: f.user ? parseUser(f.user, f.password) : undefined };
}

function parseUser(user: string, password: string | undefined): EtcdUser {
  const colon = user.indexOf(':');
  if (colon < 0) {
    if (password === undefined) throw new Error(`--user ${user} needs a password: --user ${user}:<password> or --password`);
    return { name: user, password };
  }
  if (password !== undefined) throw new Error('give the password once: in --user name:password or in --password');
  return { name: user.slice(0, colon), password: user.slice(colon + 1) };
}

/** Whether `e` (a call error) is etcd's refusal of an expired or unknown token. */
export function isInvalidToken(e: unknown): boolean {
  const text = (e as { details?: string; message?: string }).details ?? (e as Error).message ?? '';
  return text.includes('invalid auth token');
}

/** A user's token: fetched when first needed, shared by concurrent callers, fetched again once etcd refuses it. */
export class EtcdToken {
  private token: string | undefined;
  private pending: Promise<string> | undefined;

  /** @param authenticate etcd's Authenticate call for the user */
  constructor(private readonly authenticate: () => Promise<string>) {}

  /** The token to send (one Authenticate at a time; a failed one is not kept). */
  get(): Promise<string> {
    if (this.token !== undefined) return Promise.resolve(this.token);
    this.pending ??= this.authenticate()
      .then((t) => (this.token = t))
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  /**
   * etcd refused `token`: the next {@link get} authenticates again, unless a newer token is
   * already held. Without `token` (a stream does not say which one it started with) the token
   * held now is dropped.
   */
  invalidate(token?: string): void {
    if (token === undefined || this.token === token) this.token = undefined;
  }
}
