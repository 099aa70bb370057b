/**
 * `ZkListener`: the ZooKeeper ports — the plain client port and, when configured, the secure
 * one (TLS, tls-port.ts). Accepts connections (bounded, both ports counted together), owns the
 * server-wide stats and answers four-letter words through its connections, on either port.
 *
 * With port unification (ZooKeeper's `client.portUnification`) the plain port also takes TLS
 * clients: operators move clients to TLS one at a time without changing the address they use.
 * The first byte tells them apart: 0x16 opens a TLS handshake record, while a ZooKeeper frame
 * starts with its length's high byte (0 for any frame under 16 MiB) and a four-letter word
 * with a letter.
 */
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { Server as TlsServer, TLSSocket, createServer as createTlsServer } from 'node:tls';
import { READ_ONLY_ROLE, STANDALONE_ROLE } from '../backend/server-role';
import { ZkHandler } from '../dispatch/zk-handler';
import { ZK_HANDSHAKE_TIMEOUT_MS, ZK_MAX_CONNECTIONS } from '../limits';
import { ZkLogger } from '../logger';
import { AuthId, normalizeAddress } from '../mapping/acl-rules';
import { wireZxidNumber } from '../mapping/zxid-base';
import { ZkServices } from '../ops/services';
import { ZkConnection } from './connection';
import { ENABLED_WORDS, FourLetterSource } from './four-letter-words';
import { TraceMask } from '../trace-mask';
import { listenFailure } from './listen-failure';
import { ServerStats } from './server-stats';
import { resetConnectionStats } from './connection-stats';
import { ZkSecurePort, ZkTlsOptions, certificateIdentities, tlsServerOptions } from './tls-port';
import { TlsReloader } from './tls-reloader';

/** Refused connections are logged at most this often. */
const REJECT_LOG_INTERVAL_MS = 10_000;

/** The first byte of a TLS handshake record (a ClientHello), RFC 8446 §5.1. */
const TLS_HANDSHAKE_RECORD = 0x16;

/** Listener settings. */
export interface ListenerOptions {
  host: string;
  port: number;
  maxFrame: number;
  tickTime: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  maxConnections?: number;
  /** Concurrent connections from one IP address (maxClientCnxns); 0 = no limit. */
  maxClientCnxns: number;
  /** Serve the plain port at host:port (default true; false with only a secure port). */
  plain?: boolean;
  /** The secure port (secureClientPort); needs `tls`. */
  secure?: ZkSecurePort;
  /** The plain port also accepts TLS clients (client.portUnification); needs `tls`. */
  portUnification?: boolean;
  /** TLS settings of the secure port and of a unified plain port. */
  tls?: ZkTlsOptions;
  /** Four-letter words answered (4lw.commands.whitelist); default every one we implement. */
  fourLetterWords?: ReadonlySet<string>;
  /** The mask gtmk/stmk read and set (shared with the logging decorator); default a fresh one. */
  traceMask?: TraceMask;
}

/** The addresses the listener is bound to. */
export interface ListenerAddresses {
  plain?: AddressInfo;
  secure?: AddressInfo;
}

/** The ZooKeeper port. */
export class ZkListener {
  readonly stats = new ServerStats();
  private readonly connections = new Set<ZkConnection>();
  /** Live connections per client IP address, for maxClientCnxns. */
  private readonly perAddress = new Map<string, number>();
  private lastRejectLog = 0;
  private rejectedSinceLog = 0;
  private readonly server: Server | undefined;
  /** Makes the TLS connections of the secure port and of a unified plain port. */
  private readonly tlsServer: TlsServer | undefined;
  /** The TLS settings in service (replaced by a reload). */
  private tls: ZkTlsOptions | undefined;
  private reloader: TlsReloader | undefined;
  private addresses: ListenerAddresses = {};
  private lastTlsErrorLog = 0;

  constructor(
    private readonly handler: ZkHandler,
    private readonly services: ZkServices,
    private readonly opts: ListenerOptions,
    private readonly logger: ZkLogger,
  ) {
    if (opts.secure || opts.portUnification) {
      if (!opts.tls) throw new Error('a secure or unified ZooKeeper port needs TLS settings');
      this.tls = opts.tls;
      const server = createTlsServer(tlsServerOptions(opts.tls, ZK_HANDSHAKE_TIMEOUT_MS), (socket) => this.acceptSecure(socket));
      // A failed handshake (no or untrusted certificate, not TLS at all) ends that socket only.
      server.on('tlsClientError', (err, socket) => this.tlsRefused(socket.remoteAddress, err.message));
      this.tlsServer = server;
    }
    const tlsServer = opts.portUnification ? this.tlsServer : undefined;
    if (opts.plain !== false) this.server = createServer((socket) => (tlsServer ? this.sniff(socket, tlsServer) : this.accept(socket, [])));
  }

  /**
   * Starts listening on every configured port; resolves with the bound addresses. On a failure
   * the caller closes the listener (a port bound before the failing one stays bound until then).
   */
  async listen(): Promise<ListenerAddresses> {
    if (this.server) this.addresses.plain = await listenOn(this.server, this.opts.port, this.opts.host, 'zk-listen');
    if (this.tlsServer && this.opts.secure) this.addresses.secure = await listenOn(this.tlsServer, this.opts.secure.port, this.opts.secure.host, 'zk-secure-listen');
    const reload = this.tls?.source;
    if (this.tlsServer && reload?.reloadIntervalMs) {
      this.reloader = new TlsReloader(reload, reload.reloadIntervalMs, (o) => this.replaceTls(o), this.logger);
      await this.reloader.start(this.tls!);
    }
    this.logger.info({ address: this.addresses.plain, secureAddress: this.addresses.secure, portUnification: this.opts.portUnification ?? false }, 'ZooKeeper listener started');
    return this.addresses;
  }

  /** New TLS files: handshakes from now on use them; open connections keep theirs. */
  private replaceTls(o: ZkTlsOptions): void {
    this.tls = o;
    this.tlsServer?.setSecureContext(tlsServerOptions(o, ZK_HANDSHAKE_TIMEOUT_MS));
  }

  /**
   * A connection to a unified plain port: TLS when its first byte opens a handshake record,
   * plain ZooKeeper otherwise. The byte goes back to the socket, so whichever side takes the
   * socket reads the stream from its start (a TLS server feeds bytes already buffered on a
   * socket to its handshake).
   */
  private sniff(socket: Socket, tlsServer: TlsServer): void {
    const giveUp = setTimeout(() => socket.destroy(), ZK_HANDSHAKE_TIMEOUT_MS);
    const failed = (): void => {
      clearTimeout(giveUp);
      socket.destroy();
    };
    socket.once('error', failed);
    socket.once('close', () => clearTimeout(giveUp));
    socket.once('data', (first: Buffer) => {
      clearTimeout(giveUp);
      socket.off('error', failed);
      socket.pause();
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE_RECORD) {
        tlsServer.emit('connection', socket);
        return;
      }
      this.accept(socket, []);
      socket.resume();
    });
  }

  /** A TLS connection after its handshake: its certificate gives identities, or it is refused. */
  private acceptSecure(socket: TLSSocket): void {
    const verdict = certificateIdentities(socket, this.tls!);
    if ('refuse' in verdict) {
      this.tlsRefused(socket.remoteAddress, verdict.refuse);
      socket.destroy();
      return;
    }
    this.accept(socket, verdict.ids);
  }

  /** Logs refused TLS clients, at most once per {@link REJECT_LOG_INTERVAL_MS}. */
  private tlsRefused(remote: string | undefined, reason: string): void {
    const now = Date.now();
    if (now - this.lastTlsErrorLog < REJECT_LOG_INTERVAL_MS) return;
    this.lastTlsErrorLog = now;
    this.logger.warn({ remote: normalizeAddress(remote), reason }, 'refused a TLS client on the ZooKeeper port (check its certificate against --zk-tls-trusted-ca-file and --zk-tls-crl-file)');
  }

  private accept(socket: Socket, identities: AuthId[]): void {
    const address = normalizeAddress(socket.remoteAddress);
    const fromAddress = this.perAddress.get(address) ?? 0;
    const limit = this.opts.maxClientCnxns;
    const total = this.opts.maxConnections ?? ZK_MAX_CONNECTIONS;
    const full = this.connections.size >= total;
    if (full || (limit > 0 && fromAddress >= limit)) {
      // ZooKeeper closes such a socket before reading anything (NIOServerCnxnFactory.doAccept).
      this.stats.connectionsRejected++;
      this.warnRejected(address, full ? `${total} connections in all (raise --zk-max-cnxns)` : `${limit} from ${address} (raise --zk-max-client-cnxns, or fix the client that opens them)`);
      socket.destroy();
      return;
    }
    this.perAddress.set(address, fromAddress + 1);
    const conn = new ZkConnection(socket, {
      handler: this.handler, services: this.services, stats: this.stats, maxFrame: this.opts.maxFrame,
      logger: this.logger, fourLetter: this.fourLetterSource(), onClose: (c) => this.closed(c, address), identities,
    });
    this.connections.add(conn);
  }

  /**
   * Logs refused connections, at most once per {@link REJECT_LOG_INTERVAL_MS} with the count
   * since: a client reconnecting in a loop must not flood the log.
   */
  private warnRejected(address: string, limit: string): void {
    this.rejectedSinceLog++;
    const now = Date.now();
    if (now - this.lastRejectLog < REJECT_LOG_INTERVAL_MS) return;
    this.logger.warn(
      { remote: address, open: this.connections.size, refused: this.rejectedSinceLog },
      `too many ZooKeeper connections: at most ${limit}; refusing`,
    );
    this.lastRejectLog = now;
    this.rejectedSinceLog = 0;
  }

  private closed(conn: ZkConnection, address: string): void {
    if (!this.connections.delete(conn)) return;
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(address, left);
    else this.perAddress.delete(address);
  }

  /** Live connections (tests, 4lw). */
  connectionCount(): number {
    return this.connections.size;
  }

  /** What the four-letter words and the AdminServer report, read live from this listener. */
  fourLetterSource(): FourLetterSource {
    return (this.monitoring ??= this.buildFourLetterSource());
  }

  /** Built on first use, then shared by every connection. */
  private monitoring: FourLetterSource | undefined;

  private buildFourLetterSource(): FourLetterSource {
    const s = this.services;
    // Every open connection, as ZooKeeper's cnxns: those still in their handshake and one
    // answering a four-letter word too (session id 0).
    const live = (): ZkConnection[] => [...this.connections].filter((c) => c.isOpen());
    return {
      allowedWords: this.opts.fourLetterWords ?? ENABLED_WORDS,
      traceMask: this.opts.traceMask ?? new TraceMask(),
      stats: this.stats,
      connections: () => live().map((c) => c.stats),
      zxid: () => wireZxidNumber(s.tree.revision, s.tree.zxidBase),
      // ZooKeeper's DataTree holds the root under both "" and "/", and counts it twice: tools
      // comparing the two servers see the same figure.
      nodeCount: () => s.tree.size() + 1,
      watchSummary: () => s.watches.dataSummary(),
      watchCount: () => s.watches.count(),
      ephemerals: () => s.tree.ephemeralCount(),
      dataSize: () => s.tree.approximateDataSize(),
      writeConflicts: () => s.runner.conflicts,
      config: () => ({
        clientPort: this.addresses.plain?.port, secureClientPort: this.addresses.secure?.port, tickTime: this.opts.tickTime,
        minSessionTimeout: this.opts.minSessionTimeout, maxSessionTimeout: this.opts.maxSessionTimeout,
        maxClientCnxns: this.opts.maxClientCnxns,
      }),
      role: () => (s.readOnly?.mode.active ? READ_ONLY_ROLE : s.backend.serverRole?.() ?? STANDALONE_ROLE),
      resetConnectionStats: () => {
        for (const c of this.connections) resetConnectionStats(c.stats);
      },
      dataWatchesBySession: () => new Map(live().map((c) => [c.stats.sessionId, s.watches.dataPathsOf(c)] as const).filter(([, paths]) => paths.length > 0)),
      sessionExpiries: () => s.sessions.expiries(),
      ephemeralsBySession: () => s.tree.ephemeralOwners(),
      storage: () => s.backend.storageDirs?.(),
    };
  }

  /** Cuts every connection at once (tests: a network blip); sessions live on. */
  dropConnections(): void {
    for (const c of this.connections) c.destroy();
  }

  /** Stops accepting and closes every connection (sessions live on in the store). */
  async close(): Promise<void> {
    this.reloader?.stop();
    for (const c of this.connections) c.close('listener closing');
    // A TLS server that only serves a unified port never listened: closing it is an error to ignore.
    await Promise.all([this.server, this.tlsServer].map((server) => server && new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

/** Binds `server`; a failure (EADDRINUSE, EACCES…) names the `--flag` that sets the address. */
function listenOn(server: Server, port: number, host: string, flag: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const failed = (e: Error): void => reject(listenFailure('ZooKeeper clients', `${host}:${port}`, flag, e));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve(server.address() as AddressInfo);
    });
  });
}
