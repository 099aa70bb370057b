/**
 * `SaslAuthenticator`: the server's SASL configuration (users, policy switches) and the
 * per-connection DIGEST-MD5 exchanges that GetSASLRequest frames (op 102) drive. It knows
 * nothing of replies: ops/session-ops.ts turns a {@link SaslOutcome} into ZooKeeper's answer
 * (ZooKeeperServer.processSasl), and dispatch/auth-required-handler.ts enforces `required`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DigestMd5Error, DigestMd5Server } from './sasl-digest-md5';
import { JaasConfigError, digestUsers, parseJaasConfig } from './jaas-config';

/** SASL settings of a proxy; ZooKeeper's system property for each is named. */
export interface SaslOptions {
  /** DIGEST-MD5 user → password (the JAAS `Server` section's `user_<name>` options). */
  users: ReadonlyMap<string, string>;
  /**
   * zookeeper.sessionRequireClientSASLAuth=true (≡ enforce.auth.enabled=true with
   * enforce.auth.schemes=sasl): every request but auth and sasl from a connection that has not
   * SASL-authenticated is answered SESSIONCLOSEDREQUIRESASLAUTH and the connection is closed,
   * and a failed SASL exchange is answered with that code too. Default false.
   */
  required?: boolean;
  /**
   * zookeeper.allowSaslFailedClients=true: a failed exchange is answered OK with no token and
   * the connection is kept (unauthenticated). Ignored when `required`. Default false.
   */
  allowFailedClients?: boolean;
  /** zookeeper.superUser: SASL users that also get the `super` identity (bypass every ACL). */
  superUsers?: readonly string[];
}

/** The result of one SASL step. */
export type SaslOutcome =
  | { ok: true; token: Buffer; user?: string; superUser: boolean }
  | { ok: false; reason: string };

/** Fresh nonce per exchange: 30 random bytes in base64, the JDK's size (quoted-string safe). */
function randomNonce(): string {
  return randomBytes(30).toString('base64');
}

/**
 * Holds one DIGEST-MD5 exchange per connection (keyed by the connection's context object, so it
 * goes away with the connection) and runs the steps of each.
 */
export class SaslAuthenticator {
  private readonly exchanges = new WeakMap<object, DigestMd5Server>();

  constructor(
    readonly options: SaslOptions,
    private readonly nonce: () => string = randomNonce,
  ) {}

  /** True when unauthenticated connections are refused (see {@link SaslOptions.required}). */
  get required(): boolean {
    return this.options.required ?? false;
  }

  /**
   * One step of `conn`'s exchange with the client's `token`. The first step starts the
   * exchange; a failure ends it for good (a second exchange on the connection fails too, as
   * the JDK's server stays in its final state).
   */
  step(conn: object, token: Buffer): SaslOutcome {
    let ex = this.exchanges.get(conn);
    if (!ex) {
      ex = new DigestMd5Server({ nonce: this.nonce, passwordOf: (u) => this.options.users.get(u) });
      this.exchanges.set(conn, ex);
    }
    try {
      const r = ex.evaluate(token);
      if (!r.complete) return { ok: true, token: r.token, superUser: false };
      // ZooKeeper's callback authorizes the authentication id whatever authzid was asked for.
      const user = r.username!;
      return { ok: true, token: r.token, user, superUser: this.options.superUsers?.includes(user) ?? false };
    } catch (e) {
      if (e instanceof DigestMd5Error) return { ok: false, reason: e.message };
      throw e;
    }
  }
}

/** Flags that shape {@link SaslOptions} besides the users file. */
export interface SaslFlags {
  usersFile?: string;
  required?: boolean;
  allowFailedClients?: boolean;
  superUsers?: readonly string[];
  /** JAAS section with the users (zookeeper.sasl.serverconfig; default "Server"). */
  section?: string;
}

/**
 * Builds {@link SaslOptions} from flags, reading the users from the JAAS file. Undefined when
 * no users file is given. Throws an Error with a message for the operator when the file cannot
 * be read or parsed, or when `required` is asked for without a users file.
 */
export function loadSaslOptions(f: SaslFlags): SaslOptions | undefined {
  if (!f.usersFile) {
    if (f.required) throw new Error('--zk-sasl-required needs --zk-sasl-users-file (no SASL users to authenticate)');
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(f.usersFile, 'utf8');
  } catch (e) {
    throw new Error(`cannot read --zk-sasl-users-file ${f.usersFile}: ${(e as Error).message}`);
  }
  try {
    const users = digestUsers(parseJaasConfig(text, f.usersFile), f.section ?? 'Server', f.usersFile);
    return { users, required: f.required ?? false, allowFailedClients: f.allowFailedClients ?? false, superUsers: f.superUsers ?? [] };
  } catch (e) {
    if (e instanceof JaasConfigError) throw new Error(`bad --zk-sasl-users-file: ${e.message}`);
    throw e;
  }
}
