/**
 * A lean gRPC server over node:http2: a method table keyed by full path, and the entry point
 * that turns an HTTP/2 stream carrying `application/grpc` into a call.
 *
 * It does not own a socket: {@link ClientListener} (or a test) accepts connections and hands it
 * gRPC streams through {@link GrpcServer.handleStream}, so one port can serve gRPC and HTTP/1.1
 * as etcd's does (reference/etcd.md §4.5, §7 item 11). grpc-js remains our client library; this is
 * our server because per-call overhead on the hot path (puts, ranges at high concurrency) matters.
 *
 * Receive limit: max request bytes + 512 KiB of overhead by default, as etcd configures grpc-go
 * (reference/etcd.md §1.1); the 1.5 MiB request check with `etcdserver: request is too large` is
 * the service layer's. Sends are not capped (large ranges and watch batches).
 */

import * as http2 from 'node:http2';
import { assert } from '../../util/assert';
import { ChurnMap } from '../../util/churn-map';
import { GRPC_OVERHEAD_BYTES, MAX_REQUEST_BYTES_DEFAULT } from '../../util/limits';
import type { Logger } from '../../util/logger';
import { nullLogger } from '../../util/logger';
import type { CallOwner } from './grpc-call';
import { ServerCall } from './grpc-call';
import { RESPOND_TRAILERS_ONLY, trailersOnlyHeaders } from './grpc-headers';
import type {
  AnyHandler,
  BidiHandler,
  CallContext,
  ClientStreamHandler,
  MethodDescriptor,
  MethodKind,
  ServerStreamHandler,
  UnaryHandler,
} from './grpc-method';
import { GrpcStatus, GrpcStatusError } from './grpc-status';

const { NGHTTP2_NO_ERROR } = http2.constants;

/** The message a call gets when the server stops under it (grpc-go's ErrServerStopped text). */
export const SERVER_STOPPED_MESSAGE = 'grpc: the server has been stopped';

/** Options of a {@link GrpcServer}; every field has a default. */
export interface GrpcServerOptions {
  /** Largest request message accepted, in bytes (default 1.5 MiB + 512 KiB = 2 MiB). */
  maxReceiveMessageBytes?: number;
  /** Logs handler failures (UNKNOWN errors) and protocol problems. */
  logger?: Logger;
  /**
   * Called once per call when its final status is decided (metrics such as
   * `grpc_server_handled_total`). Must be cheap and must not throw.
   */
  onCallFinished?: (path: string, kind: MethodKind, code: GrpcStatus) => void;
}

/** Decodes one request message; throwing ends the call with INTERNAL. */
export type Decoder<Req> = (bytes: Buffer) => Req;
/** Encodes one response message; throwing ends the call with INTERNAL. */
export type Encoder<Res> = (message: Res) => Uint8Array;

/**
 * The method table and call dispatcher. Register every method before serving; a path can be
 * registered once. Unknown paths answer UNIMPLEMENTED with grpc-go's texts.
 */
export class GrpcServer implements CallOwner {
  readonly logger: Logger;
  /** The receive limit applied to every request message. */
  readonly maxReceiveMessageBytes: number;
  private onCallFinished: GrpcServerOptions['onCallFinished'];
  private readonly methods = new Map<string, MethodDescriptor>();
  /** Service names (`etcdserverpb.KV`) with at least one method, for the unknown-method text. */
  private readonly services = new Set<string>();
  /** Calls whose stream is still open (for shutdown); a ChurnMap (see churn-map.ts): one set and delete per call. */
  private readonly calls = new ChurnMap<ServerCall, true>();
  private stopped: GrpcStatusError | null = null;

  constructor(options: GrpcServerOptions = {}) {
    this.logger = options.logger ?? nullLogger;
    this.maxReceiveMessageBytes = options.maxReceiveMessageBytes ?? MAX_REQUEST_BYTES_DEFAULT + GRPC_OVERHEAD_BYTES;
    assert(Number.isSafeInteger(this.maxReceiveMessageBytes) && this.maxReceiveMessageBytes >= 0, 'bad receive limit');
    this.onCallFinished = options.onCallFinished;
  }

  /** Registers a unary method (`/pkg.Service/Method`). Returns this for chaining. */
  unary<Req, Res>(path: string, decode: Decoder<Req>, encode: Encoder<Res>, handler: UnaryHandler<Req, Res>): this {
    return this.register(path, 'unary', decode, encode, handler);
  }

  /** Registers a server-streaming method (e.g. `/etcdserverpb.Maintenance/Snapshot`). */
  serverStream<Req, Res>(
    path: string,
    decode: Decoder<Req>,
    encode: Encoder<Res>,
    handler: ServerStreamHandler<Req, Res>,
  ): this {
    return this.register(path, 'serverStream', decode, encode, handler);
  }

  /** Registers a client-streaming method. */
  clientStream<Req, Res>(
    path: string,
    decode: Decoder<Req>,
    encode: Encoder<Res>,
    handler: ClientStreamHandler<Req, Res>,
  ): this {
    return this.register(path, 'clientStream', decode, encode, handler);
  }

  /** Registers a bidi-streaming method (e.g. `/etcdserverpb.Watch/Watch`). */
  bidi<Req, Res>(path: string, decode: Decoder<Req>, encode: Encoder<Res>, handler: BidiHandler<Req, Res>): this {
    return this.register(path, 'bidi', decode, encode, handler);
  }

  /**
   * Sets (or with `undefined` removes) the per-call observer, replacing the constructor's
   * `onCallFinished`: lets a part other than the composition root (metrics) attach later.
   */
  observeCalls(observer: GrpcServerOptions['onCallFinished']): void {
    this.onCallFinished = observer;
  }

  /**
   * The registered method at `path`, for in-process callers that bring their own framing (the
   * JSON gateway's streams); undefined when none is registered.
   */
  method(path: string): MethodDescriptor | undefined {
    return this.methods.get(path);
  }

  /**
   * Runs the unary method at `path` in process, the way a gRPC call would run it: receive limit,
   * the method's decoder, its handler, its encoder. Resolves with the encoded response; rejects
   * with the {@link GrpcStatusError} the call would have ended with (UNIMPLEMENTED for an
   * unknown or non-unary path, RESOURCE_EXHAUSTED over the limit, INTERNAL for undecodable
   * bytes, the handler's own status, else UNKNOWN). The call observer sees it like any call.
   */
  async invokeUnary(path: string, request: Buffer, ctx: CallContext): Promise<Uint8Array> {
    const method = this.methods.get(path);
    if (method === undefined || method.kind !== 'unary') throw this.unknownMethodStatus(path);
    let code: GrpcStatus = GrpcStatus.OK;
    try {
      if (this.stopped !== null) throw this.stopped;
      if (request.length > this.maxReceiveMessageBytes) {
        throw new GrpcStatusError(GrpcStatus.RESOURCE_EXHAUSTED, `grpc: received message larger than max (${request.length} vs. ${this.maxReceiveMessageBytes})`);
      }
      let decoded: unknown;
      try {
        decoded = method.decode(request);
      } catch (err) {
        throw new GrpcStatusError(GrpcStatus.INTERNAL, `grpc: error unmarshalling request: ${err instanceof Error ? err.message : String(err)}`);
      }
      const response = await (method.handler as UnaryHandler<unknown, unknown>)(decoded, ctx);
      return method.encode(response);
    } catch (err) {
      if (!(err instanceof GrpcStatusError)) this.logger.error({ err, path }, 'grpc handler failed');
      const status = GrpcStatusError.from(err);
      code = status.code;
      throw status;
    } finally {
      if (this.onCallFinished !== undefined) this.onCallFinished(path, 'unary', code);
    }
  }

  /** True if `path` has a registered method. */
  has(path: string): boolean {
    return this.methods.has(path);
  }

  /** Calls whose HTTP/2 stream is still open. */
  get activeCalls(): number {
    return this.calls.size;
  }

  /**
   * Serves one HTTP/2 stream whose content type is gRPC (the caller checked it). Never throws for
   * anything the client sent: bad input becomes a status on that stream.
   */
  handleStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const path = headers[':path'];
    const method = typeof path === 'string' ? this.methods.get(path) : undefined;
    if (method === undefined || headers[':method'] !== 'POST' || this.stopped !== null) {
      this.reject(stream, headers, method);
      return;
    }
    const call = new ServerCall(this, stream, headers, method, this.maxReceiveMessageBytes);
    this.calls.set(call, true);
    call.start();
  }

  /**
   * Refuses new calls and cancels every open call with UNAVAILABLE and `message` (clients retry
   * reads on UNAVAILABLE, reference/etcd.md §1.5). Idempotent.
   */
  stop(message: string = SERVER_STOPPED_MESSAGE): void {
    if (this.stopped === null) this.stopped = new GrpcStatusError(GrpcStatus.UNAVAILABLE, message);
    const reason = this.stopped;
    for (const call of [...this.calls.keys()]) call.cancel(reason);
  }

  /** @internal CallOwner: a call's status is decided. */
  callFinished(call: ServerCall, code: GrpcStatus): void {
    if (this.onCallFinished !== undefined) this.onCallFinished(call.path, call.method.kind, code);
  }

  /** @internal CallOwner: a call's stream closed. */
  callClosed(call: ServerCall): void {
    this.calls.delete(call);
  }

  private register(path: string, kind: MethodKind, decode: Decoder<unknown>, encode: Encoder<any>, handler: AnyHandler): this {
    const slash = path.lastIndexOf('/');
    assert(path.startsWith('/') && slash > 1 && slash < path.length - 1, `bad gRPC method path ${path}`);
    assert(!this.methods.has(path), `gRPC method ${path} registered twice`);
    this.methods.set(path, { path, kind, decode, encode, handler });
    this.services.add(path.slice(1, slash));
    return this;
  }

  /** Answers a stream that cannot become a call with a Trailers-Only status. */
  private reject(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, method: MethodDescriptor | undefined): void {
    stream.on('error', ignoreStreamError);
    let status: GrpcStatusError;
    let httpStatus = 200;
    if (method === undefined) {
      status = this.unknownMethodStatus(headers[':path']);
    } else if (headers[':method'] !== 'POST') {
      // grpc-go answers a non-POST gRPC request with HTTP 405 and INTERNAL.
      httpStatus = 405;
      status = new GrpcStatusError(
        GrpcStatus.INTERNAL,
        `Received a HEADERS frame with :method ${JSON.stringify(headers[':method'])} which should be POST`,
      );
    } else {
      status = this.stopped as GrpcStatusError;
    }
    if (this.onCallFinished !== undefined && method !== undefined) {
      this.onCallFinished(method.path, method.kind, status.code);
    }
    if (stream.destroyed) return;
    const out = trailersOnlyHeaders(status.code, status.message);
    out[':status'] = httpStatus;
    stream.respond(out, RESPOND_TRAILERS_ONLY);
    // The client may still be sending its request; a reset after the status stops it.
    if (!stream.endAfterHeaders) stream.close(NGHTTP2_NO_ERROR);
  }

  /** grpc-go's texts: malformed path, unknown service, unknown method of a known service. */
  private unknownMethodStatus(path: string | string[] | undefined): GrpcStatusError {
    const name = typeof path === 'string' && path.startsWith('/') ? path.slice(1) : '';
    const slash = name.lastIndexOf('/');
    if (slash === -1) {
      return new GrpcStatusError(GrpcStatus.UNIMPLEMENTED, `malformed method name: ${JSON.stringify(String(path))}`);
    }
    const service = name.slice(0, slash);
    const methodName = name.slice(slash + 1);
    if (this.services.has(service)) {
      return new GrpcStatusError(GrpcStatus.UNIMPLEMENTED, `unknown method ${methodName} for service ${service}`);
    }
    return new GrpcStatusError(GrpcStatus.UNIMPLEMENTED, `unknown service ${service}`);
  }
}

/** A rejected stream's errors (client resets) need no handling beyond not crashing. */
function ignoreStreamError(): void {}
