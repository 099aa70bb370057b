/**
 * The flags of `coracle zk-proxy`: `--endpoints`, `--log-level` and the `--zk-*` table it
 * shares with the embedded server (zkproxy/zk-flags.ts), parsed like every other `coracle`
 * flag (environment forms included).
 */
import { FlagSpec, flagHelpLines, parseFlagTable, UsageError } from './flags';
import { ZK_FLAGS, ZkFlagError, ZkFlagOptions, ZkFlagValues, zkOptionsFromFlags } from '../zkproxy/index';

/** Every flag `coracle zk-proxy` accepts. */
export const ZK_PROXY_FLAGS = {
  endpoints: { kind: 'list', default: ['http://127.0.0.1:2379'], help: 'Client URLs of the etcd v3 cluster to serve ZooKeeper from.' },
  'log-level': { kind: 'string', default: 'info', help: 'debug, info, warn, error or fatal.' },
  ...ZK_FLAGS,
} satisfies Record<string, FlagSpec>;

/** What `coracle zk-proxy` runs with. */
export interface ZkProxyCommandOptions {
  endpoints: string[];
  logLevel: string;
  zk: ZkFlagOptions;
}

/** Parses the subcommand's argv; throws {@link UsageError} with what to change. */
export function parseZkProxyFlags(argv: readonly string[], env: NodeJS.ProcessEnv): ZkProxyCommandOptions {
  const v = parseFlagTable(ZK_PROXY_FLAGS, argv, env) as ZkFlagValues & { endpoints: string[]; 'log-level': string };
  if (v.endpoints.length === 0) throw new UsageError('--endpoints needs at least one etcd client URL');
  let zk: ZkFlagOptions | undefined;
  try {
    zk = zkOptionsFromFlags(v);
  } catch (err) {
    if (err instanceof ZkFlagError) throw new UsageError(err.message);
    throw err;
  }
  if (!zk) throw new UsageError('coracle zk-proxy needs a --zk-listen or --zk-secure-listen address (host:port)');
  return { endpoints: v.endpoints, logLevel: v['log-level'], zk };
}

/** The subcommand's help text. */
export function zkProxyHelpText(): string {
  const lines = ['Usage: coracle zk-proxy --endpoints=URL[,URL...] [flags]', '', 'Serve the ZooKeeper client protocol in front of an etcd v3 cluster.', ''];
  return [...lines, ...flagHelpLines(ZK_PROXY_FLAGS)].join('\n');
}
