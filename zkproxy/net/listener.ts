/**
 * `ZkListener`: the ZooKeeper ports — the plain client port and, when configured, the secure
 * one (TLS, tls-port.ts). Accepts connections (bounded, both ports counted together), owns the
 * server-wide stats and answers four-letter words through its connections, on either port.
 */
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { TLSSocket, createServer as createTlsServer } from 'node:tls';
import { STANDALONE_ROLE } from '../backend/server-role';
import { ZkHandler } from '../dispatch/zk-handler';
import { ZK_HANDSHAKE_TIMEOUT_MS, ZK_MAX_CONNECTIONS } from '../limits';
import { ZkLogger } from '../logger';
import { AuthId, normalizeAddress } from '../mapping/acl-rules';
import { ZkServices } from '../ops/services';
import { ZkConnection } from './connection';
import { FourLetterSource } from './four-letter-words';
import { ServerStats } from './server-stats';
import { ZkSecurePort, certificateIdentities, tlsServerOptions } from './tls-port';

/** Refused connections are logged at most this often. */
const REJECT_LOG_INTERVAL_MS = 10_000;

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
  /** The secure port (secureClientPort). */
  secure?: ZkSecurePort;
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
  private readonly secureServer: Server | undefined;
  private addresses: ListenerAddresses = {};
  private lastTlsErrorLog = 0;

  constructor(
    private readonly handler: ZkHandler,
    private readonly services: ZkServices,
    private readonly opts: ListenerOptions,
    private readonly logger: ZkLogger,
  ) {
    if (opts.plain !== false) this.server = createServer((socket) => this.accept(socket, []));
    const secure = opts.secure;
    if (secure) {
      const server = createTlsServer(tlsServerOptions(secure.tls, ZK_HANDSHAKE_TIMEOUT_MS), (socket) => this.acceptSecure(socket, secure));
      // A failed handshake (no or untrusted certificate, not TLS at all) ends that socket only.
      server.on('tlsClientError', (err, socket) => this.tlsRefused(socket.remoteAddress, err.message));
      this.secureServer = server;
    }
  }

  /** Starts listening on every configured port; resolves with the bound addresses. */
  async listen(): Promise<ListenerAddresses> {
    if (this.server) this.addresses.plain = await listenOn(this.server, this.opts.port, this.opts.host);
    if (this.secureServer && this.opts.secure) this.addresses.secure = await listenOn(this.secureServer, this.opts.secure.port, this.opts.secure.host);
    this.logger.info({ address: this.addresses.plain, secureAddress: this.addresses.secure }, 'ZooKeeper listener started');
    return this.addresses;
  }

  /** A TLS connection after its handshake: its certificate gives identities, or it is refused. */
  private acceptSecure(socket: TLSSocket, secure: ZkSecurePort): void {
    const verdict = certificateIdentities(socket, secure.tls);
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
    this.logger.warn({ remote: normalizeAddress(remote), reason }, 'refused a TLS client on the secure ZooKeeper port (check its certificate against --zk-tls-trusted-ca-file)');
  }

  private accept(socket: Socket, identities: AuthId[]): void {
    const address = normalizeAddress(socket.remoteAddress);
    const fromAddress = this.perAddress.get(address) ?? 0;
    const limit = this.opts.maxClientCnxns;
    if (this.connections.size >= (this.opts.maxConnections ?? ZK_MAX_CONNECTIONS) || (limit > 0 && fromAddress >= limit)) {
      // ZooKeeper closes such a socket before reading anything (NIOServerCnxnFactory.doAccept).
      this.stats.connectionsRejected++;
      this.warnRejected(address, limit);
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
  private warnRejected(address: string, limit: number): void {
    this.rejectedSinceLog++;
    const now = Date.now();
    if (now - this.lastRejectLog < REJECT_LOG_INTERVAL_MS) return;
    this.logger.warn(
      { remote: address, maxPerAddress: limit, open: this.connections.size, refused: this.rejectedSinceLog },
      `too many connections from ${address}; refusing (raise --zk-max-client-cnxns, or fix the client that opens them)`,
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

  private fourLetterSource(): FourLetterSource {
    const s = this.services;
    return {
      stats: this.stats,
      connections: () => [...this.connections].filter((c) => c.session()).map((c) => c.stats),
      zxid: () => s.tree.revision,
      nodeCount: () => s.tree.size(),
      watches: () => ({ ...s.watches.count(), connections: this.connections.size }),
      ephemerals: () => s.tree.ephemeralCount(),
      dataSize: () => s.tree.approximateDataSize(),
      writeConflicts: () => s.runner.conflicts,
      config: () => ({
        clientPort: this.addresses.plain?.port, secureClientPort: this.addresses.secure?.port, tickTime: this.opts.tickTime,
        minSessionTimeout: this.opts.minSessionTimeout, maxSessionTimeout: this.opts.maxSessionTimeout,
        maxClientCnxns: this.opts.maxClientCnxns,
      }),
      role: () => s.backend.serverRole?.() ?? STANDALONE_ROLE,
    };
  }

  /** Cuts every connection at once (tests: a network blip); sessions live on. */
  dropConnections(): void {
    for (const c of this.connections) c.destroy();
  }

  /** Stops accepting and closes every connection (sessions live on in the store). */
  async close(): Promise<void> {
    for (const c of this.connections) c.close('listener closing');
    await Promise.all([this.server, this.secureServer].map((server) => server && new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
