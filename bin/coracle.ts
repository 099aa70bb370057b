#!/usr/bin/env node
/**
 * The `coracle` command: flags/env → start one member with its etcd API (gRPC + HTTP/1.1 on the
 * client port); `coracle zk-proxy …`, `coracle snapshot status|restore …` and `coracle zk-migrate …` are subcommands.
 * The composition root: the only place that makes the root logger.
 */
import pino from 'pino';
import { helpText, isExplicit, parseFlags, UsageError } from './flags';
import { versionText } from './version-text';
import { WalCorruptionError } from '../core/storage/wal-errors';
import { Member, MEMBER_DEFAULTS } from '../core/server/member';
import { GrpcServer } from '../core/server/grpc/grpc-server';
import { ClientListener } from '../core/server/grpc/client-listener';
import { registerEtcdServices } from '../core/server/services/etcd-services';
import { httpRoutes } from '../core/server/http-routes';
import { Logger } from '../core/util/logger';
import { startZkProxy, runZkProxyCommand, loadSaslOptions, loadTls, zkOptionsFromFlags, ZkProxy, SaslOptions, ZkTlsOptions } from '../zkproxy/index';
import { parseZkProxyFlags, zkProxyHelpText } from './zk-proxy-flags';
import { LocalBackend } from '../zkproxy/backend/local-backend';
import { listenFailure } from '../zkproxy/net/listen-failure';
import { admitProposal } from '../core/server/quota';
import type { ApplyBody } from '../core/apply/apply-request';
import { snapshotCommand, snapshotHelp } from './snapshot-command';
import { registerZkMetrics } from './zk-metrics';
import { zkMigrateCommand, zkMigrateHelp } from './zk-migrate-command';
import { memberMetricsOf } from '../core/server/metrics';
import { AutoCompactor, parseAutoCompaction } from '../core/server/auto-compactor';

/** Waits for SIGTERM or SIGINT (or `also`, e.g. this member's removal from the cluster). */
function untilSignal(logger: Logger, also?: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    void also?.then(resolve);
    const stop = (sig: string) => {
      logger.info({ signal: sig }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** `coracle zk-proxy --endpoints=...`: the ZooKeeper front end over an existing etcd v3 cluster. */
async function zkProxyCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(zkProxyHelpText() + '\n');
    return 0;
  }
  let proxy: ZkProxy;
  let logger: Logger;
  try {
    const opts = parseZkProxyFlags(argv, process.env);
    logger = pino({ level: opts.logLevel === 'panic' ? 'fatal' : opts.logLevel }) as unknown as Logger;
    proxy = await runZkProxyCommand(opts.endpoints, opts.zk, logger, opts.etcd);
  } catch (err) {
    process.stderr.write(`coracle zk-proxy: ${(err as Error).message}\nRun 'coracle zk-proxy --help' for usage.\n`);
    return 2;
  }
  await untilSignal(logger);
  await proxy.close();
  return 0;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'zk-proxy') return zkProxyCommand(argv.slice(1));
  if (argv[0] === 'snapshot') return snapshotCommand(argv.slice(1));
  if (argv[0] === 'zk-migrate') return zkMigrateCommand(argv.slice(1));
  if (argv.includes('--version')) {
    process.stdout.write(versionText() + '\n');
    return 0;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText() + '\n\n' + zkProxyHelpText() + '\n\n' + snapshotHelp() + '\n\n' + zkMigrateHelp() + '\n');
    return 0;
  }
  let flags;
  try {
    flags = parseFlags(argv, process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`coracle: ${err.message}\nRun 'coracle --help' for the list of flags.\n`);
      return 2;
    }
    throw err;
  }
  // parseFlags checked the --zk-* values: this only maps them ('' listen address: no front end).
  const zkOptions = zkOptionsFromFlags(flags);
  let sasl: SaslOptions | undefined;
  let tls: ZkTlsOptions | undefined;
  try {
    // Read before anything starts: a bad users or TLS file is a usage error, not a half-started member.
    sasl = zkOptions ? loadSaslOptions(zkOptions.sasl) : undefined;
    tls = loadTls(zkOptions?.tls);
  } catch (err) {
    process.stderr.write(`coracle: ${(err as Error).message}\n`);
    return 2;
  }
  const logger = pino({ level: flags['log-level'] === 'panic' ? 'fatal' : flags['log-level'] }) as unknown as Logger;
  let member: Member;
  let removed!: () => void;
  const removal = new Promise<void>((resolve) => (removed = resolve));
  try {
    member = await Member.start({
      ...MEMBER_DEFAULTS,
      name: flags.name,
      dataDir: flags['data-dir'],
      peerUrls: flags['initial-advertise-peer-urls'],
      listenPeerUrls: flags['listen-peer-urls'],
      // The default peer port may be taken by another local member: only a port the operator
      // chose must be free (a member alone needs no peer listener to serve).
      listenPeerUrlsOptional: !isExplicit('listen-peer-urls', argv, process.env),
      initialCluster: flags['initial-cluster'],
      initialClusterState: flags['initial-cluster-state'] as 'new' | 'existing',
      onRemoved: () => removed(),
      // Off in production (it decodes every entry twice); the test command turns it on.
      checkOwnEntries: process.env.CORACLE_CHECK_OWN_ENTRIES === '1',
      clientUrls: flags['advertise-client-urls'],
      clusterToken: flags['initial-cluster-token'],
      heartbeatMs: flags['heartbeat-interval'],
      electionMs: flags['election-timeout'],
      quotaBackendBytes: flags['quota-backend-bytes'],
      maxTxnOps: flags['max-txn-ops'],
      maxRequestBytes: flags['max-request-bytes'],
      unsafeNoFsync: flags['unsafe-no-fsync'],
      snapshotCount: flags['snapshot-count'],
      snapshotCatchUpEntries: flags['experimental-snapshot-catchup-entries'],
      logger: logger.child({ component: 'member' }),
    });
  } catch (err) {
    logger.fatal({ err }, withNextStep(err as Error));
    return 1;
  }
  const compactor = startAutoCompactor(member, flags['auto-compaction-mode'], flags['auto-compaction-retention'], logger);
  const grpc = new GrpcServer({ maxReceiveMessageBytes: flags['max-request-bytes'] + 512 * 1024, logger: logger.child({ component: 'grpc' }) });
  registerEtcdServices(grpc, member);
  const listeners: ClientListener[] = [];
  let zk: ZkProxy | undefined;
  // The front ends first, the member last; after a failed start, whatever of them started.
  const stopAll = async (): Promise<void> => {
    compactor?.stop();
    await zk?.close();
    grpc.stop();
    await Promise.all(listeners.map((l) => l.close()));
    await member.stop();
  };
  try {
    for (const u of flags['listen-client-urls']) listeners.push(await listenClients(u, grpc, member, logger));
    if (zkOptions) {
      // ZooKeeper writes count against --quota-backend-bytes like etcd writes do.
      const backend = new LocalBackend(member, (proposal) => admitProposal(member, proposal as ApplyBody));
      // startZkProxy names its logger component itself.
      zk = await startZkProxy({ ...zkOptions, backend, sasl, tls, logger });
      registerZkMetrics(memberMetricsOf(member).registry, zk);
      logger.info({ address: flags['zk-listen'] || undefined, secureAddress: flags['zk-secure-listen'] || undefined }, 'serving ZooKeeper clients');
    }
  } catch (err) {
    // A port taken or refused: say which, and stop what started (the member's data stays as it was).
    logger.fatal({ err }, (err as Error).message);
    await stopAll();
    return 1;
  }
  await untilSignal(logger, removal);
  await stopAll();
  return 0;
}

/** A start-up failure's message, with what the operator can do about it when that is known. */
function withNextStep(err: Error): string {
  if (err instanceof WalCorruptionError) {
    return `${err.message}. The member's log is damaged beyond its torn tail and it will not start on it. ` +
      'Keep the data dir for inspection and start this member from a copy of the data: in a cluster, ' +
      "remove it (etcdctl member remove) and add it back with an empty --data-dir; alone, restore a snapshot (coracle snapshot restore)";
  }
  return err.message;
}

/** Serves etcd clients on `url`; a bind failure says which flag sets the address. */
async function listenClients(url: string, grpc: GrpcServer, member: Member, logger: Logger): Promise<ClientListener> {
  const { hostname, port } = new URL(url);
  try {
    const l = await ClientListener.listen({ grpc, http: httpRoutes(member), host: hostname, port: Number(port || 2379), logger: logger.child({ component: 'client-listener' }) });
    logger.info({ url }, 'serving client requests');
    return l;
  } catch (e) {
    throw listenFailure('etcd clients', url, 'listen-client-urls', e);
  }
}

/** Starts the auto compaction the flags ask for (parseFlags has checked them); undefined when off. */
function startAutoCompactor(member: Member, mode: string, retention: string, logger: Logger): AutoCompactor | undefined {
  const policy = parseAutoCompaction(mode, retention);
  if (policy.mode === 'off') return undefined;
  const log = logger.child({ component: 'auto-compactor' });
  log.info({ mode, retention }, 'auto compaction enabled');
  return new AutoCompactor(policy, {
    currentRevision: () => member.header().revision,
    isLeader: () => member.isLeader,
    compact: async (rev) => {
      await member.propose({ type: 'compaction', revision: rev, physical: false });
    },
  }, log).start();
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`coracle: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
