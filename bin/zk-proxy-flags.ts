/**
 * The flags of `coracle zk-proxy`: `--endpoints`, `--log-level` and the `--zk-*` table it
 * shares with the embedded server (zkproxy/zk-flags.ts), parsed like every other `coracle`
 * flag (environment forms included).
 */
import { FlagSpec, flagHelpLines, parseFlagTable, UsageError } from './flags';
import { EtcdCredentialFlags, ZK_FLAGS, ZkFlagError, ZkFlagOptions, ZkFlagValues, zkOptionsFromFlags } from '../zkproxy/index';

/** Every flag `coracle zk-proxy` accepts. */
export const ZK_PROXY_FLAGS = {
  endpoints: { kind: 'list', default: ['http://127.0.0.1:2379'], help: 'Client URLs of the etcd v3 cluster to serve ZooKeeper from (https:// for TLS).' },
  cacert: { kind: 'string', default: '', help: "PEM CA certificates that sign etcd's server certificate (etcdctl --cacert); implies TLS." },
  cert: { kind: 'string', default: '', help: 'PEM client certificate for an etcd with --client-cert-auth (etcdctl --cert).' },
  key: { kind: 'string', default: '', help: 'PEM private key of --cert (etcdctl --key).' },
  user: { kind: 'string', default: '', help: "etcd user, 'name:password' or 'name' with --password, for an etcd with authentication enabled (etcdctl --user)." },
  password: { kind: 'string', default: '', help: 'Password of --user (etcdctl --password).' },
  'log-level': { kind: 'string', default: 'info', help: 'debug, info, warn, error or fatal.' },
  ...ZK_FLAGS,
} satisfies Record<string, FlagSpec>;

/** What `coracle zk-proxy` runs with. */
export interface ZkProxyCommandOptions {
  endpoints: string[];
  logLevel: string;
  zk: ZkFlagOptions;
  /** TLS and user towards etcd, files not yet read (`loadEtcdCredentials`). */
  etcd: EtcdCredentialFlags;
}

/** Parses the subcommand's argv; throws {@link UsageError} with what to change. */
export function parseZkProxyFlags(argv: readonly string[], env: NodeJS.ProcessEnv): ZkProxyCommandOptions {
  const v = parseFlagTable(ZK_PROXY_FLAGS, argv, env) as ZkFlagValues & { endpoints: string[]; 'log-level': string; cacert: string; cert: string; key: string; user: string; password: string };
  if (v.endpoints.length === 0) throw new UsageError('--endpoints needs at least one etcd client URL');
  let zk: ZkFlagOptions | undefined;
  try {
    zk = zkOptionsFromFlags(v);
  } catch (err) {
    if (err instanceof ZkFlagError) throw new UsageError(err.message);
    throw err;
  }
  if (!zk) throw new UsageError('coracle zk-proxy needs a --zk-listen or --zk-secure-listen address (host:port)');
  return { endpoints: v.endpoints, logLevel: v['log-level'], zk, etcd: etcdCredentialFlags(v, v.endpoints) };
}

/**
 * The TLS and user flags towards etcd (`--cacert`, `--cert`, `--key`, `--user`, `--password`, as
 * etcdctl takes them) for `endpoints`; throws {@link UsageError} when they mix https:// and
 * plaintext URLs.
 */
export function etcdCredentialFlags(v: Record<'cacert' | 'cert' | 'key' | 'user' | 'password', string>, endpoints: readonly string[]): EtcdCredentialFlags {
  const https = endpoints.filter((e) => /^https:\/\//i.test(e)).length;
  if (https > 0 && https < endpoints.length) throw new UsageError('--endpoints mixes https:// and plaintext URLs: an etcd cluster serves clients one way');
  return {
    cacert: v.cacert || undefined, cert: v.cert || undefined, key: v.key || undefined, user: v.user || undefined,
    password: v.password || undefined, https: https > 0,
  };
}

/** The subcommand's help text. */
export function zkProxyHelpText(): string {
  const lines = ['Usage: coracle zk-proxy --endpoints=URL[,URL...] [flags]', '', 'Serve the ZooKeeper client protocol in front of an etcd v3 cluster.', ''];
  return [...lines, ...flagHelpLines(ZK_PROXY_FLAGS)].join('\n');
}
