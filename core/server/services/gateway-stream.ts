/**
 * A gRPC streaming call served in process for the JSON gateway: the handler sees the same
 * {@link CallContext} and {@link BidiStream} it gets over HTTP/2, while its messages go to the
 * HTTP response as newline-delimited `{"result":{…}}` objects and its final error as one
 * `{"error":{…}}` line (etcd.md §4.5, as grpc-gateway v1 streams).
 *
 * Backpressure is the HTTP response's: `write` returns false when the socket's buffer is above
 * its high-water mark and `drain` waits for it, so a slow curl slows a watch exactly as a slow
 * gRPC client does. The client closing the connection cancels the call.
 */
import type { ServerResponse } from 'node:http';
import type { HttpRequest, HttpResponse } from '../grpc/client-listener';
import type { BidiStream, CallContext, MethodDescriptor } from '../grpc/grpc-method';
import { GrpcStatus, GrpcStatusError } from '../grpc/grpc-status';
import { toGatewayJson, type RpcMethod } from '../../../protocol/etcd';
import { httpStatusOf, streamErrorBody } from './gateway-errors';

/** Headers every gateway answer carries (etcd 3.4 sends these CORS headers on /v3/*). */
export const GATEWAY_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-headers': 'accept, content-type, authorization',
  'access-control-allow-methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'access-control-allow-origin': '*',
  'content-type': 'application/json',
};

/** The call context of an HTTP request: its headers as metadata, cancelled when the client leaves. */
export class GatewayContext implements CallContext {
  readonly metadata: Record<string, string | string[] | undefined>;
  readonly deadline = undefined;
  readonly peer: string;
  private readonly abort = new AbortController();

  constructor(
    readonly path: string,
    req: HttpRequest,
  ) {
    // grpc-gateway forwards `Grpc-Metadata-<k>` headers as metadata `<k>`; etcd reads the auth
    // token from `authorization` (no Bearer prefix) or `token`.
    this.metadata = { ...req.headers };
    for (const [k, v] of Object.entries(req.headers)) {
      if (k.startsWith('grpc-metadata-')) this.metadata[k.slice('grpc-metadata-'.length)] = v;
    }
    this.peer = `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`;
  }

  get(key: string): string | undefined {
    const v = this.metadata[key];
    return Array.isArray(v) ? v[0] : v;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get cancelled(): boolean {
    return this.abort.signal.aborted;
  }

  /** Cancels the call (client gone). Idempotent. */
  cancel(): void {
    if (!this.cancelled) this.abort.abort(new GrpcStatusError(GrpcStatus.CANCELLED, 'context canceled'));
  }
}

/** The streaming half: handler messages out as JSON lines, request messages in from the body. */
export class GatewayStream implements BidiStream<unknown, unknown> {
  private finished = false;
  private wroteAny = false;
  private receiver: ((message: unknown) => void) | undefined;
  private halfClose: (() => void) | undefined;
  private readonly res: ServerResponse;

  constructor(
    private readonly rpc: RpcMethod,
    private readonly method: MethodDescriptor,
    response: HttpResponse,
    ctx: GatewayContext,
    /** Request messages already decoded by the method's decoder, delivered when reading starts. */
    private readonly requests: unknown[],
  ) {
    this.res = response as ServerResponse;
    this.res.on('close', () => {
      if (!this.finished) {
        this.finished = true;
        ctx.cancel();
      }
    });
  }

  get ended(): boolean {
    return this.finished;
  }

  get bufferedBytes(): number {
    return this.res.writableLength ?? 0;
  }

  sendHeaders(): void {
    if (this.res.headersSent || this.finished) return;
    this.res.writeHead(200, GATEWAY_HEADERS);
  }

  write(message: unknown): boolean {
    if (this.finished) return false;
    // Through the method's encoder and the protocol codec: exactly what a gRPC client would see.
    const wire = this.rpc.response.decode(this.method.encode(message));
    this.sendHeaders();
    this.wroteAny = true;
    return this.res.write(JSON.stringify({ result: toGatewayJson(this.rpc.response, wire) }) + '\n');
  }

  drain(): Promise<void> {
    const { writableLength, writableHighWaterMark } = this.res;
    // (An HTTP/2 compatibility response has no writable counters: nothing to wait for then.)
    if (this.finished || typeof writableLength !== 'number' || !(writableLength >= writableHighWaterMark)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  end(status?: GrpcStatusError): void {
    if (this.finished) return;
    this.finished = true;
    if (status !== undefined && status.code !== GrpcStatus.OK) {
      if (!this.res.headersSent) this.res.writeHead(this.wroteAny ? 200 : httpStatusOf(status.code), GATEWAY_HEADERS);
      this.res.end(JSON.stringify(streamErrorBody(status)) + '\n');
      return;
    }
    this.sendHeaders();
    this.res.end();
  }

  onMessage(receiver: (message: unknown) => void): void {
    this.receiver = receiver;
    // Deliver after the handler has registered its half-close callback too.
    setImmediate(() => this.deliver());
  }

  onHalfClose(callback: () => void): void {
    this.halfClose = callback;
  }

  pause(): void {}

  resume(): void {}

  private deliver(): void {
    for (const m of this.requests) {
      if (this.finished) return;
      try {
        this.receiver?.(m);
      } catch (err) {
        this.end(GrpcStatusError.from(err));
        return;
      }
    }
    if (!this.finished) this.halfClose?.();
  }
}
