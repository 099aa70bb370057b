/**
 * The `--zk-*` flags: one table for both commands that serve ZooKeeper (the embedded `coracle`
 * and `coracle zk-proxy`), and their one translation into proxy options. bin/ parses command
 * lines against the table (names, kinds, defaults, help); {@link zkOptionsFromFlags} checks the
 * values against each other and maps them, ZooKeeper's zoo.cfg names in the help.
 */
import { AuthToLocal, AuthToLocalError } from './session/kerberos/auth-to-local';
import { ZkProxyOptions } from './zk-proxy';
import { SaslFlags } from './session/sasl-authenticator';
import { ClientAuth, ZkTlsFlags, ZkTlsOptions, loadTlsOptions } from './net/tls-port';
import { parseFourLetterWhitelist } from './net/four-letter-words';
import { ENFORCEABLE_AUTH_SCHEMES } from './dispatch/auth-required-handler';
import { ZK_MAX_CLIENT_CNXNS_DEFAULT, ZK_MAX_FRAME_DEFAULT, ZK_TICK_TIME_DEFAULT_MS } from './limits';

/** A flag's value kind, default and help (the shape bin/flags.ts parses). */
export interface ZkFlagSpec {
  kind: 'string' | 'int' | 'bool' | 'list';
  default: string | number | boolean | string[];
  help: string;
}

/** Every `--zk-*` flag. */
export const ZK_FLAGS = {
  'zk-listen': { kind: 'string', default: '127.0.0.1:2181', help: "host:port of the ZooKeeper front end ('' disables it in the embedded server)." },
  'zk-secure-listen': { kind: 'string', default: '', help: "host:port of the ZooKeeper TLS port (secureClientPort); '' = none. Needs --zk-tls-cert-file and --zk-tls-key-file." },
  'zk-tls-cert-file': { kind: 'string', default: '', help: 'PEM certificate (chain) of the ZooKeeper TLS port (ssl.keyStore).' },
  'zk-tls-key-file': { kind: 'string', default: '', help: 'PEM private key of --zk-tls-cert-file.' },
  'zk-tls-trusted-ca-file': { kind: 'string', default: '', help: 'PEM CA certificates that sign ZooKeeper client certificates (ssl.trustStore).' },
  'zk-tls-client-auth': { kind: 'string', default: 'need', help: 'Client certificates on the ZooKeeper TLS port: need, want or none (ssl.clientAuth). A trusted one authenticates the x509:<subject DN> identity.' },
  'zk-tls-crl-file': { kind: 'string', default: '', help: 'PEM certificate revocation lists: a ZooKeeper client certificate one of them revokes is refused.' },
  'zk-tls-reload-interval': { kind: 'int', default: 10000, help: 'How often (ms) the --zk-tls-* files are checked; changed files serve new connections without a restart (0 = never).' },
  'zk-port-unification': { kind: 'bool', default: false, help: 'The plain ZooKeeper port (--zk-listen) also accepts TLS clients, with the --zk-tls-* settings (client.portUnification).' },
  'zk-x509-super-user': { kind: 'string', default: '', help: 'Client certificate subject DN given the ZooKeeper super identity (zookeeper.X509AuthenticationProvider.superUser).' },
  'zk-admin-listen': { kind: 'string', default: '', help: "host:port of ZooKeeper's AdminServer (HTTP GET /commands/<name>, e.g. ruok, monitor, stats; admin.serverAddress and admin.serverPort); '' = none. ZooKeeper serves it on 8080 by default; it has no authentication, so bind it to a trusted address." },
  'zk-admin-command-url': { kind: 'string', default: '/commands', help: 'URL path under which the AdminServer answers commands (admin.commandURL).' },
  'zk-metrics-listen': { kind: 'string', default: '', help: "host:port of the /metrics endpoint of ZooKeeper's Prometheus metrics provider (metricsProvider.httpHost and metricsProvider.httpPort: znode_count, num_alive_connections, readlatency, ... under ZooKeeper's names); '' = none. No authentication: bind it to a trusted address." },
  'zk-tick-time': { kind: 'int', default: ZK_TICK_TIME_DEFAULT_MS, help: 'ZooKeeper tickTime (ms); session timeouts default to [2, 20] ticks.' },
  'zk-min-session-timeout': { kind: 'int', default: 0, help: 'Smallest ZooKeeper session timeout granted (ms; 0 = 2 ticks).' },
  'zk-max-session-timeout': { kind: 'int', default: 0, help: 'Largest ZooKeeper session timeout granted (ms; 0 = 20 ticks).' },
  'zk-max-buffer': { kind: 'int', default: ZK_MAX_FRAME_DEFAULT, help: 'Largest ZooKeeper frame accepted, in bytes (jute.maxbuffer).' },
  'zk-max-client-cnxns': { kind: 'int', default: ZK_MAX_CLIENT_CNXNS_DEFAULT, help: 'Most concurrent ZooKeeper connections from one client IP address; 0 = no limit (maxClientCnxns).' },
  'zk-max-cnxns': { kind: 'int', default: 0, help: 'Most concurrent ZooKeeper connections in all; 0 = no limit but the built-in 10,000 (maxCnxns).' },
  'zk-key-prefix': { kind: 'string', default: '/zk/', help: 'Key prefix of the ZooKeeper space in the store.' },
  'zk-ttl-nodes': { kind: 'bool', default: true, help: 'Allow TTL znodes (zookeeper.extendedTypesEnabled).' },
  'zk-4lw-commands-whitelist': { kind: 'string', default: '*', help: "Four-letter words answered on the ZooKeeper port, comma-separated, or '*' for all (4lw.commands.whitelist; ZooKeeper's own default is srvr only). The others get ZooKeeper's 'is not executed because it is not in the whitelist' answer; the AdminServer is not affected." },
  'zk-enforce-auth-schemes': { kind: 'list', default: [], help: 'Serve only ZooKeeper connections that have authenticated with one of these schemes (digest, sasl, x509); the others get SESSIONCLOSEDREQUIRESASLAUTH at their first request and are closed (enforce.auth.enabled=true with enforce.auth.schemes).' },
  'zk-enforce-quota': { kind: 'bool', default: false, help: 'Refuse a create or setData that would take a subtree past a hard quota (zkCli setquota -N / -B) with QUOTAEXCEEDED (zookeeper.enforceQuota). Soft quotas (-n / -b) are never enforced, as in ZooKeeper.' },
  'zk-notification-zxid': { kind: 'bool', default: false, help: 'Watch notifications carry the zxid of the change that fired them, as ZooKeeper 3.9 sends (WatchedEvent.getZxid()); off: -1, as ZooKeeper 3.8 sends. Clients of every version accept both.' },
  'zk-super-digest': { kind: 'string', default: '', help: "'super:<base64 sha1>' digest that bypasses ZooKeeper ACLs (zookeeper.DigestAuthenticationProvider.superDigest)." },
  'zk-container-check-ms': { kind: 'int', default: 60000, help: 'How often empty container and expired TTL znodes are reaped (znode.container.checkIntervalMs).' },
  'zk-read-only-mode': { kind: 'bool', default: false, help: 'A member cut off from the quorum keeps serving reads, from the last state it has, to clients that allow read-only sessions (canBeReadOnly); their writes are refused with NOTREADONLY (readonlymode.enabled). Over etcd (zk-proxy): while the member it talks to knows no leader or cannot be reached.' },
  'zk-sasl-users-file': { kind: 'string', default: '', help: 'JAAS file whose Server section gives the ZooKeeper front end its SASL logins: DIGEST-MD5 users (user_<name>="<password>") and/or a Kerberos service key (Krb5LoginModule with useKeyTab=true keyTab="<file>" principal="<service/host@REALM>") for GSSAPI.' },
  'zk-sasl-required': { kind: 'bool', default: false, help: 'Refuse ZooKeeper connections that have not SASL-authenticated (zookeeper.sessionRequireClientSASLAuth).' },
  'zk-sasl-allow-failed-clients': { kind: 'bool', default: false, help: 'Keep ZooKeeper connections whose SASL failed, unauthenticated (zookeeper.allowSaslFailedClients).' },
  'zk-sasl-super-user': { kind: 'list', default: [], help: 'SASL users given the ZooKeeper super identity (zookeeper.superUser).' },
  'zk-kerberos-remove-host-from-principal': { kind: 'bool', default: false, help: "A Kerberos client's sasl identity leaves out the host of its principal: 'kafka@EXAMPLE.COM' for kafka/h1.example.com@EXAMPLE.COM (zookeeper.kerberos.removeHostFromPrincipal)." },
  'zk-kerberos-remove-realm-from-principal': { kind: 'bool', default: false, help: "A Kerberos client's sasl identity leaves out the realm of its principal: 'alice' for alice@EXAMPLE.COM (zookeeper.kerberos.removeRealmFromPrincipal)." },
  'zk-kerberos-auth-to-local': { kind: 'string', default: 'DEFAULT', help: "Rules mapping a Kerberos principal to the short name its sasl identity starts with, e.g. 'RULE:[2:$1@$0](kafka@EXAMPLE.COM)s/@.*// DEFAULT' (zookeeper.security.auth_to_local). DEFAULT: the first component, for principals of krb5.conf's default_realm. A principal no rule maps keeps its whole name." },
} satisfies Record<string, ZkFlagSpec>;

/** Parsed `--zk-*` values, typed by the table. */
export type ZkFlagValues = { [K in keyof typeof ZK_FLAGS]: (typeof ZK_FLAGS)[K]['default'] extends string[] ? string[] : (typeof ZK_FLAGS)[K]['default'] };

/**
 * The proxy options the `--zk-*` flags set (backend excluded); the SASL flags are kept apart
 * because turning them into options reads a file (`loadSaslOptions`).
 */
export type ZkFlagOptions = Omit<ZkProxyOptions, 'backend' | 'sasl' | 'tls'> & { sasl: SaslFlags; tls?: ZkTlsFlags };

/**
 * Reads the TLS files, when a secure or unified port needs them: call before anything starts,
 * so a missing or unreadable file is a usage error. Throws with what to fix.
 */
export function loadTls(f: ZkTlsFlags | undefined): ZkTlsOptions | undefined {
  return f ? loadTlsOptions(f) : undefined;
}

const CLIENT_AUTH: readonly ClientAuth[] = ['need', 'want', 'none'];

/** A `--zk-*` value that is wrong on its own or against another (a usage error). */
export class ZkFlagError extends Error {}

/**
 * Maps parsed values to proxy options, or undefined when `--zk-listen` and `--zk-secure-listen`
 * are both '' (front end off). Throws {@link ZkFlagError} with what to change for a malformed
 * address, a zero tick, a frame limit under 1 KiB, a minimum session timeout above the maximum,
 * or an unknown client-auth mode.
 */
export function zkOptionsFromFlags(v: ZkFlagValues): ZkFlagOptions | undefined {
  if (v['zk-tick-time'] === 0) throw new ZkFlagError('--zk-tick-time must be positive');
  if (v['zk-max-buffer'] < 1024) throw new ZkFlagError('--zk-max-buffer must be at least 1024 bytes');
  const min = v['zk-min-session-timeout'];
  const max = v['zk-max-session-timeout'];
  if (min > 0 && max > 0 && min > max) throw new ZkFlagError('--zk-min-session-timeout must not exceed --zk-max-session-timeout');
  const clientAuth = v['zk-tls-client-auth'] as ClientAuth;
  if (!CLIENT_AUTH.includes(clientAuth)) throw new ZkFlagError(`invalid --zk-tls-client-auth '${v['zk-tls-client-auth']}' (want need, want or none)`);
  const plain = v['zk-listen'] !== '';
  const portUnification = v['zk-port-unification'];
  if (portUnification && !plain) throw new ZkFlagError("--zk-port-unification needs the plain port: set --zk-listen (it is '')");
  if (!plain && v['zk-secure-listen'] === '') return undefined;
  const { host, port } = plain ? listenAddress(v['zk-listen'], 'zk-listen') : { host: '127.0.0.1', port: 0 };
  const secure = v['zk-secure-listen'] === '' ? undefined : listenAddress(v['zk-secure-listen'], 'zk-secure-listen');
  const tls = !secure && !portUnification ? undefined : {
    certFile: v['zk-tls-cert-file'] || undefined, keyFile: v['zk-tls-key-file'] || undefined,
    trustedCaFile: v['zk-tls-trusted-ca-file'] || undefined, crlFile: v['zk-tls-crl-file'] || undefined,
    clientAuth, superUser: v['zk-x509-super-user'] || undefined, reloadIntervalMs: v['zk-tls-reload-interval'],
  };
  const admin = v['zk-admin-listen'] === '' ? undefined : { ...listenAddress(v['zk-admin-listen'], 'zk-admin-listen'), commandUrl: v['zk-admin-command-url'] };
  const metricsServer = v['zk-metrics-listen'] === '' ? undefined : listenAddress(v['zk-metrics-listen'], 'zk-metrics-listen');
  return {
    host, port, plain, secure, portUnification, tls, admin, metricsServer,
    tickTime: v['zk-tick-time'],
    minSessionTimeout: min || undefined,
    maxSessionTimeout: max || undefined,
    maxFrame: v['zk-max-buffer'],
    maxClientCnxns: v['zk-max-client-cnxns'],
    maxCnxns: v['zk-max-cnxns'],
    keyPrefix: v['zk-key-prefix'],
    ttlEnabled: v['zk-ttl-nodes'],
    enforceQuota: v['zk-enforce-quota'],
    enforceAuthSchemes: enforceAuthSchemes(v['zk-enforce-auth-schemes'], { sasl: v['zk-sasl-users-file'] !== '', x509: tls !== undefined }),
    fourLetterWords: fourLetterWhitelist(v['zk-4lw-commands-whitelist']),
    superDigest: v['zk-super-digest'] || undefined,
    notificationZxid: v['zk-notification-zxid'],
    containerCheckIntervalMs: v['zk-container-check-ms'],
    readOnlyMode: v['zk-read-only-mode'],
    sasl: {
      usersFile: v['zk-sasl-users-file'] || undefined,
      required: v['zk-sasl-required'],
      allowFailedClients: v['zk-sasl-allow-failed-clients'],
      superUsers: v['zk-sasl-super-user'],
      kerberosRemoveHost: v['zk-kerberos-remove-host-from-principal'],
      kerberosRemoveRealm: v['zk-kerberos-remove-realm-from-principal'],
      kerberosAuthToLocal: authToLocal(v['zk-kerberos-auth-to-local']),
    },
  };
}

/** --zk-kerberos-auth-to-local parsed; a rule that does not parse stops the start, as it stops ZooKeeper's. */
function authToLocal(text: string): AuthToLocal {
  try {
    return AuthToLocal.parse(text);
  } catch (e) {
    if (e instanceof AuthToLocalError) throw new ZkFlagError(`--zk-kerberos-auth-to-local: ${e.message}`);
    throw e;
  }
}

/** The schemes of --zk-enforce-auth-schemes, each one that this server can authenticate. */
function enforceAuthSchemes(schemes: readonly string[], available: { sasl: boolean; x509: boolean }): string[] {
  for (const s of schemes) {
    if (!(ENFORCEABLE_AUTH_SCHEMES as readonly string[]).includes(s)) throw new ZkFlagError(`--zk-enforce-auth-schemes: unknown scheme '${s}' (want ${ENFORCEABLE_AUTH_SCHEMES.join(', ')})`);
    if (s === 'sasl' && !available.sasl) throw new ZkFlagError('--zk-enforce-auth-schemes=sasl needs --zk-sasl-users-file (no SASL users to authenticate)');
    if (s === 'x509' && !available.x509) throw new ZkFlagError('--zk-enforce-auth-schemes=x509 needs TLS clients: set --zk-secure-listen or --zk-port-unification');
  }
  return [...schemes];
}

function fourLetterWhitelist(text: string): ReadonlySet<string> {
  try {
    return parseFourLetterWhitelist(text);
  } catch (e) {
    throw new ZkFlagError(`--zk-4lw-commands-whitelist: ${(e as Error).message}`);
  }
}

/** `host:port` or `[v6]:port` → its parts (the brackets dropped), or undefined when it is neither. */
export function parseHostPort(value: string): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** {@link parseHostPort}, or a {@link ZkFlagError} naming `flag`. */
function listenAddress(value: string, flag: string): { host: string; port: number } {
  const a = parseHostPort(value);
  if (!a) throw new ZkFlagError(`invalid --${flag} '${value}' (want host:port or [ipv6]:port, or '' to disable)`);
  return a;
}
