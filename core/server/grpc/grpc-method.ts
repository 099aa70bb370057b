/**
 * What a gRPC handler sees: the call context, the stream writer and reader, the handler
 * signatures of the four method kinds, and the descriptor a method is registered with.
 *
 * The transport is codec-agnostic: a method is registered with `decode(Buffer) => Req` and
 * `encode(Res) => Uint8Array` (the generated protobuf codecs in protocol/etcd, or anything else).
 */

import type { IncomingHttpHeaders } from 'node:http2';
import type { GrpcStatusError } from './grpc-status';

/** The four gRPC method shapes (how many messages flow each way). */
export type MethodKind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

/**
 * Per-call information and cancellation, passed to every handler.
 *
 * "Cancelled" means the call ended without the handler ending it: the client reset or cancelled
 * the stream, its connection died, the deadline passed, the transport rejected a later message
 * (e.g. too large), or the server shut down. A handler should stop work and drop its result then;
 * anything it still sends is discarded.
 */
export interface CallContext {
  /** The full method path, e.g. `/etcdserverpb.KV/Range`. */
  readonly path: string;
  /**
   * The request headers as node:http2 parsed them: names lower-cased, pseudo-headers included,
   * repeated headers as arrays. gRPC metadata such as `token`, `hasleader`, `authorization` is here.
   */
  readonly metadata: Readonly<IncomingHttpHeaders>;
  /** The first value of one metadata key (lower-case), or undefined. */
  get(key: string): string | undefined;
  /** Absolute deadline in `Date.now()` milliseconds from `grpc-timeout`, or undefined if none. */
  readonly deadline: number | undefined;
  /** Aborted (with a {@link GrpcStatusError} as reason) when the call is cancelled; created lazily. */
  readonly signal: AbortSignal;
  /** True once the call has been cancelled (see the interface comment). Cheaper than `signal`. */
  readonly cancelled: boolean;
  /** The client's address as `ip:port`; '' once the call's stream has closed. */
  readonly peer: string;
}

/**
 * The sending half of a streaming call. Messages go out in `write` order. Backpressure: `write`
 * returns false when the stream's send buffer is above its high-water mark (HTTP/2 flow control
 * or a slow socket); a producer should then await {@link drain} or, like a watch stream, mark
 * itself slow and catch up later. Nothing is dropped by the transport while the call is live.
 */
export interface ServerStreamWriter<Res> {
  /**
   * Encodes and queues one message; sends response headers first if not yet sent. Returns false
   * if the caller should wait for {@link drain}, and also when the call has ended (the message
   * is then discarded; check {@link ended}).
   */
  write(message: Res): boolean;
  /** Resolves once the send buffer has drained below its high-water mark, or the call has ended. */
  drain(): Promise<void>;
  /** Bytes queued in the stream and not yet handed to HTTP/2 (grows while the peer is slow). */
  readonly bufferedBytes: number;
  /** True once the call has a final status (ended by the handler, cancelled, or failed). */
  readonly ended: boolean;
  /** Sends the response headers now (they are otherwise sent with the first message). Idempotent. */
  sendHeaders(): void;
  /**
   * Ends the call: OK without an argument, else the given status (e.g. CANCELLED
   * `etcdserver: watch canceled`). Later calls are ignored. If no message was sent, this is a
   * Trailers-Only response.
   */
  end(status?: GrpcStatusError): void;
}

/**
 * The receiving half of a client- or bidi-streaming call. Reading starts when {@link onMessage}
 * is first called; until then the client's messages wait in HTTP/2 flow control.
 */
export interface MessageReader<Req> {
  /**
   * Sets the receiver of incoming messages (in arrival order) and starts reading. If it throws,
   * the call ends with the thrown status (UNKNOWN for plain errors).
   */
  onMessage(receiver: (message: Req) => void): void;
  /** Sets the callback run once when the client half-closes (sent all its messages). */
  onHalfClose(callback: () => void): void;
  /** Stops reading (HTTP/2 flow control then slows the client). Effective per received chunk. */
  pause(): void;
  /** Resumes reading after {@link pause}. */
  resume(): void;
}

/** Both halves of a bidi-streaming call. */
export interface BidiStream<Req, Res> extends ServerStreamWriter<Res>, MessageReader<Req> {}

/** A unary handler: one request, one response (or a thrown status). */
export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Promise<Res> | Res;

/**
 * A server-streaming handler. If it returns a promise, the call ends with OK when the promise
 * resolves (unless the handler ended it already) and with the error's status when it rejects; if
 * it returns nothing, the handler owns ending the call through `out.end()`.
 */
export type ServerStreamHandler<Req, Res> = (
  request: Req,
  out: ServerStreamWriter<Res>,
  ctx: CallContext,
) => Promise<void> | void;

/** A client-streaming handler: reads messages, resolves with the single response. */
export type ClientStreamHandler<Req, Res> = (input: MessageReader<Req>, ctx: CallContext) => Promise<Res>;

/**
 * A bidi-streaming handler. Called once when the call starts; it registers its receivers on
 * `stream` and sends whenever it likes. Ending follows {@link ServerStreamHandler}'s rule: a
 * returned promise ends the call when it settles; returning nothing means `stream.end()` ends it.
 */
export type BidiHandler<Req, Res> = (stream: BidiStream<Req, Res>, ctx: CallContext) => Promise<void> | void;

/** Any handler, as stored in a {@link MethodDescriptor}. */
export type AnyHandler =
  | UnaryHandler<any, any>
  | ServerStreamHandler<any, any>
  | ClientStreamHandler<any, any>
  | BidiHandler<any, any>;

/** A registered method: path, kind, codec and handler. Immutable once registered. */
export interface MethodDescriptor {
  readonly path: string;
  readonly kind: MethodKind;
  readonly decode: (bytes: Buffer) => unknown;
  readonly encode: (message: any) => Uint8Array;
  readonly handler: AnyHandler;
}
