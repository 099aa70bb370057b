/**
 * `coracle zk-migrate --from=HOST:PORT` (a live ZooKeeper) or `--from-data-dir=DIR` alone (its
 * files): copies a ZooKeeper's znodes into a Coracle (or the etcd cluster a `coracle zk-proxy`
 * serves) through its etcd API, keeping what clients see of each znode
 * (zkproxy/migrate/zk-migration.ts has what moves and what cannot). Progress goes to stderr
 * every 2 s, the summary to stdout. Exit codes: 0 copied, 1 the copy stopped (the
 * message says where and what to do; running it again resumes, nodes already there are kept),
 * 2 usage error.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { FlagSpec, UsageError, flagHelpLines, parseFlagTable } from './flags';
import { KeySchema } from '../zkproxy/mapping/key-schema';
import { RemoteBackend } from '../zkproxy/backend/remote-backend';
import { ZkWireClient } from '../zkproxy/dispatch/zk-wire-client';
import { MigrationOptions, MigrationReport, migrateFromZooKeeper } from '../zkproxy/migrate/zk-migration';
import { MigrationError, NodeSource } from '../zkproxy/migrate/zk-source';
import { loadZkImage } from '../zkproxy/migrate/zk-image-loader';
import { ZxidOutcome } from '../zkproxy/migrate/zxid-raise';
import { CarriedSessions } from '../zkproxy/migrate/session-carrier';
import { ZkImage } from '../zkproxy/migrate/zk-image';
import { EtcdCredentialFlags, loadEtcdCredentials } from '../zkproxy/backend/etcd-credentials';
import { ZK_PROXY_FLAGS, etcdCredentialFlags } from './zk-proxy-flags';
import { parseHostPort } from '../zkproxy/zk-flags';

/** Parents whose children a copy from the files writes at once (a live copy reads the source at its default, 4). */
const FILES_CONCURRENCY = 16;

// TLS and a user towards etcd, as `coracle zk-proxy` (and etcdctl) take them.
const { cacert, cert, key, user, password } = ZK_PROXY_FLAGS;

const FLAGS = {
  from: { kind: 'string', default: '', help: 'host:port of a live ZooKeeper to copy from (or give --from-data-dir alone to copy its files).' },
  'from-auth': { kind: 'list', default: [], help: "Identities the copy reads the source with, as zkCli's addauth takes them: scheme:auth, e.g. digest:super:secret (comma-separated for several)." },
  endpoints: { kind: 'list', default: ['http://127.0.0.1:2379'], help: "etcd API of the Coracle (or of the etcd cluster a 'coracle zk-proxy' serves) that receives the copy." },
  'zk-key-prefix': { kind: 'string', default: '/zk/', help: 'Key prefix of the ZooKeeper space in that store (as --zk-key-prefix of its server).' },
  path: { kind: 'string', default: '/', help: 'The subtree to copy.' },
  'dry-run': { kind: 'bool', default: false, help: 'Read the source and the store, write nothing: say what a copy would write.' },
  'from-cacert': { kind: 'string', default: '', help: "PEM CA certificates that sign the source ZooKeeper's server certificate: connect over TLS (its secureClientPort)." },
  'from-cert': { kind: 'string', default: '', help: 'PEM client certificate for a source ZooKeeper that asks for one (ssl.clientAuth); needs --from-key.' },
  'from-key': { kind: 'string', default: '', help: 'PEM private key of --from-cert.' },
  'from-data-dir': { kind: 'string', default: '', help: "The source's dataDir (zoo.cfg; read-only). Alone: copy the tree its snapshot and logs hold. With --from: they tell which znodes are containers and TTL znodes, which then keep their kind." },
  'from-log-dir': { kind: 'string', default: '', help: "The source's dataLogDir, when it is not the dataDir." },
  'skip-sessions': { kind: 'bool', default: false, help: "With --from-data-dir alone: leave the open sessions of ZooKeeper's files behind, with their ephemerals (their clients are told that their session expired)." },
  'raise-zxid': { kind: 'bool', default: false, help: "Move Coracle's zxids past the source's even when its ZooKeeper space is in use (the zxids of the znodes already there change with them); done anyway into an unused one." },
  cacert, cert, key, user, password,
} satisfies Record<string, FlagSpec>;

/** Help of `coracle zk-migrate`, also part of `coracle --help`. */
export function zkMigrateHelp(): string {
  return [
    'Copy a ZooKeeper into Coracle: coracle zk-migrate --from=HOST:PORT [--endpoints=URLS] [flags]',
    '                           or: coracle zk-migrate --from-data-dir=DIR [--from-log-dir=DIR] [--endpoints=URLS] [flags]',
    '  Reads every znode of the source and writes it with its data, ACL, version, aversion, ctime, mtime',
    '  and cversion (so versioned writes and sequential names carry on where they were). /zookeeper is',
    "  not copied; zxids are new, past the source's, so its clients can switch over. Run it again to",
    '  resume: znodes already there are kept.',
    '  --from reads a live ZooKeeper as a client: stop its writers for an exact copy. Its ephemerals are',
    '  not copied (their sessions live on there; a client moving over is told that its session expired).',
    "  Containers and TTL znodes arrive as plain ones unless --from-data-dir names its data directory.",
    "  --from-data-dir alone copies the tree ZooKeeper's snapshot and transaction logs hold (stop",
    '  ZooKeeper first): the state after the last txn written, containers and TTL znodes included, and',
    '  its open sessions with their ephemerals: a client that reconnects within its session timeout',
    '  carries on with its session, as after a ZooKeeper restart (unless --skip-sessions).',
    ...flagHelpLines(FLAGS),
  ].join('\n');
}

/** Runs `coracle zk-migrate <argv…>` and resolves with the exit code. */
export async function zkMigrateCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(zkMigrateHelp() + '\n');
    return 0;
  }
  let options;
  try {
    options = parse(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`coracle zk-migrate: ${e.message}\nRun 'coracle zk-migrate --help' for usage.\n`);
    return 2;
  }
  try {
    const report = await run(options);
    const done = options.dryRun ? 'would copy' : 'copied';
    const kept = options.dryRun ? 'would keep' : 'kept';
    if (report.zxid) process.stderr.write(`${zxidLine(report.zxid, options.dryRun)}\n`);
    for (const why of report.sessions?.left ?? []) process.stderr.write(`warning: not carried over: ${why}\n`);
    if (report.sessions && report.sessions.carried > 0 && !options.dryRun) process.stderr.write(`${sessionsLine(report.sessions)}\n`);
    const kinds = options.dataDir === undefined ? '' : `; ${report.containers} containers and ${report.ttlNodes} TTL znodes ${kept} their kind`;
    const carried = options.dryRun ? 'would be carried over' : 'carried over';
    const sessions = report.sessions ? `; ${report.sessions.carried} sessions ${carried} with ${report.ephemeralsCopied} ephemerals` : '';
    process.stdout.write(`${done} ${report.copied} znodes (${report.bytes} bytes of data); ${report.existing} already there, kept; ${report.ephemeralsSkipped} ephemerals not copied${kinds}${sessions}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`coracle zk-migrate: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

interface Options {
  /** The live source; undefined: copy the files of dataDir. */
  live?: { host: string; port: number };
  auth: { scheme: string; auth: Buffer }[]; endpoints: string[]; prefix: string; path: string; etcd: EtcdCredentialFlags;
  dryRun: boolean;
  raiseZxid: boolean;
  skipSessions: boolean;
  /** The source's dataDir and dataLogDir, to read the znodes' kinds from (none: all plain). */
  dataDir?: string;
  logDir?: string;
  /** TLS to the source: PEM file paths (none: plaintext). */
  sourceTls?: { cacert: string; cert?: string; key?: string };
}

type Values = { from: string; 'from-auth': string[]; endpoints: string[]; 'zk-key-prefix': string; path: string; 'dry-run': boolean; 'raise-zxid': boolean; 'skip-sessions': boolean }
  & Record<'cacert' | 'cert' | 'key' | 'user' | 'password' | 'from-cacert' | 'from-cert' | 'from-key' | 'from-data-dir' | 'from-log-dir', string>;

function parse(argv: string[]): Options {
  const v = parseFlagTable(FLAGS, argv, {}) as Values;
  if (!v.path.startsWith('/')) throw new UsageError(`invalid --path '${v.path}' (want an absolute znode path)`);
  if (v['from-log-dir'] !== '' && v['from-data-dir'] === '') throw new UsageError('--from-log-dir goes with --from-data-dir (the snapshots are in the dataDir)');
  if (v.from === '') requireNoLiveFlags(v);
  else if (v['skip-sessions']) throw new UsageError('--skip-sessions is for a copy of the files (--from-data-dir alone): a live copy never carries sessions');
  return {
    live: v.from === '' ? undefined : sourceAddress(v.from), auth: sourceAuth(v['from-auth']), sourceTls: sourceTlsFlags(v), endpoints: v.endpoints,
    prefix: v['zk-key-prefix'], path: v.path, etcd: etcdCredentialFlags(v, v.endpoints), dryRun: v['dry-run'], raiseZxid: v['raise-zxid'], skipSessions: v['skip-sessions'],
    dataDir: v['from-data-dir'] || undefined, logDir: v['from-log-dir'] || undefined,
  };
}

function sourceAddress(from: string): { host: string; port: number } {
  const a = parseHostPort(from);
  if (!a) throw new UsageError(`invalid --from '${from}' (want host:port)`);
  return a;
}

/** Without --from the copy reads files: a flag for reaching a live source is a mistake. */
function requireNoLiveFlags(v: Values): void {
  if (v['from-data-dir'] === '') throw new UsageError('give --from=HOST:PORT (a live ZooKeeper) or --from-data-dir=DIR (its dataDir, to copy its files)');
  for (const f of ['from-auth', 'from-cacert', 'from-cert', 'from-key'] as const) {
    const given = Array.isArray(v[f]) ? v[f].length > 0 : v[f] !== '';
    if (given) throw new UsageError(`--${f} is for a live source (--from); a copy from --from-data-dir reads the files and needs no credentials`);
  }
}

function sourceAuth(values: string[]): Options['auth'] {
  return values.map((a) => {
    const i = a.indexOf(':');
    if (i <= 0) throw new UsageError(`invalid --from-auth '${a}' (want scheme:auth, e.g. digest:user:password)`);
    return { scheme: a.slice(0, i), auth: Buffer.from(a.slice(i + 1), 'utf8') };
  });
}

function sourceTlsFlags(v: Values): Options['sourceTls'] {
  if ((v['from-cert'] === '') !== (v['from-key'] === '')) throw new UsageError('--from-cert and --from-key go together');
  if (v['from-cert'] !== '' && v['from-cacert'] === '') throw new UsageError('--from-cert needs --from-cacert (the client certificate is for a TLS port)');
  return v['from-cacert'] === '' ? undefined : { cacert: v['from-cacert'], cert: v['from-cert'] || undefined, key: v['from-key'] || undefined };
}

async function run(o: Options): Promise<MigrationReport> {
  // Read the TLS files and the data directory first: a bad one is said before anything connects.
  const credentials = loadEtcdCredentials(o.etcd);
  const image = o.dataDir === undefined ? undefined : readImage(o.dataDir, o.logDir, o.live === undefined);
  const source = o.live ? await openLiveSource(o, o.live) : { reader: filesReader(image!), close: async () => undefined };
  const target = new RemoteBackend({ endpoints: o.endpoints, credentials });
  const started = Date.now();
  let last = started;
  try {
    return await migrateFromZooKeeper({
      source: source.reader, target, keys: new KeySchema(o.prefix), path: o.path, dryRun: o.dryRun, kinds: image, raiseZxid: o.raiseZxid, skipSessions: o.skipSessions,
      // Reading the files costs nothing: more parents at once keep more txns in flight (100k
      // znodes under 100 parents: 6.5–7.0 s with 16 against 7.6–7.7 s with the live copy's 4).
      concurrency: o.live ? undefined : FILES_CONCURRENCY,
      onProgress: (r) => {
        const now = Date.now();
        if (now - last < 2000) return;
        last = now;
        process.stderr.write(`copied ${r.copied} znodes, ${r.existing} already there, ${r.ephemeralsSkipped} ephemerals skipped (${Math.round((r.copied + r.existing) / ((now - started) / 1000))}/s)\n`);
      },
    });
  } finally {
    await source.close().catch(() => undefined);
    await target.close();
  }
}

/** The source read from its files: the tree, its last zxid and its open sessions. */
function filesReader(image: ZkImage): MigrationOptions['source'] {
  return { read: async (p: string) => image.read(p), lastZxid: image.lastZxid, openSessions: () => image.openSessions() };
}

/** What the carried sessions' clients must do now, for stderr. */
function sessionsLine(s: CarriedSessions): string {
  const { min, max } = s.timeoutsMs;
  const timeouts = min === max ? `${min / 1000} s` : `${min / 1000}–${max / 1000} s`;
  return `sessions: ${s.carried} carried over, their timeouts ${timeouts}: switch their clients to Coracle now; ` +
    'a session whose client has not reconnected within its timeout expires, and its ephemerals go';
}

const hex = (z: bigint): string => `0x${z.toString(16)}`;

/** What became of Coracle's zxids, for stderr (a warning when its clients could not switch over). */
function zxidLine(z: ZxidOutcome, dryRun: boolean): string {
  const source = `the source's last zxid is ${hex(z.sourceZxid)}`;
  switch (z.kind) {
    case 'ahead':
      return `zxids: Coracle's are past the source's (zxid base ${hex(z.base)}; ${source})`;
    case 'raised':
      return `zxids: Coracle's ${dryRun ? 'would start' : 'now start'} at ${hex(z.to)} (zxid base, was ${hex(z.from)}), past the source's epoch (${source}): ` +
        "the source's clients can move over";
    case 'held':
      return `warning: Coracle's zxids (zxid base ${hex(z.base)}) are below the source's (${source}) and were left alone, since its ` +
        'ZooKeeper space is in use: a client moving over from the source is refused ("client must try another server") until it ' +
        `starts a new session. Run again with --raise-zxid to set the zxid base to ${hex(z.needed)} (the zxids of the znodes already in Coracle move with it)`;
  }
}

/** A session on the live source, authenticated with --from-auth. */
async function openLiveSource(o: Options, at: { host: string; port: number }): Promise<{ reader: MigrationOptions['source']; close(): Promise<unknown> }> {
  const tls = o.sourceTls && sourceTlsOptions(o.sourceTls);
  const client = await ZkWireClient.connect({ host: at.host, port: at.port, timeoutMs: 30_000, tls }).catch((e: Error) => {
    const hint = tls && !o.sourceTls?.cert ? ' (if its TLS port asks for a client certificate, give --from-cert and --from-key)' : '';
    throw new MigrationError(`cannot connect to the source ZooKeeper at ${at.host}:${at.port}: ${e.message}${hint}`);
  });
  try {
    for (const a of o.auth) {
      const r = await client.send({ op: 'auth', type: 0, scheme: a.scheme, auth: a.auth });
      if (r.header.err !== 0) throw new MigrationError(`the source ZooKeeper refused --from-auth ${a.scheme}:… (error ${r.header.err})`);
    }
  } catch (e) {
    await client.close().catch(() => undefined);
    throw e;
  }
  return { reader: new NodeSource(client), close: () => client.close() };
}

/**
 * The tree in the source's data directory; what was read (and passed over) goes to stderr. For a
 * copy of the files themselves (`whole`), txns missing or unreadable stop it: the tree would not
 * be ZooKeeper's. For the kinds of a live copy they are warnings (a znode may arrive plain).
 */
function readImage(dataDir: string, logDir: string | undefined, whole: boolean): ZkImage {
  // A large snapshot takes seconds to read: say what is going on first.
  process.stderr.write(`reading ZooKeeper's snapshot and transaction logs in ${logDir && logDir !== dataDir ? `${dataDir} and ${logDir}` : dataDir}\n`);
  const { image, report } = loadZkImage(dataDir, logDir);
  for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
  const { containers, ttls } = image.counts();
  const snapshot = report.snapshot ? `${report.snapshot} (${report.snapshotZnodes} znodes)` : 'no snapshot';
  process.stderr.write(`read ${snapshot} and ${report.logs} transaction logs (${report.txns} txns after it): the tree at zxid 0x${image.lastZxid.toString(16)}, ${image.size} znodes, ${containers} containers, ${ttls} TTL znodes\n`);
  const missing = report.gaps.length > 0 ? `the logs lack the txns of zxids ${report.gaps.join(', ')} (a transaction log is missing; give ZooKeeper's dataLogDir with --from-log-dir when it is not the dataDir)` : undefined;
  const unreadable = report.unreadable > 0 ? `${report.unreadable} logged txns did not parse` : undefined;
  const problem = [missing, unreadable].filter((p) => p !== undefined).join('; ');
  if (problem === '') return image;
  if (whole) throw new MigrationError(`${problem}: the files do not hold ZooKeeper's whole state, so nothing was copied; copy from the live ZooKeeper instead (--from=HOST:PORT)`);
  process.stderr.write(`warning: ${problem}; znodes they touched may arrive plain\n`);
  return image;
}

/** Node TLS options from the --from-* files; a file that cannot be read is named. */
function sourceTlsOptions(f: { cacert: string; cert?: string; key?: string }): ConnectionOptions {
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new MigrationError(`cannot read --${flag} ${file}: ${(e as Error).message}`);
    }
  };
  return { ca: read('from-cacert', f.cacert), ...(f.cert ? { cert: read('from-cert', f.cert), key: read('from-key', f.key!) } : {}) };
}
