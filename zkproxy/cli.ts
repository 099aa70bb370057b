/**
 * The `coracle zk-proxy` subcommand: the ZooKeeper front end alone, in front of an existing
 * etcd v3 cluster (DESIGN §1). `bin/coracle.ts` calls {@link runZkProxyCommand}; the flag
 * parser {@link parseZkFlags} is shared with the embedded mode's `--zk-*` flags.
 */
import { RemoteBackend } from './backend/remote-backend';
import { ZkProxy, ZkProxyOptions, startZkProxy } from './zk-proxy';
import { SaslFlags, loadSaslOptions } from './session/sasl-authenticator';
import { ZK_MAX_FRAME_DEFAULT, ZK_TICK_TIME_DEFAULT_MS } from './limits';
import { ZkLogger } from './logger';

/** The usage text of the subcommand. */
export const ZK_PROXY_USAGE = `Usage: coracle zk-proxy --endpoints=URL[,URL...] [flags]

Serve the ZooKeeper client protocol in front of an etcd v3 cluster.

  --endpoints=URLS            etcd client URLs (default http://127.0.0.1:2379)
  --zk-listen=HOST:PORT       ZooKeeper listen address (default 127.0.0.1:2181)
  --zk-tick-time=MS           tickTime (default ${ZK_TICK_TIME_DEFAULT_MS})
  --zk-min-session-timeout=MS minimum session timeout (default 2 x tickTime)
  --zk-max-session-timeout=MS maximum session timeout (default 20 x tickTime)
  --zk-max-buffer=BYTES       largest frame, like jute.maxbuffer (default ${ZK_MAX_FRAME_DEFAULT})
  --zk-key-prefix=PREFIX      key prefix of the ZooKeeper space (default /zk/)
  --zk-ttl-nodes=true|false   allow TTL nodes (zookeeper.extendedTypesEnabled; default true)
  --zk-super-digest=ID        super user digest "super:<base64 sha1>"
  --zk-container-check-ms=MS  container/TTL reaper interval (default 60000)
  --zk-sasl-users-file=PATH   JAAS file whose Server section lists SASL DIGEST-MD5 users
                              (user_<name>="<password>"); enables SASL authentication
  --zk-sasl-required[=BOOL]   refuse connections that have not SASL-authenticated
                              (zookeeper.sessionRequireClientSASLAuth; default false)
  --zk-sasl-allow-failed-clients[=BOOL]
                              keep connections whose SASL failed, unauthenticated
                              (zookeeper.allowSaslFailedClients; default false)
  --zk-sasl-super-user=NAMES  SASL users with the super identity (zookeeper.superUser)
  --log-level=LEVEL           accepted; the logger comes from the caller
`;

/**
 * The proxy options the `--zk-*` flags set (backend excluded); the SASL flags are kept apart
 * because turning them into options reads a file ({@link loadSaslOptions}).
 */
export type ZkFlagOptions = Omit<ZkProxyOptions, 'backend' | 'sasl'> & { endpoints: string[]; sasl: SaslFlags };

/** Flags that may be given without a value (meaning true). */
const BOOL_FLAGS = new Set(['zk-sasl-required', 'zk-sasl-allow-failed-clients']);

function boolFlag(name: string, v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new Error(`--${name} must be true or false, got "${v}"`);
}

function intFlag(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
}

/** Parses `--name=value` / `--name value` flags; unknown flags are errors. */
export function parseZkFlags(argv: readonly string[]): ZkFlagOptions {
  const o: ZkFlagOptions = { endpoints: ['http://127.0.0.1:2379'], sasl: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument "${arg}"`);
    const name = m[1]!;
    const bare = m[2] === undefined && BOOL_FLAGS.has(name) && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--'));
    const value = bare ? 'true' : m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    switch (name) {
      case 'endpoints': o.endpoints = value.split(',').filter(Boolean); break;
      case 'zk-listen': {
        const j = value.lastIndexOf(':');
        if (j < 0) throw new Error('--zk-listen must be HOST:PORT');
        o.host = value.slice(0, j).replace(/^\[|\]$/g, '');
        o.port = intFlag(name, value.slice(j + 1));
        break;
      }
      case 'zk-tick-time': o.tickTime = intFlag(name, value); break;
      case 'zk-min-session-timeout': o.minSessionTimeout = intFlag(name, value); break;
      case 'zk-max-session-timeout': o.maxSessionTimeout = intFlag(name, value); break;
      case 'zk-max-buffer': o.maxFrame = intFlag(name, value); break;
      case 'zk-key-prefix': o.keyPrefix = value; break;
      case 'zk-ttl-nodes': o.ttlEnabled = value !== 'false'; break;
      case 'zk-super-digest': o.superDigest = value; break;
      case 'zk-container-check-ms': o.containerCheckIntervalMs = intFlag(name, value); break;
      case 'zk-sasl-users-file': o.sasl.usersFile = value; break;
      case 'zk-sasl-required': o.sasl.required = boolFlag(name, value); break;
      case 'zk-sasl-allow-failed-clients': o.sasl.allowFailedClients = boolFlag(name, value); break;
      case 'zk-sasl-super-user': o.sasl.superUsers = value.split(',').map((u) => u.trim()).filter(Boolean); break;
      // The logger is made by bin/ (one pino root); the flag is accepted so one command line works.
      case 'log-level': break;
      default: throw new Error(`unknown flag --${name}\n\n${ZK_PROXY_USAGE}`);
    }
  }
  if (o.minSessionTimeout !== undefined && o.maxSessionTimeout !== undefined && o.minSessionTimeout > o.maxSessionTimeout) {
    throw new Error('--zk-min-session-timeout must not exceed --zk-max-session-timeout');
  }
  return o;
}

/**
 * Runs `coracle zk-proxy`: connects to etcd, serves ZooKeeper until `close()` is called.
 * Rejects on bad flags or when the listener cannot start.
 */
export async function runZkProxyCommand(argv: readonly string[], logger: ZkLogger): Promise<ZkProxy> {
  const { endpoints, sasl: saslFlags, ...opts } = parseZkFlags(argv);
  // Read the users file before connecting, so a bad file is a usage error and not a half-start.
  const sasl = loadSaslOptions(saslFlags);
  const backend = new RemoteBackend({ endpoints, logger: logger.child({ component: 'etcd-client' }) });
  try {
    const proxy = await startZkProxy({ ...opts, sasl, backend, logger });
    logger.info({ endpoints, zk: `${proxy.address.address}:${proxy.address.port}` }, 'zk-proxy serving');
    return {
      ...proxy,
      close: async () => {
        await proxy.close();
        await backend.close();
      },
    };
  } catch (e) {
    await backend.close();
    throw e;
  }
}
