/**
 * Command-line flags with etcd's names and their `ETCD_*` environment forms (etcd.md §4.1):
 * `--some-flag` ↔ `ETCD_SOME_FLAG`; a flag on the command line wins over the environment.
 * Unknown flags and bad values are usage errors with a message that says what to do. The
 * `--zk-*` flags come from zkproxy's table, shared with `coracle zk-proxy` (zk-proxy-flags.ts).
 */
import { ZK_FLAGS, ZkFlagError, zkOptionsFromFlags } from '../zkproxy/index';
import { parseAutoCompaction } from '../core/server/auto-compactor';

/** The kind of a flag's value. */
type Kind = 'string' | 'int' | 'bool' | 'list';

/** One flag: its value kind, default and help line. */
export interface FlagSpec {
  kind: Kind;
  default: string | number | boolean | string[];
  help: string;
}

/**
 * The auto-compaction retention used when the ZooKeeper port is on and none was set. ZooKeeper
 * keeps no history and its clients never compact, so without this every ZooKeeper write would
 * grow the store and the key index until the NOSPACE alarm stops writes.
 */
export const ZK_DEFAULT_RETENTION = { periodic: '5m', revision: '10000' } as const;

/** Every flag `coracle` accepts. */
export const FLAGS = {
  name: { kind: 'string', default: 'default', help: 'Human-readable name for this member.' },
  'data-dir': { kind: 'string', default: '', help: 'Path to the data directory (default: ${name}.coracle).' },
  'listen-client-urls': { kind: 'list', default: ['http://127.0.0.1:2379'], help: 'URLs to serve the etcd v3 API (gRPC and HTTP/1.1 on one port).' },
  'advertise-client-urls': { kind: 'list', default: [], help: 'Client URLs advertised to the cluster (default: the listen URLs).' },
  'listen-peer-urls': { kind: 'list', default: ['http://127.0.0.1:2380'], help: 'URLs to listen on for peer traffic.' },
  'initial-advertise-peer-urls': { kind: 'list', default: ['http://localhost:2380'], help: 'Peer URLs advertised to the cluster (they determine the member id).' },
  'initial-cluster': { kind: 'string', default: '', help: 'Initial cluster configuration, name=peerURL,...' },
  'initial-cluster-state': { kind: 'string', default: 'new', help: "'new' or 'existing'." },
  'initial-cluster-token': { kind: 'string', default: 'etcd-cluster', help: 'Initial cluster token (part of the member and cluster ids).' },
  'heartbeat-interval': { kind: 'int', default: 100, help: 'Time (ms) of a heartbeat interval.' },
  'election-timeout': { kind: 'int', default: 1000, help: 'Time (ms) for an election to time out.' },
  'snapshot-count': { kind: 'int', default: 100000, help: 'Applied entries between snapshots (log compaction).' },
  'experimental-snapshot-catchup-entries': { kind: 'int', default: 5000, help: 'Entries kept in the Raft log behind a snapshot for slow followers to catch up.' },
  'max-request-bytes': { kind: 'int', default: 1572864, help: 'Maximum client request size in bytes.' },
  'max-txn-ops': { kind: 'int', default: 128, help: 'Maximum number of operations permitted in a transaction.' },
  'quota-backend-bytes': { kind: 'int', default: 0, help: 'Raise an alarm when the backend exceeds this size (0 = 2 GiB).' },
  'auto-compaction-mode': { kind: 'string', default: 'periodic', help: "'periodic' or 'revision'." },
  'auto-compaction-retention': {
    kind: 'string', default: '',
    help: "Auto compaction retention (0 = off): hours or a duration ('30m') for periodic, revisions for revision mode. "
      + `Unset: 0 with the ZooKeeper port off; with it on, ${ZK_DEFAULT_RETENTION.periodic} (periodic) or ${ZK_DEFAULT_RETENTION.revision} (revision), since ZooKeeper clients never compact.`,
  },
  'log-level': { kind: 'string', default: 'info', help: 'debug, info, warn, error, panic or fatal.' },
  'unsafe-no-fsync': { kind: 'bool', default: false, help: 'Disables fsync: unsafe, loses acknowledged writes on a crash.' },
  ...ZK_FLAGS,
} satisfies Record<string, FlagSpec>;

/** Parsed flag values. */
export type FlagValues = { [K in keyof typeof FLAGS]: (typeof FLAGS)[K]['default'] extends string[] ? string[] : (typeof FLAGS)[K]['default'] };

/** A usage error (exit code 2). */
export class UsageError extends Error {}

/** Parses argv (without node and script) and the environment. */
export function parseFlags(argv: string[], env: NodeJS.ProcessEnv): FlagValues {
  const values = parseFlagTable(FLAGS, argv, env) as FlagValues;
  if (!values['data-dir']) values['data-dir'] = `${values.name}.coracle`;
  if (values['advertise-client-urls'].length === 0) values['advertise-client-urls'] = values['listen-client-urls'];
  let zkOn: boolean;
  try {
    zkOn = zkOptionsFromFlags(values) !== undefined;
  } catch (err) {
    if (err instanceof ZkFlagError) throw new UsageError(err.message);
    throw err;
  }
  values['auto-compaction-retention'] = effectiveRetention(values['auto-compaction-mode'], values['auto-compaction-retention'], zkOn);
  try {
    parseAutoCompaction(values['auto-compaction-mode'], values['auto-compaction-retention']);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const state = values['initial-cluster-state'];
  if (state !== 'new' && state !== 'existing') throw new UsageError(`invalid --initial-cluster-state '${state}' (want 'new' or 'existing')`);
  return values;
}

/** The retention in force: the one set, else 0, or with the ZooKeeper port on {@link ZK_DEFAULT_RETENTION}. */
export function effectiveRetention(mode: string, retention: string, zkOn: boolean): string {
  if (retention !== '') return retention;
  if (!zkOn) return '0';
  return mode === 'revision' ? ZK_DEFAULT_RETENTION.revision : ZK_DEFAULT_RETENTION.periodic;
}

/**
 * Parses argv against `table`: `--name=value` or `--name value` (a bool may stand alone),
 * defaults from the table, then from `env` (`ETCD_NAME`; pass {} for none), then the command
 * line. Throws {@link UsageError} for an unknown flag, a missing value or a bad one.
 */
export function parseFlagTable(table: Record<string, FlagSpec>, argv: readonly string[], env: NodeJS.ProcessEnv): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    const fromEnv = env[envName(name)];
    values[name] = fromEnv !== undefined ? convert(name, spec, fromEnv, 'environment') : spec.default;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = table[name];
    if (!spec) throw new UsageError(`unknown flag --${name}`);
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else if (spec.kind === 'bool' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--'))) raw = 'true';
    else if (argv[i + 1] !== undefined) raw = argv[++i]!;
    else throw new UsageError(`flag --${name} needs a value`);
    values[name] = convert(name, spec, raw, 'flag');
  }
  return values;
}

function convert(name: string, spec: FlagSpec, raw: string, from: string): unknown {
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    case 'bool':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new UsageError(`invalid boolean '${raw}' for ${from} --${name}`);
    case 'int': {
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`invalid value '${raw}' for ${from} --${name}: want a non-negative integer`);
      return n;
    }
  }
}

/** True when the flag was given on the command line or in the environment (not defaulted). */
export function isExplicit(name: keyof typeof FLAGS, argv: string[], env: NodeJS.ProcessEnv): boolean {
  if (env[envName(name)] !== undefined) return true;
  return argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
}

/** The help text. */
export function helpText(): string {
  const lines = [
    'Usage: coracle [flags]',
    '       coracle zk-proxy --endpoints=URL[,URL] [--zk-listen=host:port]',
    '       coracle snapshot status FILE [-w simple|table|json|fields]',
    '       coracle snapshot restore FILE --data-dir DIR [--name ...] [--initial-cluster ...] (see below)',
    '       coracle --version',
    '', 'Flags (each also settable as ETCD_<FLAG_NAME>):'];
  lines.push(...flagHelpLines(FLAGS));
  return lines.join('\n');
}

/** A flag's environment variable: `--some-flag` ↔ `ETCD_SOME_FLAG`. */
function envName(flag: string): string {
  return 'ETCD_' + flag.toUpperCase().replace(/-/g, '_');
}

/** One help line per flag of `table`, with its default. */
export function flagHelpLines(table: Record<string, FlagSpec>): string[] {
  return Object.entries(table).map(([name, spec]) => `  --${name}  ${spec.help} (default: ${JSON.stringify(spec.default)})`);
}
