/**
 * A load connection on node:http2's client: the portable engine (any body size, full HTTP/2
 * conformance by nghttp2) at a higher CPU cost per call than raw-h2-connection.ts. Listeners are
 * shared by all calls; the call's token is found through a symbol on the request stream.
 */

import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { RawCallListener } from './raw-h2-connection';

const kCall = Symbol('loadCall');
interface CallState<T> {
  readonly owner: NodeH2Connection<T>;
  readonly token: T;
  status: number | string | undefined;
}
type LoadStream<T> = http2.ClientHttp2Stream & { [kCall]?: CallState<T> };

/** One node:http2 session issuing unary gRPC calls with fixed request headers. */
export class NodeH2Connection<T> {
  private readonly session: http2.ClientHttp2Session;
  private readonly headers: http2.OutgoingHttpHeaders;
  private readonly ready: Promise<void>;
  /** @internal */
  readonly listener: RawCallListener<T>;
  private calls = 0;

  constructor(host: string, port: number, headers: http2.OutgoingHttpHeaders, listener: RawCallListener<T>) {
    this.headers = headers;
    this.listener = listener;
    const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    this.session = http2.connect(`http://${authority}`, {
      // Nagle + delayed ACK would add ~40 ms to small calls; node's http2 client leaves Nagle on.
      createConnection: () => net.connect({ host, port, noDelay: true }),
      maxSessionMemory: 64,
      settings: { initialWindowSize: 4 * 1024 * 1024, enablePush: false },
    });
    this.session.on('error', () => {}); // surfaces as failed calls
    // The connection window stays at HTTP/2's 64 KiB on purpose: node:http2 stops reading while
    // it writes, so two node peers with large windows both ways can deadlock on full sockets.
    this.ready = new Promise((resolve, reject) => {
      this.session.once('connect', () => resolve());
      this.session.once('error', reject);
    });
  }

  /** Resolves once the session is established. */
  connected(): Promise<void> {
    return this.ready;
  }

  /** Calls in flight on this connection. */
  get inFlight(): number {
    return this.calls;
  }

  /** True while the session can take calls. */
  get usable(): boolean {
    return !this.session.destroyed && !this.session.closed;
  }

  /** Starts one call with a framed body; false if the session cannot take it. */
  start(token: T, framed: Buffer): boolean {
    if (!this.usable) return false;
    let req: LoadStream<T>;
    try {
      req = this.session.request(this.headers, { endStream: false }) as LoadStream<T>;
    } catch {
      return false;
    }
    this.calls++;
    req[kCall] = { owner: this, token, status: undefined };
    req.on('response', onResponse);
    req.on('trailers', onTrailers);
    req.on('error', onError);
    req.on('close', onClose);
    // Response bytes are not inspected, but must be read through a listener: with a bare
    // resume() node 20's client stalls on large responses (seen with 2 MB echoes, 8 in flight).
    req.on('data', onData);
    req.end(framed);
    return true;
  }

  /** Destroys the session; in-flight calls complete as failed. */
  close(): void {
    this.session.destroy();
  }

  /** @internal */
  done(state: CallState<T>): void {
    this.calls--;
    this.listener.onCallDone(state.token, state.status ?? 'TRANSPORT');
  }
}

// Shared listeners (`this` is the request stream).
function onResponse(this: LoadStream<unknown>, headers: http2.IncomingHttpHeaders): void {
  // Trailers-Only responses carry the status in the headers.
  if (headers['grpc-status'] !== undefined) (this[kCall] as CallState<unknown>).status = Number(headers['grpc-status']);
}
function onTrailers(this: LoadStream<unknown>, trailers: http2.IncomingHttpHeaders): void {
  (this[kCall] as CallState<unknown>).status = Number(trailers['grpc-status']);
}
function onError(this: LoadStream<unknown>): void {}
function onData(this: LoadStream<unknown>): void {}
function onClose(this: LoadStream<unknown>): void {
  const state = this[kCall] as CallState<unknown>;
  state.owner.done(state);
}
