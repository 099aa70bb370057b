/**
 * `ZkListener`: the TCP listener of the ZooKeeper port. Accepts connections (bounded), owns the
 * server-wide stats and answers four-letter words through its connections.
 */
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { STANDALONE_ROLE } from '../backend/server-role';
import { ZkHandler } from '../dispatch/zk-handler';
import { ZK_MAX_CONNECTIONS } from '../limits';
import { ZkLogger } from '../logger';
import { normalizeAddress } from '../mapping/acl-rules';
import { ZkServices } from '../ops/services';
import { ZkConnection } from './connection';
import { FourLetterSource } from './four-letter-words';
import { ServerStats } from './server-stats';

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
}

/** The ZooKeeper port. */
export class ZkListener {
  readonly stats = new ServerStats();
  private readonly connections = new Set<ZkConnection>();
  /** Live connections per client IP address, for maxClientCnxns. */
  private readonly perAddress = new Map<string, number>();
  private lastRejectLog = 0;
  private rejectedSinceLog = 0;
  private readonly server: Server;
  private address: AddressInfo | undefined;

  constructor(
    private readonly handler: ZkHandler,
    private readonly services: ZkServices,
    private readonly opts: ListenerOptions,
    private readonly logger: ZkLogger,
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        this.address = this.server.address() as AddressInfo;
        this.logger.info({ address: this.address }, 'ZooKeeper listener started');
        resolve(this.address);
      });
    });
  }

  private accept(socket: Socket): void {
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
      logger: this.logger, fourLetter: this.fourLetterSource(), onClose: (c) => this.closed(c, address),
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
        clientPort: this.address?.port ?? this.opts.port, tickTime: this.opts.tickTime,
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
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
