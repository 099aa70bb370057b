/**
 * A cheap gRPC unary load generator speaking HTTP/2 directly with node:http2 (no grpc-js: on a
 * 2-core machine grpc-js saturates a core before the server does, DESIGN.md §8). It works
 * against any gRPC server: ours, or real etcd.
 *
 * Shape: `conns` HTTP/2 connections, `concurrency` calls in flight in total (slot i uses
 * connection i mod conns); each slot issues its next call when the previous one completes, until
 * `total` calls were issued or `durationMs` passed. Every loop is bounded: a run also ends if no
 * call completes for `stallMs` (the in-flight calls then count as `STALLED`).
 *
 * Per call: one `request` (shared header object), one `end(frame)`, listeners shared by all calls
 * (the slot is found through a symbol on the stream), latency into a fixed-size histogram.
 */

import * as http2 from 'node:http2';
import * as net from 'node:net';
import { grpcStatusName } from '../../core/server/grpc/grpc-status';
import { LatencyHistogram } from './latency-histogram';

/** What to send and how hard. */
export interface LoadOptions {
  /** `host:port` of the gRPC server (cleartext HTTP/2, prior knowledge). */
  target: string;
  /** Full method path, e.g. `/etcdserverpb.KV/Range`. */
  path: string;
  /** The request message (unframed), or a function making the i-th one (i counts from 0 per process). */
  body: Uint8Array | ((i: number) => Uint8Array);
  /** HTTP/2 connections (default 1). */
  conns?: number;
  /** Calls in flight in total, spread over the connections (default 1). */
  concurrency?: number;
  /** Calls to issue; used when `durationMs` is not given (default 10000). */
  total?: number;
  /** Run for this long instead of a fixed count. */
  durationMs?: number;
  /** Extra request headers (gRPC metadata), e.g. `{ token: '…' }`. */
  metadata?: Record<string, string>;
  /** End the run if nothing completes for this long (default 10 s). */
  stallMs?: number;
}

/** The outcome of one run (one process). */
export interface LoadResult {
  /** Calls completed (any status). */
  calls: number;
  /** Completed calls by final status name: OK, UNAVAILABLE, …, TRANSPORT (no status), STALLED. */
  statuses: Record<string, number>;
  /** Wall time of the measured phase, ms. */
  elapsedMs: number;
  /** This process's CPU time during the measured phase, ms. */
  cpuUserMs: number;
  cpuSystemMs: number;
  latency: LatencyHistogram;
}

const kSlot = Symbol('loadSlot');
type LoadStream = http2.ClientHttp2Stream & { [kSlot]?: Slot };

/** One in-flight lane. */
interface Slot {
  readonly runner: GrpcLoadRunner;
  readonly id: number;
  readonly session: number;
  startedAt: number;
  status: string | undefined;
}

/**
 * A prepared run: connections opened by {@link connect}, load applied by {@link run}. Split so a
 * multi-process driver can connect every process first and start them together.
 */
export class GrpcLoadRunner {
  private readonly options: Required<Omit<LoadOptions, 'durationMs' | 'metadata'>> & Pick<LoadOptions, 'durationMs' | 'metadata'>;
  private readonly sessions: http2.ClientHttp2Session[] = [];
  private readonly headers: http2.OutgoingHttpHeaders;
  private readonly staticFrame: Buffer | null;
  private readonly latency = new LatencyHistogram();
  private readonly statuses: Record<string, number> = {};
  private issued = 0;
  private completed = 0;
  private inFlight = 0;
  private endAt = Infinity;
  private lastProgressAt = 0;
  private finish: (() => void) | null = null;
  private stopped = false;

  constructor(options: LoadOptions) {
    this.options = {
      conns: 1,
      concurrency: 1,
      total: 10_000,
      stallMs: 10_000,
      ...options,
    };
    this.headers = {
      ':method': 'POST',
      ':path': options.path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...(options.metadata ?? {}),
    };
    this.staticFrame = typeof options.body === 'function' ? null : frame(options.body);
  }

  /** Opens the connections and waits until each has exchanged SETTINGS. */
  async connect(): Promise<void> {
    const url = `http://${this.options.target}`;
    const colon = this.options.target.lastIndexOf(':');
    const host = this.options.target.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(this.options.target.slice(colon + 1));
    const opens: Array<Promise<void>> = [];
    for (let i = 0; i < this.options.conns; i++) {
      const session = http2.connect(url, {
        // Nagle + delayed ACK would add ~40 ms to small calls; node's http2 client leaves Nagle on.
        createConnection: () => net.connect({ host, port, noDelay: true }),
        maxSessionMemory: 64,
        settings: { initialWindowSize: 4 * 1024 * 1024, enablePush: false },
      });
      session.on('error', () => {}); // surfaces as failed calls (TRANSPORT)
      this.sessions.push(session);
      opens.push(
        new Promise((resolve, reject) => {
          session.once('connect', () => {
            session.setLocalWindowSize(16 * 1024 * 1024);
            resolve();
          });
          session.once('error', reject);
        }),
      );
    }
    await Promise.all(opens);
  }

  /** Applies the load; resolves with the result. Call once, after {@link connect}. */
  run(): Promise<LoadResult> {
    const startCpu = process.cpuUsage();
    const startAt = performance.now();
    this.lastProgressAt = startAt;
    if (this.options.durationMs !== undefined) this.endAt = startAt + this.options.durationMs;
    return new Promise<LoadResult>((resolve) => {
      const watchdog = setInterval(() => this.checkStall(), Math.min(1000, this.options.stallMs));
      this.finish = () => {
        clearInterval(watchdog);
        const cpu = process.cpuUsage(startCpu);
        resolve({
          calls: this.completed,
          statuses: this.statuses,
          elapsedMs: performance.now() - startAt,
          cpuUserMs: cpu.user / 1000,
          cpuSystemMs: cpu.system / 1000,
          latency: this.latency,
        });
      };
      const lanes = Math.max(1, this.options.concurrency);
      for (let i = 0; i < lanes; i++) {
        const slot: Slot = { runner: this, id: i, session: i % this.sessions.length, startedAt: 0, status: undefined };
        if (!this.issue(slot)) break;
      }
      if (this.inFlight === 0) this.done();
    });
  }

  /** Closes every connection. */
  close(): void {
    for (const s of this.sessions) s.destroy();
  }

  /** Starts the slot's next call if the budget allows; false when the run is over for it. */
  private issue(slot: Slot): boolean {
    if (this.stopped) return false;
    if (this.options.durationMs === undefined ? this.issued >= this.options.total : performance.now() >= this.endAt) return false;
    const session = this.sessions[slot.session];
    if (session.destroyed || session.closed) return false;
    const body = this.staticFrame ?? frame((this.options.body as (i: number) => Uint8Array)(this.issued));
    this.issued++;
    this.inFlight++;
    slot.status = undefined;
    slot.startedAt = performance.now();
    let req: LoadStream;
    try {
      req = session.request(this.headers, { endStream: false }) as LoadStream;
    } catch {
      this.complete(slot, 'TRANSPORT');
      return false;
    }
    req[kSlot] = slot;
    req.on('response', onResponse);
    req.on('trailers', onTrailers);
    req.on('error', onError);
    req.on('close', onClose);
    req.resume(); // response bytes are not inspected; discard them as they arrive
    req.end(body);
    return true;
  }

  /** @internal One call ended. */
  complete(slot: Slot, status: string): void {
    if (this.stopped) return; // a late completion after a stall was already counted
    const now = performance.now();
    this.latency.record(now - slot.startedAt);
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    this.completed++;
    this.inFlight--;
    this.lastProgressAt = now;
    if (!this.issue(slot) && this.inFlight === 0) this.done();
  }

  private checkStall(): void {
    if (performance.now() - this.lastProgressAt < this.options.stallMs) return;
    this.stopped = true;
    this.statuses.STALLED = (this.statuses.STALLED ?? 0) + this.inFlight;
    this.inFlight = 0;
    this.done();
  }

  private done(): void {
    const finish = this.finish;
    this.finish = null;
    if (finish !== null) finish();
  }
}

/** The 5-byte gRPC prefix + message. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

function statusName(value: string | string[] | undefined): string {
  return grpcStatusName(Number(value));
}

// Shared listeners (`this` is the request stream).
function onResponse(this: LoadStream, headers: http2.IncomingHttpHeaders): void {
  const slot = this[kSlot] as Slot;
  if (headers['grpc-status'] !== undefined) slot.status = statusName(headers['grpc-status']); // Trailers-Only
}
function onTrailers(this: LoadStream, trailers: http2.IncomingHttpHeaders): void {
  (this[kSlot] as Slot).status = statusName(trailers['grpc-status']);
}
function onError(this: LoadStream): void {}
function onClose(this: LoadStream): void {
  const slot = this[kSlot] as Slot;
  slot.runner.complete(slot, slot.status ?? 'TRANSPORT');
}
