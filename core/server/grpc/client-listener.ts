/**
 * The client port: one TCP listener serving gRPC over cleartext HTTP/2 and HTTP/1.1 (`/health`,
 * `/version`, `/metrics`, the JSON gateway), as etcd serves both on :2379 with cmux
 * (reference/etcd.md §4.5, §7 item 11).
 *
 * Each accepted connection is sniffed (HTTP/2 preface or not) and handed to an unlistened
 * `http2` or `http` server. On HTTP/2, a stream with a gRPC content type goes to the
 * {@link GrpcServer} through the core stream API (no compatibility objects on the hot path); any
 * other stream, and every HTTP/1 request, goes to the pluggable HTTP handler.
 *
 * HTTP/2 settings (§7 item 12): unlimited concurrent streams, 1 MiB flow-control windows, more
 * session memory than node's 10 MB default; client pings are always answered and never punished
 * (node has no too-many-pings policy, unlike grpc-js's server), and the server itself pings an
 * idle-looking connection every `keepaliveIntervalMs` (etcd: 2 h) and drops it if the ack takes
 * longer than `keepaliveTimeoutMs` (etcd: 20 s).
 */

import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { Logger } from '../../util/logger';
import { nullLogger } from '../../util/logger';
import { isGrpcContentType } from './grpc-headers';
import { H2_DEFAULT_MAX_FRAME_SIZE } from './h2-frame';
import { adoptPeerAddress, H2FilteredSocket } from './h2-filtered-socket';
import { routeHttp2Connection } from './h2-first-flight';
import type { GrpcServer } from './grpc-server';
import { SERVER_STOPPED_MESSAGE } from './grpc-server';
import { sniffProtocol } from './protocol-sniffer';

/** A request on the client port that is not gRPC (HTTP/1.x, or HTTP/2 without a gRPC type). */
export type HttpRequest = http2.Http2ServerRequest | http.IncomingMessage;
/** The response paired with an {@link HttpRequest}. */
export type HttpResponse = http2.Http2ServerResponse | http.ServerResponse;
/** Handles one non-gRPC request; must eventually end `res`. Thrown errors answer 500. */
export type HttpHandler = (req: HttpRequest, res: HttpResponse) => void;

/** Options of a {@link ClientListener}. */
export interface ClientListenerOptions {
  /** Address to bind, e.g. '127.0.0.1'. */
  host: string;
  /** Port to bind; 0 picks a free one (see {@link ClientListener.port}). */
  port: number;
  /** Serves gRPC streams. */
  grpc: GrpcServer;
  /** Serves everything else; default answers 404. Replaceable with {@link ClientListener.setHttpHandler}. */
  http?: HttpHandler;
  logger?: Logger;
  /** Per-stream receive window we advertise (default 1 MiB). */
  initialWindowBytes?: number;
  /**
   * Per-connection receive window (default 1 MiB). Kept moderate on purpose: node:http2 stops
   * reading a socket while its own write is in progress, so two node peers that both allow many
   * MiB in flight can block each other at the TCP level; a bound here keeps what a node client
   * can push at us within socket buffers. Go clients read continuously and are unaffected.
   */
  connectionWindowBytes?: number;
  /** node:http2 `maxSessionMemory` in MB (default 64; node's default is 10). */
  maxSessionMemoryMb?: number;
  /** Server ping interval per HTTP/2 connection (default 2 h, etcd's `--grpc-keepalive-interval`). */
  keepaliveIntervalMs?: number;
  /** A ping unanswered this long closes the connection (default 20 s, `--grpc-keepalive-timeout`). */
  keepaliveTimeoutMs?: number;
  /** A new connection must reveal its protocol within this time (default 10 s). */
  sniffTimeoutMs?: number;
  /** On close, connections still open after this are destroyed (default 2 s). */
  shutdownGraceMs?: number;
  /**
   * Reduce an HTTP/2 `:authority` given as a URL (`http://host:port`, as grpc-go sends for
   * etcdctl's `--endpoints=http://…` maintenance calls) to `host:port` before node:http2 checks
   * it, as etcd accepts it (h2-authority-filter.ts). Default true: each HTTP/2 connection's
   * first request decides whether node reads it directly or through the filter
   * (h2-first-flight.ts). False hands every socket to node:http2 at once, as before.
   */
  normalizeAuthority?: boolean;
}

const MIB = 1024 * 1024;
/**
 * HTTP/2 SETTINGS the filter must agree with: node's defaults, which the server keeps (it sets
 * neither maxFrameSize nor headerTableSize). Rewritten frames stay within the first; the
 * client's HPACK encoder works within the second.
 */
const SERVER_MAX_FRAME_SIZE = H2_DEFAULT_MAX_FRAME_SIZE;
const SERVER_HEADER_TABLE_SIZE = 4096;
/** HTTP/2 caps SETTINGS_MAX_CONCURRENT_STREAMS at 2^32 − 1; etcd uses math.MaxUint32. */
const MAX_CONCURRENT_STREAMS = 2 ** 32 - 1;

/** The default HTTP handler: Go's `http.NotFound` answer. */
export function notFoundHandler(_req: HttpRequest, res: HttpResponse): void {
  res.statusCode = 404;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end('404 page not found\n');
}

/**
 * A bound client port. Create with {@link ClientListener.listen}; stop with {@link close}.
 */
export class ClientListener {
  private readonly options: Required<Omit<ClientListenerOptions, 'http' | 'logger' | 'grpc'>>;
  private readonly grpc: GrpcServer;
  private readonly logger: Logger;
  private httpHandler: HttpHandler;
  private readonly tcp: net.Server;
  private readonly h2: http2.Http2Server;
  private readonly h1: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** Sockets whose protocol is not known yet. */
  private readonly sniffing = new Set<net.Socket>();
  private closing: Promise<void> | null = null;
  private tcpClosed = false;
  private onClosed: (() => void) | null = null;
  private boundPort = 0;
  private filteredCount = 0;

  private constructor(options: ClientListenerOptions) {
    this.grpc = options.grpc;
    this.logger = options.logger ?? nullLogger;
    this.httpHandler = options.http ?? notFoundHandler;
    this.options = {
      host: options.host,
      port: options.port,
      initialWindowBytes: options.initialWindowBytes ?? MIB,
      connectionWindowBytes: options.connectionWindowBytes ?? MIB,
      maxSessionMemoryMb: options.maxSessionMemoryMb ?? 64,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 2 * 3600 * 1000,
      keepaliveTimeoutMs: options.keepaliveTimeoutMs ?? 20_000,
      sniffTimeoutMs: options.sniffTimeoutMs ?? 10_000,
      shutdownGraceMs: options.shutdownGraceMs ?? 2000,
      normalizeAuthority: options.normalizeAuthority ?? true,
    };
    this.h2 = http2.createServer({
      maxSessionMemory: this.options.maxSessionMemoryMb,
      settings: {
        maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
        initialWindowSize: this.options.initialWindowBytes,
        maxHeaderListSize: 64 * 1024,
        maxFrameSize: SERVER_MAX_FRAME_SIZE,
        headerTableSize: SERVER_HEADER_TABLE_SIZE,
      },
    });
    this.h2.on('stream', (stream, headers, _flags, rawHeaders) =>
      this.onStream(stream as http2.ServerHttp2Stream, headers, rawHeaders),
    );
    this.h2.on('session', (session) => this.onSession(session));
    this.h1 = http.createServer((req, res) => this.onHttp1Request(req, res));
    this.h1.on('clientError', (err: Error, socket: net.Socket) => this.onHttp1ClientError(err, socket));
    // The HTTP/1 server never listens itself (sockets are handed to it), but node starts its
    // connection tracking on 'listening': without it headersTimeout/requestTimeout (slowloris
    // protection) are not enforced and closeIdleConnections() finds nothing. Closed in close().
    this.h1.emit('listening');
    this.tcp = net.createServer((socket) => this.onConnection(socket));
  }

  /** Binds `host:port` and starts serving. Rejects if the address cannot be bound. */
  static listen(options: ClientListenerOptions): Promise<ClientListener> {
    const listener = new ClientListener(options);
    return new Promise((resolve, reject) => {
      listener.tcp.once('error', reject);
      listener.tcp.listen(options.port, options.host, () => {
        listener.tcp.removeListener('error', reject);
        listener.tcp.on('error', (err) => listener.logger.error({ err }, 'client listener error'));
        listener.boundPort = (listener.tcp.address() as net.AddressInfo).port;
        resolve(listener);
      });
    });
  }

  /** The bound host as given. */
  get host(): string {
    return this.options.host;
  }

  /** The bound port (the real one when 0 was asked for). */
  get port(): number {
    return this.boundPort;
  }

  /** `http://host:port`, the endpoint clients dial (IPv6 hosts bracketed). */
  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${host}:${this.boundPort}`;
  }

  /** Open TCP connections (HTTP/2, HTTP/1 and not yet sniffed). */
  get connectionCount(): number {
    return this.sockets.size;
  }

  /**
   * HTTP/2 connections served through the `:authority` filter so far (those whose first
   * request carried a URL as authority); the others are read by node:http2 directly.
   */
  get filteredConnections(): number {
    return this.filteredCount;
  }

  /** Replaces the handler of non-gRPC requests (takes effect for the next request). */
  setHttpHandler(handler: HttpHandler): void {
    this.httpHandler = handler;
  }

  /**
   * Stops accepting, cancels open gRPC calls with UNAVAILABLE `message`, sends GOAWAY on every
   * HTTP/2 connection and closes idle HTTP/1 ones; whatever is still open after the grace period
   * is destroyed. Resolves when every connection is closed. Idempotent.
   */
  close(message: string = SERVER_STOPPED_MESSAGE): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      const force = setTimeout(() => this.destroyAll(), this.options.shutdownGraceMs);
      force.unref();
      // An HTTP/1 keep-alive connection becomes idle when its request finishes; close it then.
      const sweep = setInterval(() => this.h1.closeIdleConnections(), 50);
      sweep.unref();
      this.onClosed = () => {
        clearTimeout(force);
        clearInterval(sweep);
        resolve();
      };
      this.tcp.close(() => {
        this.tcpClosed = true;
        this.maybeClosed();
      });
      this.grpc.stop(message);
      for (const session of this.sessions) session.close();
      this.h1.close(); // closes idle HTTP/1 connections and stops node's connection checks
      for (const socket of this.sniffing) socket.destroy();
    });
    return this.closing;
  }

  /** Resolves close() once the listener and every socket we tracked are closed. */
  private maybeClosed(): void {
    if (this.tcpClosed && this.sockets.size === 0 && this.onClosed !== null) {
      const done = this.onClosed;
      this.onClosed = null;
      done();
    }
  }

  private destroyAll(): void {
    for (const session of this.sessions) session.destroy();
    for (const socket of this.sockets) socket.destroy();
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    this.sniffing.add(socket);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.sniffing.delete(socket);
      this.maybeClosed();
    });
    socket.setNoDelay(true);
    if (this.closing !== null) {
      socket.destroy();
      return;
    }
    sniffProtocol(socket, this.options.sniffTimeoutMs, (protocol) => {
      if (protocol === 'http1') this.serve(socket, this.h1);
      else if (!this.options.normalizeAuthority) this.serve(socket, this.h2);
      else {
        const routing = { timeoutMs: this.options.sniffTimeoutMs, maxTableSize: SERVER_HEADER_TABLE_SIZE, maxFrameSize: SERVER_MAX_FRAME_SIZE };
        routeHttp2Connection(socket, routing, (route) => {
          if (route === 'native') this.serve(socket, this.h2);
          else this.serve(this.filtered(socket), this.h2, socket);
        });
      }
    });
  }

  /** Hands a decided connection to its protocol server and lets `socket` flow. */
  private serve(stream: net.Socket | H2FilteredSocket, server: net.Server | http2.Http2Server, socket: net.Socket = stream as net.Socket): void {
    this.sniffing.delete(socket);
    if (stream !== socket) this.filteredCount += 1;
    server.emit('connection', stream);
    // Resume after the protocol server attached its readers, so no byte is emitted unobserved.
    process.nextTick(() => socket.resume());
  }

  /** `socket` seen through the `:authority` filter; a failure closes that connection only. */
  private filtered(socket: net.Socket): H2FilteredSocket {
    return new H2FilteredSocket(socket, {
      maxFrameSize: SERVER_MAX_FRAME_SIZE,
      maxTableSize: SERVER_HEADER_TABLE_SIZE,
      onFail: (reason) => this.logger.debug({ reason }, 'http2 connection closed: unfollowable header block'),
    });
  }

  private onSession(session: http2.ServerHttp2Session): void {
    this.sessions.add(session);
    adoptPeerAddress(session);
    // A protocol error on one connection (garbage after the preface, a flood) ends that
    // connection only; without a listener node would throw.
    session.on('error', (err) => this.logger.debug({ err }, 'http2 session error'));
    session.once('close', () => {
      this.sessions.delete(session);
      clearInterval(pinger);
    });
    // The connection-level window is not a SETTINGS value; node raises it with WINDOW_UPDATE.
    if (!session.destroyed && this.options.connectionWindowBytes > 65_535) {
      session.setLocalWindowSize(this.options.connectionWindowBytes);
    }
    const pinger = setInterval(() => this.keepalivePing(session), this.options.keepaliveIntervalMs);
    pinger.unref();
    if (this.closing !== null) session.close();
  }

  private keepalivePing(session: http2.ServerHttp2Session): void {
    if (session.destroyed || session.closed) return;
    const timeout = setTimeout(() => {
      this.logger.info({}, 'http2 keepalive ping unanswered; closing connection');
      session.destroy();
    }, this.options.keepaliveTimeoutMs);
    timeout.unref();
    const sent = session.ping((err) => {
      clearTimeout(timeout);
      if (err !== null) session.destroy();
    });
    if (!sent) clearTimeout(timeout); // too many outstanding pings: the earlier ones will judge
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[]): void {
    if (isGrpcContentType(headers['content-type'])) {
      this.grpc.handleStream(stream, headers);
      return;
    }
    const req = new http2.Http2ServerRequest(stream, headers, {}, rawHeaders);
    const res = new http2.Http2ServerResponse(stream);
    this.dispatchHttp(req, res);
  }

  private onHttp1Request(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (isGrpcContentType(req.headers['content-type'])) {
      // gRPC needs HTTP/2 (trailers, streams); answer plainly instead of misrouting.
      res.statusCode = 415;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('gRPC requires HTTP/2\n');
      return;
    }
    this.dispatchHttp(req, res);
  }

  private dispatchHttp(req: HttpRequest, res: HttpResponse): void {
    try {
      this.httpHandler(req, res);
    } catch (err) {
      this.logger.error({ err, url: req.url }, 'http handler failed');
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else {
        res.destroy();
      }
    }
  }

  /** Garbage or a malformed HTTP/1 request: answer 400 if possible and close that connection. */
  private onHttp1ClientError(err: Error, socket: net.Socket): void {
    this.logger.debug({ err }, 'http/1 client error');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  }
}
