/**
 * A cheap gRPC unary load generator speaking HTTP/2 directly (no grpc-js: on a 2-core machine
 * grpc-js saturates a core before the server does, DESIGN.md §8). It works against any gRPC
 * server: ours, or real etcd. Two engines: `node` (node:http2's client) and `raw` (hand-written
 * framing, several times cheaper per call; raw-h2-connection.ts).
 *
 * Shape: `conns` HTTP/2 connections, `concurrency` calls in flight in total (slot i uses
 * connection i mod conns); each slot issues its next call when the previous one completes, until
 * `total` calls were issued or `durationMs` passed. Every loop is bounded: a run also ends if no
 * call completes for `stallMs` (the in-flight calls then count as `STALLED`).
 *
 * Per call: the engine's request, latency into a fixed-size histogram, the status counted by name.
 */

import { grpcStatusName } from '../../core/server/grpc/grpc-status';
import { encodeRequestHeaders } from './hpack-lite';
import { LatencyHistogram } from './latency-histogram';
import { NodeH2Connection } from './node-h2-connection';
import { RawH2Connection, type RawCallListener } from './raw-h2-connection';

/** Which HTTP/2 client issues the calls. */
export type LoadEngine = 'node' | 'raw';

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
  /** HTTP/2 client: `raw` (default, cheapest) or `node` (node:http2, any body size). */
  engine?: LoadEngine;
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

/** What the runner needs from a connection (both engines implement it). */
interface LoadConnection {
  connected(): Promise<void>;
  readonly usable: boolean;
  start(slot: Slot, framed: Buffer): boolean;
  close(): void;
}

/** One in-flight lane. */
interface Slot {
  readonly id: number;
  readonly connection: number;
  startedAt: number;
}

/**
 * A prepared run: connections opened by {@link connect}, load applied by {@link run}. Split so a
 * multi-process driver can connect every process first and start them together.
 */
export class GrpcLoadRunner implements RawCallListener<Slot> {
  private readonly options: Required<Omit<LoadOptions, 'durationMs' | 'metadata'>> & Pick<LoadOptions, 'durationMs' | 'metadata'>;
  private readonly connections: LoadConnection[] = [];
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
      engine: 'raw',
      ...options,
    };
    this.staticFrame = typeof options.body === 'function' ? null : frame(options.body);
  }

  /** Opens the connections and waits until each has exchanged SETTINGS. */
  async connect(): Promise<void> {
    const target = this.options.target;
    const colon = target.lastIndexOf(':');
    const host = target.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(target.slice(colon + 1));
    const metadata = this.options.metadata ?? {};
    const rawHeaders = encodeRequestHeaders(this.options.path, target, metadata);
    const nodeHeaders = { ':method': 'POST', ':path': this.options.path, 'content-type': 'application/grpc', te: 'trailers', ...metadata };
    for (let i = 0; i < this.options.conns; i++) {
      this.connections.push(
        this.options.engine === 'raw'
          ? new RawH2Connection<Slot>(host, port, rawHeaders, this)
          : new NodeH2Connection<Slot>(host, port, nodeHeaders, this),
      );
    }
    await Promise.all(this.connections.map((c) => c.connected()));
    for (const c of this.connections) {
      if (c instanceof RawH2Connection && this.staticFrame !== null && this.staticFrame.length > c.maxBodyBytes) {
        this.close();
        throw new Error(`a ${this.staticFrame.length}-byte request exceeds the server's stream window (${c.maxBodyBytes}); use --engine node`);
      }
    }
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
        const slot: Slot = { id: i, connection: i % this.connections.length, startedAt: 0 };
        if (!this.issue(slot)) break;
      }
      if (this.inFlight === 0) this.done();
    });
  }

  /** Closes every connection. */
  close(): void {
    this.stopped = true;
    for (const c of this.connections) c.close();
  }

  /** Starts the slot's next call if the budget allows; false when the run is over for it. */
  private issue(slot: Slot): boolean {
    if (this.stopped) return false;
    if (this.options.durationMs === undefined ? this.issued >= this.options.total : performance.now() >= this.endAt) return false;
    const connection = this.connections[slot.connection];
    if (!connection.usable) return false;
    const body = this.staticFrame ?? frame((this.options.body as (i: number) => Uint8Array)(this.issued));
    this.issued++;
    this.inFlight++;
    slot.startedAt = performance.now();
    let started: boolean;
    try {
      started = connection.start(slot, body);
    } catch {
      started = false; // e.g. a body over the raw engine's limit: counted, and this lane stops
      this.statuses.CLIENT_ERROR = (this.statuses.CLIENT_ERROR ?? 0) + 1;
    }
    if (!started) {
      this.issued--;
      this.inFlight--;
    }
    return started;
  }

  /** @internal An engine reports a finished call: a gRPC status number or a transport failure name. */
  onCallDone(slot: Slot, status: number | string): void {
    this.complete(slot, typeof status === 'number' ? grpcStatusName(status) : status);
  }

  /** One call ended with `status` (a name); start the slot's next call. */
  private complete(slot: Slot, status: string): void {
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
