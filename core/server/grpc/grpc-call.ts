/**
 * One gRPC call on one HTTP/2 stream: reads and reassembles the client's messages, runs the
 * handler of the method's kind, writes responses with backpressure, and sends exactly one status.
 *
 * Lifecycle: `start()` → messages flow → the status is decided once (`finished`: by the handler,
 * by a transport error, by cancellation) → the HTTP/2 stream closes (`closed`). The object is
 * also the handler's `CallContext` and stream, so a unary call costs one object plus its deframer.
 * Stream events are bound with module-level functions that find the call through a symbol on the
 * stream, so no closure is allocated per call.
 */

import * as http2 from 'node:http2';
import type { OutgoingHttpHeaders } from 'node:http2';
import type { Logger } from '../../util/logger';
import type { DeframerSink } from './grpc-frame';
import { MessageDeframer, writeFrame } from './grpc-frame';
import {
  firstHeader,
  OK_TRAILERS,
  parseGrpcTimeout,
  RESPOND_TRAILERS_ONLY,
  RESPOND_WITH_TRAILERS,
  RESPONSE_HEADERS,
  statusTrailers,
  trailersOnlyHeaders,
} from './grpc-headers';
import type {
  BidiHandler,
  BidiStream,
  CallContext,
  ClientStreamHandler,
  MethodDescriptor,
  ServerStreamHandler,
  UnaryHandler,
} from './grpc-method';
import { GrpcStatus, GrpcStatusError } from './grpc-status';

const { NGHTTP2_NO_ERROR } = http2.constants;

/** Timers longer than this overflow setTimeout; such deadlines are treated as "none". */
const MAX_TIMER_MS = 0x7fffffff;

const kCall = Symbol('grpcCall');
type CallStream = http2.ServerHttp2Stream & { [kCall]?: ServerCall };

/** What a call reports to the server that owns it. */
export interface CallOwner {
  readonly logger: Logger;
  /** Called once, when the call's final status is decided. */
  callFinished(call: ServerCall, code: GrpcStatus): void;
  /** Called once, when the call's HTTP/2 stream has closed (the call is gone). */
  callClosed(call: ServerCall): void;
}

/**
 * A call in progress. Created and started by the server for a routed stream; handlers see it
 * only through the {@link CallContext} and stream interfaces.
 */
export class ServerCall implements CallContext, BidiStream<unknown, unknown>, DeframerSink {
  readonly path: string;
  readonly metadata: http2.IncomingHttpHeaders;
  readonly deadline: number | undefined;
  readonly method: MethodDescriptor;
  private readonly owner: CallOwner;
  private readonly stream: CallStream;
  private readonly deframer: MessageDeframer;
  /** Milliseconds from `grpc-timeout`; NaN if malformed, undefined if absent. */
  private readonly timeoutMs: number | undefined;
  private headersSent = false;
  private finished = false;
  private halfClosed = false;
  private reading = false;
  private received = 0;
  private cancelReason: GrpcStatusError | null = null;
  private abortController: AbortController | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private trailers: OutgoingHttpHeaders = OK_TRAILERS;
  private messageReceiver: ((message: unknown) => void) | null = null;
  private halfCloseCallback: (() => void) | null = null;
  private drainPromise: Promise<void> | null = null;
  private drainResolve: (() => void) | null = null;

  constructor(
    owner: CallOwner,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    method: MethodDescriptor,
    maxMessageBytes: number,
  ) {
    this.owner = owner;
    this.stream = stream;
    this.metadata = headers;
    this.method = method;
    this.path = method.path;
    this.deframer = new MessageDeframer(maxMessageBytes);
    this.timeoutMs = parseGrpcTimeout(headers['grpc-timeout']);
    this.deadline = this.timeoutMs === undefined ? undefined : Date.now() + this.timeoutMs;
  }

  /** Binds the stream's events, arms the deadline and runs the handler (or starts reading). */
  start(): void {
    const s = this.stream;
    s[kCall] = this;
    s.on('error', onStreamError);
    s.on('close', onStreamClose);
    s.on('wantTrailers', onWantTrailers);
    if (this.timeoutMs !== undefined) {
      if (!(this.timeoutMs >= 0)) {
        const text = `malformed grpc-timeout: ${String(this.metadata['grpc-timeout'])}`;
        this.finishByTransport(new GrpcStatusError(GrpcStatus.INTERNAL, text));
        return;
      }
      if (this.timeoutMs <= MAX_TIMER_MS) this.deadlineTimer = setTimeout(onDeadline, this.timeoutMs, this);
    }
    switch (this.method.kind) {
      case 'unary':
      case 'serverStream':
        this.startReading();
        break;
      case 'clientStream':
        void runClientStream(this);
        break;
      case 'bidi':
        void runStreaming(this, undefined);
        break;
    }
  }

  // ---- CallContext ----

  get(key: string): string | undefined {
    return firstHeader(this.metadata[key]);
  }

  get signal(): AbortSignal {
    if (this.abortController === null) {
      this.abortController = new AbortController();
      if (this.cancelReason !== null) this.abortController.abort(this.cancelReason);
    }
    return this.abortController.signal;
  }

  get cancelled(): boolean {
    return this.cancelReason !== null;
  }

  get peer(): string {
    const socket = this.stream.session?.socket;
    if (socket === undefined || socket.remoteAddress === undefined) return '';
    return `${socket.remoteAddress}:${socket.remotePort}`;
  }

  // ---- ServerStreamWriter ----

  get ended(): boolean {
    return this.finished;
  }

  get bufferedBytes(): number {
    return this.stream.writableLength;
  }

  sendHeaders(): void {
    if (this.headersSent || this.finished || this.stream.destroyed) return;
    this.headersSent = true;
    this.stream.respond(RESPONSE_HEADERS, RESPOND_WITH_TRAILERS);
  }

  write(message: unknown): boolean {
    if (this.finished || this.stream.destroyed) return false;
    const payload = this.encode(message);
    if (payload === undefined) return false;
    this.sendHeaders();
    return writeFrame(this.stream, payload, false);
  }

  drain(): Promise<void> {
    if (this.finished || !this.stream.writableNeedDrain) return Promise.resolve();
    if (this.drainPromise === null) {
      this.drainPromise = new Promise<void>((resolve) => {
        this.drainResolve = resolve;
      });
      this.stream.once('drain', onStreamDrain);
    }
    return this.drainPromise;
  }

  end(status?: GrpcStatusError): void {
    if (status === undefined) this.finish(GrpcStatus.OK, '');
    else this.finish(status.code, status.message);
  }

  // ---- MessageReader ----

  onMessage(receiver: (message: unknown) => void): void {
    this.messageReceiver = receiver;
    if (!this.reading) this.startReading();
  }

  onHalfClose(callback: () => void): void {
    this.halfCloseCallback = callback;
    // The client may have half-closed before the handler asked; tell it anyway, asynchronously.
    if (this.halfClosed && !this.finished) process.nextTick(() => this.runHalfClose());
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  // ---- transport events (internal: called by this module's listeners and the server) ----

  /** @internal A DATA chunk arrived. */
  handleData(chunk: Buffer): void {
    const err = this.deframer.push(chunk, this);
    if (err !== undefined) this.finishByTransport(err);
  }

  /** @internal One complete message from the deframer; returns false to stop delivery. */
  onFrame(message: Buffer, flag: number): boolean {
    if (this.finished) return false;
    if (flag !== 0) {
      this.rejectCompressed();
      return false;
    }
    let request: unknown;
    try {
      request = this.method.decode(message);
    } catch (err) {
      const text = `grpc: error unmarshalling request: ${errorText(err)}`;
      this.finishByTransport(new GrpcStatusError(GrpcStatus.INTERNAL, text));
      return false;
    }
    this.received++;
    const kind = this.method.kind;
    if (kind === 'unary' || kind === 'serverStream') {
      if (this.received > 1) {
        // grpc-go's text for a second request message on a non-client-streaming method.
        const text = 'grpc: client streaming protocol violation: get <nil>, want <EOF>';
        this.finishByTransport(new GrpcStatusError(GrpcStatus.INTERNAL, text));
        return false;
      }
      if (kind === 'unary') void runUnary(this, request);
      else void runStreaming(this, request);
      return !this.finished;
    }
    try {
      (this.messageReceiver as (message: unknown) => void)(request);
    } catch (err) {
      this.fail(err);
    }
    return !this.finished;
  }

  /** @internal The client half-closed (END_STREAM) and every message before it was read. */
  handleEnd(): void {
    this.halfClosed = true;
    if (this.finished) return;
    if (!this.deframer.idle) {
      this.finishByTransport(new GrpcStatusError(GrpcStatus.INTERNAL, 'grpc: client sent a truncated message'));
      return;
    }
    const kind = this.method.kind;
    if (kind === 'unary' || kind === 'serverStream') {
      if (this.received === 0) {
        this.finishByTransport(new GrpcStatusError(GrpcStatus.INTERNAL, 'grpc: client sent no request message'));
      }
      return;
    }
    this.runHalfClose();
  }

  /** @internal The stream closed: if no status was decided, the client went away. */
  handleClose(): void {
    this.clearDeadline();
    if (!this.finished) {
      this.finished = true;
      this.deframer.stop();
      this.markCancelled(new GrpcStatusError(GrpcStatus.CANCELLED, 'context canceled'));
      this.owner.callFinished(this, GrpcStatus.CANCELLED);
    }
    this.resolveDrain();
    this.owner.callClosed(this);
  }

  /** @internal node:http2 asks for the trailers after the last DATA frame. */
  handleWantTrailers(): void {
    // No RST_STREAM after these trailers even if the client has not half-closed: sent from inside
    // this callback, node/nghttp2 may put the reset on the wire before the trailers, and grpc-js
    // then reports "Call ended without gRPC status". Clients close their side on receiving status.
    this.stream.sendTrailers(this.trailers);
  }

  /** @internal The send buffer drained. */
  resolveDrain(): void {
    const resolve = this.drainResolve;
    this.drainPromise = null;
    this.drainResolve = null;
    if (resolve !== null) resolve();
  }

  /** @internal The deadline passed. */
  expire(): void {
    this.deadlineTimer = null;
    this.finishByTransport(new GrpcStatusError(GrpcStatus.DEADLINE_EXCEEDED, 'context deadline exceeded'));
  }

  /** Ends the call with `reason` as a cancellation (server shutdown). No-op once finished. */
  cancel(reason: GrpcStatusError): void {
    this.finishByTransport(reason);
  }

  /** @internal Sends a unary (or client-streaming) response: one header block, one message, OK. */
  sendUnaryResponse(response: unknown): void {
    if (this.finished) return;
    const payload = this.encode(response);
    if (payload === undefined) return;
    this.markFinished(GrpcStatus.OK);
    const s = this.stream;
    if (s.destroyed) return;
    this.headersSent = true;
    s.respond(RESPONSE_HEADERS, RESPOND_WITH_TRAILERS);
    writeFrame(s, payload, true);
  }

  /** @internal A handler threw or rejected: its status, or UNKNOWN (logged) for other errors. */
  fail(err: unknown): void {
    if (this.finished) return;
    if (!(err instanceof GrpcStatusError)) {
      this.owner.logger.error({ err, path: this.path }, 'grpc handler failed');
    }
    const status = GrpcStatusError.from(err);
    this.finish(status.code, status.message);
  }

  // ---- internals ----

  private startReading(): void {
    this.reading = true;
    this.stream.on('data', onStreamData);
    this.stream.on('end', onStreamEnd);
  }

  private runHalfClose(): void {
    const callback = this.halfCloseCallback;
    if (callback === null || this.finished) return;
    this.halfCloseCallback = null;
    try {
      callback();
    } catch (err) {
      this.fail(err);
    }
  }

  private rejectCompressed(): void {
    const encoding = firstHeader(this.metadata['grpc-encoding']);
    // grpc-go's checkRecvPayload texts: no encoding negotiated vs. one we cannot decompress.
    const status =
      encoding === undefined || encoding === 'identity'
        ? new GrpcStatusError(GrpcStatus.INTERNAL, 'grpc: compressed flag set with identity or empty encoding')
        : new GrpcStatusError(GrpcStatus.UNIMPLEMENTED, `grpc: Decompressor is not installed for grpc-encoding "${encoding}"`);
    this.finishByTransport(status);
  }

  private encode(message: unknown): Uint8Array | undefined {
    try {
      return this.method.encode(message);
    } catch (err) {
      this.owner.logger.error({ err, path: this.path }, 'grpc response encoding failed');
      this.finish(GrpcStatus.INTERNAL, `grpc: error while marshaling: ${errorText(err)}`);
      return undefined;
    }
  }

  /** Decides the status without sending it; stops reading and the deadline. */
  private markFinished(code: GrpcStatus): void {
    this.finished = true;
    this.clearDeadline();
    this.deframer.stop();
    this.owner.callFinished(this, code);
  }

  /** Decides and sends the final status: Trailers-Only before any message, else trailers. */
  private finish(code: GrpcStatus, message: string): void {
    if (this.finished) return;
    this.markFinished(code);
    this.resolveDrain();
    const s = this.stream;
    if (s.destroyed) return;
    if (this.headersSent) {
      this.trailers = statusTrailers(code, message);
      s.end(); // trailers follow via 'wantTrailers'
      return;
    }
    this.headersSent = true;
    s.respond(trailersOnlyHeaders(code, message), RESPOND_TRAILERS_ONLY);
    if (this.shouldResetAfterStatus()) s.close(NGHTTP2_NO_ERROR);
  }

  private finishByTransport(status: GrpcStatusError): void {
    if (this.finished) return;
    this.markCancelled(status);
    this.finish(status.code, status.message);
  }

  private markCancelled(reason: GrpcStatusError): void {
    if (this.cancelReason !== null) return;
    this.cancelReason = reason;
    if (this.abortController !== null) this.abortController.abort(reason);
  }

  /**
   * After a Trailers-Only status, should we reset a client that has not half-closed? Yes for
   * streams and for a unary call whose request never completed (e.g. too large): it may still be
   * uploading, and the reset (RST_STREAM NO_ERROR, as grpc-go sends) stops it. A unary call that
   * got its request is left alone: its END_STREAM is already on the way.
   */
  private shouldResetAfterStatus(): boolean {
    return !this.halfClosed && (this.method.kind !== 'unary' || this.received === 0);
  }

  private clearDeadline(): void {
    if (this.deadlineTimer !== null) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = null;
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// Stream listeners shared by all calls (`this` is the stream).
function onStreamData(this: CallStream, chunk: Buffer): void {
  (this[kCall] as ServerCall).handleData(chunk);
}
function onStreamEnd(this: CallStream): void {
  (this[kCall] as ServerCall).handleEnd();
}
function onStreamClose(this: CallStream): void {
  (this[kCall] as ServerCall).handleClose();
}
function onWantTrailers(this: CallStream): void {
  (this[kCall] as ServerCall).handleWantTrailers();
}
function onStreamDrain(this: CallStream): void {
  (this[kCall] as ServerCall).resolveDrain();
}
/** Stream errors (e.g. a client RST_STREAM) are always followed by 'close', which handles them. */
function onStreamError(this: CallStream): void {}
function onDeadline(call: ServerCall): void {
  call.expire();
}

// Handler runners: async functions instead of per-call promise callbacks.
async function runUnary(call: ServerCall, request: unknown): Promise<void> {
  try {
    const response = await (call.method.handler as UnaryHandler<unknown, unknown>)(request, call);
    call.sendUnaryResponse(response);
  } catch (err) {
    call.fail(err);
  }
}

async function runClientStream(call: ServerCall): Promise<void> {
  try {
    const response = await (call.method.handler as ClientStreamHandler<unknown, unknown>)(call, call);
    call.sendUnaryResponse(response);
  } catch (err) {
    call.fail(err);
  }
}

/** Server-streaming (with its request) or bidi (request undefined): a returned promise ends the call. */
async function runStreaming(call: ServerCall, request: unknown): Promise<void> {
  try {
    const result =
      call.method.kind === 'bidi'
        ? (call.method.handler as BidiHandler<unknown, unknown>)(call, call)
        : (call.method.handler as ServerStreamHandler<unknown, unknown>)(request, call, call);
    if (result !== undefined) {
      await result;
      call.end();
    }
  } catch (err) {
    call.fail(err);
  }
}
