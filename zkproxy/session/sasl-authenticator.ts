/**
 * `SaslAuthenticator`: the server's SASL configuration (users, Kerberos keys, policy switches)
 * and the per-connection DIGEST-MD5 or GSSAPI exchanges that GetSASLRequest frames (op 102)
 * drive. It knows
 * nothing of replies: ops/session-ops.ts turns a {@link SaslOutcome} into ZooKeeper's answer
 * (ZooKeeperServer.processSasl), and dispatch/auth-required-handler.ts enforces `required`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DigestMd5Error, DigestMd5Server } from './sasl-digest-md5';
import { JaasConfigError, digestUsers, parseJaasConfig } from './jaas-config';
import { GssError } from './kerberos/gss-krb5';
import type { KeytabEntry } from './kerberos/keytab';
import { kerberosLogin, loadServiceKeys } from './kerberos/kerberos-login';
import { ReplayCache } from './kerberos/replay-cache';
import { GssapiServer } from './kerberos/sasl-gssapi';
import { PrincipalMapping } from './kerberos/principal-identity';
import { AuthToLocal } from './kerberos/auth-to-local';
import { readDefaultRealm } from './kerberos/krb5-conf';

/** Kerberos (GSSAPI) settings: the service's keys and how principals become identities. */
export interface KerberosOptions {
  /** The service's AES keys from its keytab. */
  keys: readonly KeytabEntry[];
  /** The principal clients must have tickets for (`*`: any principal of the keytab). */
  principal: string;
  /** How principals become `sasl` identities (the kerberos.* and auth_to_local settings; default: DEFAULT, nothing removed). */
  mapping?: PrincipalMapping;
}

/** Kerberos' default allowed clock difference between client and server. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** The first byte of a GSS-API initial context token; a DIGEST-MD5 client starts empty. */
const GSS_TOKEN_START = 0x60;

/** SASL settings of a proxy; ZooKeeper's system property for each is named. */
export interface SaslOptions {
  /** DIGEST-MD5 user → password (the JAAS `Server` section's `user_<name>` options); may be empty. */
  users: ReadonlyMap<string, string>;
  /** GSSAPI, when the section logs in with Krb5LoginModule. */
  kerberos?: KerberosOptions;
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
  /** `warning`: the principal kept whole, the auth_to_local rules not mapping it (ZooKeeper logs that as an error). */
  | { ok: true; token: Buffer | null; user?: string; superUser: boolean; warning?: string }
  | { ok: false; reason: string };

/** Fresh nonce per exchange: 30 random bytes in base64, the JDK's size (quoted-string safe). */
function randomNonce(): string {
  return randomBytes(30).toString('base64');
}

/**
 * Holds one exchange per connection (keyed by the connection's context object, so it goes away
 * with the connection) and runs the steps of each. The client's first token picks the
 * mechanism: a GSS-API token starts GSSAPI, an empty one DIGEST-MD5 (whose server speaks
 * first). ZooKeeper offers only the one its JAAS section logs in with; Coracle offers each that
 * is configured.
 */
export class SaslAuthenticator {
  private readonly exchanges = new WeakMap<object, DigestMd5Server | GssapiServer>();
  private readonly replay = new ReplayCache(2 * CLOCK_SKEW_MS);

  constructor(
    readonly options: SaslOptions,
    private readonly nonce: () => string = randomNonce,
  ) {}

  /** True when unauthenticated connections are refused (see {@link SaslOptions.required}). */
  get required(): boolean {
    return this.options.required ?? false;
  }

  /** The mechanisms served, for the log. */
  get mechanisms(): string[] {
    return [...(this.options.users.size > 0 ? ['DIGEST-MD5'] : []), ...(this.options.kerberos ? ['GSSAPI'] : [])];
  }

  /**
   * One step of `conn`'s exchange with the client's `token`. The first step starts the
   * exchange; a failure ends it for good (a second exchange on the connection fails too, as
   * the JDK's server stays in its final state).
   */
  step(conn: object, token: Buffer): SaslOutcome {
    let ex = this.exchanges.get(conn);
    try {
      if (!ex) {
        ex = this.start(token);
        this.exchanges.set(conn, ex);
      }
      const r = ex.evaluate(token);
      if (!r.complete) return { ok: true, token: r.token, superUser: false };
      // ZooKeeper's callback authorizes the authentication id whatever authzid was asked for.
      const user = r.username!;
      const warning = 'warning' in r ? r.warning : undefined;
      return { ok: true, token: r.token, user, superUser: this.options.superUsers?.includes(user) ?? false, warning };
    } catch (e) {
      if (e instanceof DigestMd5Error || e instanceof GssError) return { ok: false, reason: e.message };
      throw e;
    }
  }

  private start(token: Buffer): DigestMd5Server | GssapiServer {
    const k = this.options.kerberos;
    if (token.length > 0 && token[0] === GSS_TOKEN_START) {
      if (!k) throw new GssError('the client started GSSAPI (Kerberos), but the server has no Kerberos login in its JAAS section');
      const acceptor = { keys: k.keys, principal: k.principal, replay: this.replay, skewMs: CLOCK_SKEW_MS };
      return new GssapiServer(acceptor, { ...k.mapping, superUsers: this.options.superUsers });
    }
    if (this.options.users.size === 0) throw new DigestMd5Error('the client started DIGEST-MD5, but the server has no DIGEST-MD5 users (its JAAS section logs in with Kerberos only)');
    return new DigestMd5Server({ nonce: this.nonce, passwordOf: (u) => this.options.users.get(u) });
  }
}

/**
 * The mapping of principals to identities. DEFAULT maps the realm krb5.conf names, as the JDK
 * tells ZooKeeper; without one, the realm of the service's own principal (ZooKeeper would then
 * map no principal by DEFAULT, which no Kerberos deployment runs with).
 */
function principalMapping(f: SaslFlags, servicePrincipal: string): PrincipalMapping {
  const at = servicePrincipal.lastIndexOf('@');
  const defaultRealm = readDefaultRealm() ?? (at < 0 ? undefined : servicePrincipal.slice(at + 1));
  return { removeHost: f.kerberosRemoveHost, removeRealm: f.kerberosRemoveRealm, rules: f.kerberosAuthToLocal, defaultRealm };
}

/** Flags that shape {@link SaslOptions} besides the users file. */
export interface SaslFlags {
  usersFile?: string;
  required?: boolean;
  allowFailedClients?: boolean;
  superUsers?: readonly string[];
  /** JAAS section with the users (zookeeper.sasl.serverconfig; default "Server"). */
  section?: string;
  /** zookeeper.kerberos.removeHostFromPrincipal. */
  kerberosRemoveHost?: boolean;
  /** zookeeper.kerberos.removeRealmFromPrincipal. */
  kerberosRemoveRealm?: boolean;
  /** zookeeper.security.auth_to_local, parsed. */
  kerberosAuthToLocal?: AuthToLocal;
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
    const config = parseJaasConfig(text, f.usersFile);
    const section = f.section ?? 'Server';
    const login = kerberosLogin(config, section, f.usersFile);
    const users = digestUsers(config, section, f.usersFile, login !== undefined);
    const kerberos = login && { keys: loadServiceKeys(login), principal: login.principal, mapping: principalMapping(f, login.principal) };
    return { users, kerberos, required: f.required ?? false, allowFailedClients: f.allowFailedClients ?? false, superUsers: f.superUsers ?? [] };
  } catch (e) {
    if (e instanceof JaasConfigError) throw new Error(`bad --zk-sasl-users-file: ${e.message}`);
    throw e;
  }
}
