/**
 * {@link startZkProxy} starts the ZooKeeper front end over any
 * {@link KvBackend} — the in-process core (local-backend.ts) or an etcd v3 cluster
 * (remote-backend.ts) — with one mapping for both (DESIGN §4, §5).
 */
import { AddressInfo } from 'node:net';
import { KvBackend, KvError } from './backend/kv-backend';
import { ZkHandler } from './dispatch/zk-handler';
import { withLogging } from './dispatch/logging-handler';
import { TraceMask } from './trace-mask';
import { withAuthRequired } from './dispatch/auth-required-handler';
import { ZkMetrics, withMetrics } from './dispatch/metrics-handler';
import { ZkLogger, silentLogger } from './logger';
import {
  ZK_CONTAINER_CHECK_INTERVAL_MS, ZK_MAX_CLIENT_CNXNS_DEFAULT, ZK_MAX_FRAME_DEFAULT, ZK_MAX_TXN_OPS_DEFAULT, ZK_TICK_TIME_DEFAULT_MS,
} from './limits';
import { bootstrapKeySpace } from './mapping/bootstrap';
import { KeySchema } from './mapping/key-schema';
import { ZnodeTree } from './mapping/znode-tree';
import { ZkListener } from './net/listener';
import { ZkAdminOptions, startZkAdminServer } from './net/admin-server';
import { ZkMetricsServerOptions, startZkMetricsServer } from './net/metrics-server';
import { FourLetterSource } from './net/four-letter-words';
import { ZkSecurePort, ZkTlsOptions } from './net/tls-port';
import { ContainerReaper } from './ops/container-reaper';
import { ZkServices } from './ops/services';
import { StoreHandler } from './ops/store-handler';
import { WriteRunner } from './ops/write-runner';
import { SaslAuthenticator, SaslOptions } from './session/sasl-authenticator';
import { SessionTable } from './session/session-table';
import { ReadOnlyMode } from './session/read-only-mode';
import { ReadOnlySessions } from './session/read-only-sessions';
import { withReadOnly } from './dispatch/read-only-handler';
import { ChangeFeed } from './watch/change-feed';
import { WatchManager } from './watch/watch-manager';
import { listenFailure } from './net/listen-failure';


/** Options of {@link startZkProxy}; everything but `backend` has ZooKeeper's default. */
export interface ZkProxyOptions {
  backend: KvBackend;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 2181; 0 picks a free port. */
  port?: number;
  /** Serve the plain port at host:port (default true; false serves only `secure`). */
  plain?: boolean;
  /** The TLS port (secureClientPort), with x509 client-certificate authentication; needs `tls`. */
  secure?: ZkSecurePort;
  /** The plain port also accepts TLS clients (client.portUnification); needs `tls`. */
  portUnification?: boolean;
  /** TLS settings of the secure port and of a unified plain port (`loadTlsOptions`). */
  tls?: ZkTlsOptions;
  logger?: ZkLogger;
  /** Key prefix of the ZooKeeper space in the store (default `/zk/`). */
  keyPrefix?: string;
  /** jute.maxbuffer (default 0xfffff). */
  maxFrame?: number;
  /** tickTime in ms (default 2000); session timeouts default to [2, 20] ticks. */
  tickTime?: number;
  minSessionTimeout?: number;
  maxSessionTimeout?: number;
  /** Concurrent connections from one client IP address (maxClientCnxns, default 60); 0 = no limit. */
  maxClientCnxns?: number;
  /** Concurrent connections in all (maxCnxns); 0 or unset = only the built-in bound (limits.ts). */
  maxCnxns?: number;
  /** Allow TTL nodes (zookeeper.extendedTypesEnabled); default true. */
  ttlEnabled?: boolean;
  /** Four-letter words answered on the client port (4lw.commands.whitelist); default all we implement. */
  fourLetterWords?: ReadonlySet<string>;
  /**
   * Serve only connections authenticated with one of these schemes (enforce.auth.schemes with
   * enforce.auth.enabled; `sasl.required` adds `sasl`); default none.
   */
  enforceAuthSchemes?: readonly string[];
  /** Enforce hard quotas (zookeeper.enforceQuota); default false, as ZooKeeper's. */
  enforceQuota?: boolean;
  /** "super:<base64 sha1>" digest that bypasses ACLs. */
  superDigest?: string;
  /** Send the change's zxid on notifications, as ZooKeeper 3.9 does (default false: -1, as 3.8). */
  notificationZxid?: boolean;
  /** SASL DIGEST-MD5 users and policy (`loadSaslOptions` builds them from flags); none by default. */
  sasl?: SaslOptions;
  /** Container/TTL reaper interval (znode.container.checkIntervalMs, default 60000). */
  containerCheckIntervalMs?: number;
  /** etcd --max-txn-ops of the backend (default 128). */
  maxTxnOps?: number;
  /** How long to keep retrying while the store is unreachable at start (default 30 s). */
  startTimeoutMs?: number;
  /**
   * Read-only mode (ZooKeeper's readonlymode.enabled): cut off from the quorum, serve reads to
   * clients that allow read-only sessions. Needs a backend that can tell (KvBackend.hasQuorum).
   */
  readOnlyMode?: boolean;
  /** ZooKeeper's AdminServer (HTTP `/commands/<name>`); none by default (ZooKeeper's is on at 8080). */
  admin?: ZkAdminOptions;
  /** The `/metrics` endpoint of ZooKeeper's Prometheus provider (metricsProvider.httpPort); none by default, as in ZooKeeper. */
  metricsServer?: ZkMetricsServerOptions;
  /** Wrap the store handler (logging, metrics, cross-checking). */
  decorate?: (h: ZkHandler, services: ZkServices) => ZkHandler;
}

/** A running proxy. */
export interface ZkProxy {
  /** The plain port's address; the secure port's when only that one is served. */
  address: AddressInfo;
  /** The secure (TLS) port's address, when there is one. */
  secureAddress?: AddressInfo;
  /** The AdminServer's address, when it runs. */
  adminAddress?: AddressInfo;
  /** The Prometheus `/metrics` endpoint's address, when it runs. */
  metricsAddress?: AddressInfo;
  services: ZkServices;
  /** Where every answered request is reported (op, code, latency): bin/ counts them on /metrics. */
  metrics: ZkMetrics;
  /** What the four-letter words and the AdminServer report, read live (bin/ exports it to /metrics). */
  monitoring: FourLetterSource;
  /** Cuts every client TCP connection (sessions live on): what a network blip looks like. */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * Runs `fn`, retrying while the store is unreachable (a proxy often starts before its etcd
 * cluster is up), for at most `timeoutMs`; other errors end it at once.
 */
async function whenStoreReachable(timeoutMs: number, logger: ZkLogger, fn: () => Promise<void>): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 4000)) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof KvError && e.code === 'unavailable') || Date.now() + delay > end) throw e;
      logger.warn({ err: e.message, retryMs: delay }, 'store unreachable; retrying');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** The read-only sessions of a proxy in read-only mode; throws when `backend` cannot tell a lost quorum. */
function readOnlySessions(backend: KvBackend, tree: ZnodeTree, logger: ZkLogger): ReadOnlySessions {
  if (!backend.hasQuorum) throw new Error('read-only mode needs a store that can tell whether its cluster has a quorum (the embedded core or etcd); this backend cannot');
  return new ReadOnlySessions(() => {
    if (!tree.secret) throw new KvError('unavailable', 'cluster secret not loaded');
    return tree.secret;
  }, logger.child({ part: 'read-only' }));
}

/**
 * The read-only switch: ZooKeeper's peer shuts its server down on losing the quorum, and its
 * read-only server on finding one, so every connection of the mode left is closed and the
 * clients reconnect.
 */
function readOnlyMode(backend: KvBackend, sessions: ReadOnlySessions, listener: ZkListener, tickTime: number, logger: ZkLogger): ReadOnlyMode {
  return new ReadOnlyMode(() => backend.hasQuorum!(), {
    entered: () => listener.dropConnections(),
    left: () => sessions.closeAll('serving read/write again'),
  }, { enterAfterMs: Math.max(2000, tickTime) }, logger.child({ part: 'read-only' }));
}

/**
 * Starts one of the HTTP servers beside the ZooKeeper port (`what`, set by `--flag`); when it
 * cannot listen, stops what started before it and says which flag to change.
 */
async function startSide<T extends { address: AddressInfo }>(what: string, flag: string, at: { host: string; port: number }, start: () => Promise<T>, logger: ZkLogger, stopRest: () => Promise<void>): Promise<T> {
  try {
    const server = await start();
    logger.info({ address: `${server.address.address}:${server.address.port}` }, `serving ${what}`);
    return server;
  } catch (e) {
    await stopRest();
    throw listenFailure(what, `${at.host}:${at.port}`, flag, e);
  }
}

/** Bootstraps the key space, loads the tree, starts the change feed, reaper and listener. */
export async function startZkProxy(o: ZkProxyOptions): Promise<ZkProxy> {
  // A usage error, before anything starts that would then need stopping.
  if (o.plain === false && !o.secure) throw new Error('the ZooKeeper front end needs a plain or a secure port');
  const logger = (o.logger ?? silentLogger).child({ component: 'zkproxy' });
  const tickTime = o.tickTime ?? ZK_TICK_TIME_DEFAULT_MS;
  const minSessionTimeout = o.minSessionTimeout ?? 2 * tickTime;
  const maxSessionTimeout = o.maxSessionTimeout ?? 20 * tickTime;
  const keys = new KeySchema(o.keyPrefix);
  const tree = new ZnodeTree(keys);
  // Checked first: a backend that cannot tell a lost quorum is a usage error, before any work.
  const roSessions = o.readOnlyMode ? readOnlySessions(o.backend, tree, logger) : undefined;
  const feed = new ChangeFeed(o.backend, tree, logger.child({ part: 'feed' }));
  const watches = new WatchManager((path) => tree.aclOf(path));
  feed.addSink(watches);
  await whenStoreReachable(o.startTimeoutMs ?? 30_000, logger, async () => {
    await bootstrapKeySpace(o.backend, keys);
    await feed.start();
  });
  const maxTxnOps = o.maxTxnOps ?? o.backend.maxTxnOps ?? ZK_MAX_TXN_OPS_DEFAULT;
  const runner = new WriteRunner(o.backend, feed, keys, logger);
  const sessions = new SessionTable(o.backend, keys, feed, runner, { minTimeoutMs: minSessionTimeout, maxTimeoutMs: maxSessionTimeout, maxTxnOps }, logger.child({ part: 'sessions' }));
  const adopted = sessions.adoptRecorded();
  if (adopted > 0) logger.info({ sessions: adopted }, 'tracking sessions recorded in the store');
  const services: ZkServices = {
    backend: o.backend, keys, feed, tree, watches, runner, sessions, logger,
    semantics: { ttlEnabled: o.ttlEnabled ?? true, enforceQuota: o.enforceQuota ?? false, superDigest: o.superDigest, notificationZxid: o.notificationZxid ?? false },
    sasl: o.sasl ? new SaslAuthenticator(o.sasl) : undefined,
  };
  if (o.sasl && services.sasl) {
    logger.info({ mechanisms: services.sasl.mechanisms, users: o.sasl.users.size, principal: o.sasl.kerberos?.principal, defaultRealm: o.sasl.kerberos?.mapping?.defaultRealm, required: o.sasl.required ?? false }, 'SASL authentication enabled');
  }
  const metrics = new ZkMetrics();
  const store: ZkHandler = new StoreHandler(services);
  // Inside metrics and logging, so refused requests are counted and logged as errors.
  const readOnly = roSessions ? withReadOnly(store, { zxid: () => tree.revision, close: (sess) => roSessions.close(sess) }) : store;
  const required = [...new Set([...(o.enforceAuthSchemes ?? []), ...(o.sasl?.required ? ['sasl'] : [])])];
  const gated = required.length > 0 ? withAuthRequired(readOnly, required, logger) : readOnly;
  const traceMask = new TraceMask();
  const base = withLogging(withMetrics(gated, metrics), logger, traceMask);
  const handler = o.decorate ? o.decorate(base, services) : base;
  const reaper = new ContainerReaper(services, o.containerCheckIntervalMs ?? ZK_CONTAINER_CHECK_INTERVAL_MS);
  const listener = new ZkListener(handler, services, {
    host: o.host ?? '127.0.0.1', port: o.port ?? 2181, maxFrame: o.maxFrame ?? ZK_MAX_FRAME_DEFAULT,
    tickTime, minSessionTimeout, maxSessionTimeout, maxClientCnxns: o.maxClientCnxns ?? ZK_MAX_CLIENT_CNXNS_DEFAULT, maxConnections: o.maxCnxns || undefined,
    plain: o.plain, secure: o.secure, portUnification: o.portUnification, tls: o.tls, fourLetterWords: o.fourLetterWords, traceMask,
  }, logger);
  if (roSessions) services.readOnly = { mode: readOnlyMode(o.backend, roSessions, listener, tickTime, logger), sessions: roSessions };
  const close = async (): Promise<void> => {
    reaper.stop();
    services.readOnly?.mode.stop();
    services.readOnly?.sessions.stop();
    await listener.close();
    sessions.stop();
    feed.close();
  };
  const bound = await listener.listen().catch(async (e: unknown) => {
    await close();
    throw e;
  });
  // One of them is bound: checked at the top.
  const address = (bound.plain ?? bound.secure)!;
  const monitoring = listener.fourLetterSource();
  const adminOpts = o.admin;
  const admin = adminOpts
    ? await startSide('the ZooKeeper AdminServer', 'zk-admin-listen', adminOpts, () => startZkAdminServer(monitoring, adminOpts, logger.child({ part: 'admin' })), logger, close)
    : undefined;
  const closeAll = async (): Promise<void> => {
    await admin?.close();
    await close();
  };
  const metricsOpts = o.metricsServer;
  const metricsServer = metricsOpts
    ? await startSide('the ZooKeeper Prometheus metrics', 'zk-metrics-listen', metricsOpts, () => startZkMetricsServer(monitoring, metricsOpts, logger.child({ part: 'metrics' })), logger, closeAll)
    : undefined;
  return {
    address, secureAddress: bound.secure, adminAddress: admin?.address, metricsAddress: metricsServer?.address, services, metrics, monitoring,
    dropConnections: () => listener.dropConnections(),
    close: async () => {
      await metricsServer?.close();
      await closeAll();
    },
  };
}
