/**
 * `coracle snapshot status|restore`: the offline half of backup and restore, with etcdctl 3.4's
 * flag names and defaults (`etcdctl/ctlv3/command/snapshot_command.go`). The online half is
 * etcd's own `etcdctl snapshot save`, which works against a running member unchanged.
 *
 * Parsing and printing only; the work is in core/server/snapshot-status.ts and
 * snapshot-restore.ts. Exit codes: 0 done, 1 refused or failed (the message says why and what
 * to do), 2 usage error.
 */
import pino from 'pino';
import { ClusterConfigError } from '../core/cluster/initial-cluster';
import { SnapshotFileError } from '../core/server/snapshot-file';
import { restoreSnapshot, RestoreError } from '../core/server/snapshot-restore';
import { snapshotFileStatus } from '../core/server/snapshot-status';
import { Logger } from '../core/util/logger';
import { formatStatus, STATUS_FORMATS, StatusFormat } from './snapshot-printer';
import { UsageError } from './flags';

const RESTORE_FLAGS = {
  'data-dir': { bool: false, default: '', help: 'Path to the data directory (default: <name>.coracle). Must not exist, or be empty.' },
  name: { bool: false, default: 'default', help: 'Human-readable name for this member.' },
  'initial-cluster': { bool: false, default: '', help: 'Initial cluster configuration for restore bootstrap, name=peerURL,... (empty: <name>=<initial-advertise-peer-urls>, which with the defaults is etcd\'s default=http://localhost:2380).' },
  'initial-cluster-token': { bool: false, default: 'etcd-cluster', help: 'Initial cluster token for the cluster during restore bootstrap.' },
  'initial-advertise-peer-urls': { bool: false, default: 'http://localhost:2380', help: "List of this member's peer URLs to advertise to the rest of the cluster." },
  'skip-hash-check': { bool: true, default: '', help: 'Ignore snapshot integrity hash value (required if copied from data directory).' },
} as const;

const STATUS_FLAGS = {
  'write-out': { bool: false, default: 'simple', help: `Output format: ${STATUS_FORMATS.join(', ')} (also -w).` },
} as const;

type Spec = Record<string, { bool: boolean; default: string; help: string }>;

/** Help of `coracle snapshot`, also part of `coracle --help`. */
export function snapshotHelp(): string {
  const flags = (spec: Spec) => Object.entries(spec).map(([n, s]) => `      --${n}  ${s.help}${s.bool ? '' : ` (default: ${JSON.stringify(s.default)})`}`);
  return [
    'Backup and restore (etcdctl 3.4 names and behaviour):',
    '  etcdctl --endpoints=HOST:PORT snapshot save FILE   takes a backup of a running member (etcd\'s own client)',
    '  coracle snapshot status FILE [-w simple|table|json|fields]',
    '      Verifies the file\'s SHA-256 trailer and prints hash, revision, total keys, total size.',
    '      The hash is Coracle\'s own: the HashKV of the keyspace at the snapshot\'s revision, the number',
    '      \'etcdctl endpoint hashkv\' prints on a cluster restored from the file before any new write.',
    '      Total keys counts every stored entry (history, leases, members, meta), as etcd counts buckets.',
    ...flags(STATUS_FLAGS),
    '  coracle snapshot restore FILE --data-dir DIR [flags]',
    '      Writes a new data dir holding the snapshot\'s keyspace (every revision, the current revision,',
    '      leases, auth) for one member of a NEW cluster built from the flags below, exactly as a first',
    '      boot with --initial-cluster-state new would. Restore each member from the same file with its',
    '      own --name and --initial-advertise-peer-urls, then start it with the same flags:',
    '      coracle --name NAME --data-dir DIR --initial-cluster ... --initial-advertise-peer-urls URL ...',
    ...flags(RESTORE_FLAGS),
  ].join('\n');
}

/** Runs `coracle snapshot <argv…>` and resolves with the exit code. */
export async function snapshotCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help' || rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(snapshotHelp() + '\n');
      return 0;
    }
    if (sub === 'status') return await status(rest);
    if (sub === 'restore') return await restore(rest);
    if (sub === 'save') throw new UsageError("use 'etcdctl --endpoints=HOST:PORT snapshot save FILE' against a running member to take a snapshot");
    throw new UsageError(`unknown snapshot subcommand '${sub}' (want status or restore)`);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`coracle snapshot: ${err.message}\nRun 'coracle snapshot --help' for usage.\n`);
      return 2;
    }
    // Refusals, and the file system saying no (EACCES, ENOSPC, …): the message is the whole story.
    const systemError = typeof (err as NodeJS.ErrnoException)?.code === 'string' && (err as NodeJS.ErrnoException).syscall !== undefined;
    if (err instanceof SnapshotFileError || err instanceof RestoreError || err instanceof ClusterConfigError || systemError) {
      process.stderr.write(`Error: ${(err as Error).message}\n`);
      return 1;
    }
    throw err;
  }
}

async function status(argv: string[]): Promise<number> {
  const { values, args } = parseArgs(argv, STATUS_FLAGS);
  if (args.length !== 1) throw new UsageError('snapshot status requires exactly one argument');
  const format = values['write-out'] as StatusFormat;
  if (!STATUS_FORMATS.includes(format)) throw new UsageError(`unsupported output format '${format}' (want ${STATUS_FORMATS.join(', ')})`);
  const st = await snapshotFileStatus(args[0]!);
  process.stdout.write(formatStatus(st, format));
  return 0;
}

async function restore(argv: string[]): Promise<number> {
  const { values, args } = parseArgs(argv, RESTORE_FLAGS);
  if (args.length !== 1) throw new UsageError('snapshot restore requires exactly one argument');
  const name = values.name as string;
  // etcd's logs go to stderr; stdout stays empty, as with etcdctl.
  const logger = pino({ level: 'info' }, pino.destination(2)) as unknown as Logger;
  await restoreSnapshot({
    snapshotPath: args[0]!,
    dataDir: (values['data-dir'] as string) || `${name}.coracle`,
    name,
    // Empty means this member alone at its advertised URLs, as for `coracle` itself.
    initialCluster: values['initial-cluster'] as string,
    initialClusterToken: values['initial-cluster-token'] as string,
    peerUrls: (values['initial-advertise-peer-urls'] as string).split(',').map((u) => u.trim()).filter(Boolean),
    skipHashCheck: values['skip-hash-check'] === true,
    logger: logger.child({ component: 'snapshot-restore' }),
  });
  return 0;
}

/**
 * `--flag=value`, `--flag value`, `-w value`, `-w=value`, bare booleans (`--flag`, or
 * `--flag=true|false`); everything else is a positional argument. Unknown flags are usage errors.
 */
function parseArgs(argv: string[], spec: Spec): { values: Record<string, string | boolean>; args: string[] } {
  const values: Record<string, string | boolean> = {};
  for (const [n, s] of Object.entries(spec)) values[n] = s.bool ? false : s.default;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      args.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = arg.replace(/^--?/, '').slice(0, eq < 0 ? undefined : eq - (arg.startsWith('--') ? 2 : 1));
    if (name === 'w') name = 'write-out';
    const s = spec[name];
    if (!s) throw new UsageError(`unknown flag ${arg.slice(0, eq < 0 ? undefined : eq)}`);
    if (s.bool) {
      const raw = eq < 0 ? 'true' : arg.slice(eq + 1);
      if (raw !== 'true' && raw !== 'false') throw new UsageError(`invalid boolean '${raw}' for --${name}`);
      values[name] = raw === 'true';
    } else if (eq >= 0) {
      values[name] = arg.slice(eq + 1);
    } else if (argv[i + 1] !== undefined) {
      values[name] = argv[++i]!;
    } else {
      throw new UsageError(`flag --${name} needs a value`);
    }
  }
  return { values, args };
}
