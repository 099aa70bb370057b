/**
 * `GrpcUnaryClient`: unary gRPC calls (the gRPC-over-HTTP/2 wire format: a 5-byte length prefix
 * per message, status in the trailers) on one node:http2 session, for the remote backend's
 * Range, Txn and lease calls. Streams stay on grpc-js.
 *
 * Why not grpc-js for these: measured on the 2-core benchmark machine, a grpc-js unary call
 * costs ≈ 240–290 µs of the caller's CPU (call stack, interceptors, retry and channelz
 * bookkeeping), node:http2 ≈ 100 µs. `zk-proxy` makes one call per ZooKeeper write, and that
 * cost set its write rate (bench/RESULTS.md).
 *
 * Connections: one session at a time, to the endpoints in turn. A call finds the session
 * connected, or connects it (every endpoint tried once, starting after the one that failed
 * last); a session that closes, errors or receives GOAWAY is dropped, and its calls fail with
 * UNAVAILABLE, as grpc-js fails calls on a broken connection. Each call has a deadline (sent as
 * `grpc-timeout` and enforced here): past it the stream is cancelled and the call fails with
 * DEADLINE_EXCEEDED.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ZkLogger } from '../logger';
import { EtcdTls } from './etcd-credentials';

/** A failed call, shaped like grpc-js's ServiceError (`kvErrorOf` reads code and details). */
export class UnaryCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${GrpcStatus[code] ?? ''}: ${details}`);
  }
}

/** Options of a client. */
export interface GrpcUnaryClientOptions {
  /** host:port pairs (URLs are accepted: the scheme and path are dropped). */
  endpoints: string[];
  /** Largest response message accepted, bytes. */
  maxResponseBytes: number;
  logger: ZkLogger;
  /** Connect with TLS (etcd-credentials.ts); absent: plaintext HTTP/2. */
  tls?: EtcdTls;
}

const PREFIX_BYTES = 5;
const CONNECT_TIMEOUT_MS = 5_000;
const kCall = Symbol('unaryCall');

interface CallState {
  resolve(b: Buffer): void;
  reject(e: UnaryCallError): void;
  chunks: Buffer[];
  bytes: number;
  max: number;
  status: number | undefined;
  message: string;
  timer: NodeJS.Timeout | undefined;
  settled: boolean;
}
type CallStream = http2.ClientHttp2Stream & { [kCall]?: CallState };

/** Unary gRPC calls over node:http2. */
export class GrpcUnaryClient {
  private readonly endpoints: { host: string; port: number }[];
  private session: http2.ClientHttp2Session | undefined;
  private connecting: Promise<http2.ClientHttp2Session> | undefined;
  private next = 0;
  private closed = false;

  constructor(private readonly opts: GrpcUnaryClientOptions) {
    this.endpoints = opts.endpoints.map(parseEndpoint);
    if (this.endpoints.length === 0) throw new Error('no etcd endpoints');
  }

  /**
   * Calls `path` with one encoded request message; resolves with the response message bytes.
   * A session that refuses the stream (it was closing) is replaced once: nothing was sent, so
   * the call is safe to start again, as grpc-js's transparent retry does. `metadata`: extra
   * request headers (etcd's `token`).
   */
  async call(path: string, message: Uint8Array, timeoutMs: number, metadata?: Record<string, string>): Promise<Buffer> {
    if (this.closed) throw new UnaryCallError(GrpcStatus.CANCELLED, 'client closed');
    const framed = Buffer.allocUnsafe(PREFIX_BYTES + message.length);
    framed[0] = 0;
    framed.writeUInt32BE(message.length, 1);
    framed.set(message, PREFIX_BYTES);
    const headers = {
      ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers',
      'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
      ...metadata,
    };
    for (let attempt = 0; ; attempt++) {
      const session = await this.connected(timeoutMs);
      let stream: CallStream;
      try {
        stream = session.request(headers, { endStream: false }) as CallStream;
      } catch (e) {
        this.drop(session);
        if (attempt === 0) continue;
        throw new UnaryCallError(GrpcStatus.UNAVAILABLE, `connection lost: ${(e as Error).message}`);
      }
      return this.run(stream, framed, timeoutMs);
    }
  }

  private run(stream: CallStream, framed: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const state: CallState = {
        resolve, reject, chunks: [], bytes: 0, max: this.opts.maxResponseBytes, status: undefined, message: '', timer: undefined, settled: false,
      };
      stream[kCall] = state;
      state.timer = setTimeout(onDeadline, timeoutMs, stream);
      stream.on('response', onHeaders);
      stream.on('trailers', onHeaders);
      stream.on('data', onData);
      stream.on('error', onError);
      stream.on('close', onClose);
      stream.end(framed);
    });
  }

  /** Closes the session; calls in flight fail. */
  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }

  private connected(timeoutMs: number): Promise<http2.ClientHttp2Session> {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return Promise.resolve(s);
    this.connecting ??= this.connectAny(Math.min(timeoutMs, CONNECT_TIMEOUT_MS)).finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Tries every endpoint once, starting with the next in turn. */
  private async connectAny(timeoutMs: number): Promise<http2.ClientHttp2Session> {
    const errors: string[] = [];
    for (let i = 0; i < this.endpoints.length; i++) {
      const at = this.next;
      this.next = (this.next + 1) % this.endpoints.length;
      const ep = this.endpoints[at]!;
      try {
        const s = await connectOne(ep.host, ep.port, timeoutMs, this.opts.tls);
        if (this.closed) {
          s.destroy();
          break;
        }
        // The endpoint that works stays first in turn for the next connect.
        this.next = at;
        this.session = s;
        const lost = (): void => this.drop(s);
        s.on('close', lost);
        s.on('goaway', lost);
        s.on('error', (e: Error) => {
          this.opts.logger.debug({ endpoint: `${ep.host}:${ep.port}`, err: e.message }, 'etcd connection error');
          lost();
        });
        return s;
      } catch (e) {
        errors.push(`${ep.host}:${ep.port}: ${(e as Error).message}`);
        this.next = (at + 1) % this.endpoints.length;
      }
    }
    throw new UnaryCallError(GrpcStatus.UNAVAILABLE, `no etcd endpoint reachable (${errors.join('; ') || 'client closed'})`);
  }

  private drop(s: http2.ClientHttp2Session): void {
    if (this.session !== s) return;
    this.session = undefined;
    if (!s.destroyed) s.close();
  }
}

/** A TCP connection to host:port, with TLS (HTTP/2 by ALPN, as etcd's gRPC port wants) when `t` is given. */
function socketTo(host: string, port: number, t: EtcdTls | undefined): net.Socket {
  if (!t) return net.connect({ host, port, noDelay: true });
  // SNI carries names, not addresses; the certificate is still checked against an address.
  const s = tls.connect({ host, port, ca: t.ca, cert: t.cert, key: t.key, ALPNProtocols: ['h2'], servername: net.isIP(host) ? undefined : host });
  s.setNoDelay(true);
  return s;
}

function connectOne(host: string, port: number, timeoutMs: number, t: EtcdTls | undefined): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const s = http2.connect(`${t ? 'https' : 'http'}://${authority}`, {
      // node's http2 client leaves Nagle on, which with delayed ACKs holds small calls ~40 ms.
      createConnection: () => socketTo(host, port, t),
      maxSessionMemory: 64,
      settings: { enablePush: false, initialWindowSize: 4 * 1024 * 1024 },
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeListener('error', fail);
      resolve(s);
    });
    const fail = (e: Error): void => {
      clearTimeout(timer);
      s.destroy();
      reject(e);
    };
    s.once('error', fail);
  });
}

/** `host:port` from an endpoint, with any `scheme://` and path removed. */
function parseEndpoint(e: string): { host: string; port: number } {
  const hostPort = e.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hostPort);
  if (!m) throw new Error(`bad etcd endpoint '${e}': want host:port or http://host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

// Listeners shared by every call (`this` is the stream): no closures per call.
function onHeaders(this: CallStream, headers: http2.IncomingHttpHeaders): void {
  const st = this[kCall]!;
  const s = headers['grpc-status'];
  if (s !== undefined) {
    st.status = Number(s);
    st.message = percentDecode(String(headers['grpc-message'] ?? ''));
  } else if (headers[':status'] !== undefined && Number(headers[':status']) !== 200) {
    st.status = GrpcStatus.UNAVAILABLE;
    st.message = `HTTP status ${headers[':status']}`;
  }
}

function onData(this: CallStream, chunk: Buffer): void {
  const st = this[kCall]!;
  st.bytes += chunk.length;
  if (st.bytes > st.max + PREFIX_BYTES) {
    finish(this, new UnaryCallError(GrpcStatus.RESOURCE_EXHAUSTED, `response larger than ${st.max} bytes`));
    this.close(http2.constants.NGHTTP2_CANCEL);
    return;
  }
  st.chunks.push(chunk);
}

function onError(this: CallStream, e: Error): void {
  finish(this, new UnaryCallError(GrpcStatus.UNAVAILABLE, e.message));
}

function onDeadline(stream: CallStream): void {
  finish(stream, new UnaryCallError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'));
  stream.close(http2.constants.NGHTTP2_CANCEL);
}

function onClose(this: CallStream): void {
  const st = this[kCall]!;
  if (st.status === undefined) {
    finish(this, new UnaryCallError(GrpcStatus.UNAVAILABLE, `stream closed without a status (HTTP/2 code ${this.rstCode ?? 0})`));
    return;
  }
  if (st.status !== GrpcStatus.OK) {
    finish(this, new UnaryCallError(st.status, st.message));
    return;
  }
  const body = st.chunks.length === 1 ? st.chunks[0]! : Buffer.concat(st.chunks);
  if (body.length < PREFIX_BYTES || body[0] !== 0 || body.readUInt32BE(1) !== body.length - PREFIX_BYTES) {
    finish(this, new UnaryCallError(GrpcStatus.INTERNAL, 'malformed or compressed response message'));
    return;
  }
  finish(this, body.subarray(PREFIX_BYTES));
}

function finish(stream: CallStream, outcome: Buffer | UnaryCallError): void {
  const st = stream[kCall]!;
  if (st.settled) return;
  st.settled = true;
  clearTimeout(st.timer);
  if (outcome instanceof UnaryCallError) st.reject(outcome);
  else st.resolve(outcome);
}

/** gRPC's percent-encoding of grpc-message; malformed escapes are kept as they are. */
function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
