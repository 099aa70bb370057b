/**
 * Metrics decorator: requests and errors per op, and latency buckets, kept in plain counters
 * so zkproxy needs no metrics library; `bin/` feeds Prometheus families from
 * {@link ZkMetrics.observe} (bin/zk-metrics.ts).
 */
import { errName } from '../../protocol/jute';
import { ZkHandler, decorate } from './zk-handler';

/** Upper bounds (ms) of the latency buckets. */
export const LATENCY_BUCKETS_MS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000];

/** Counters of one proxy. */
export class ZkMetrics {
  readonly requests = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly latency = new Map<string, number[]>();

  private readonly observers: Array<(op: string, err: number, ms: number) => void> = [];

  /** Calls `fn` with every request recorded from now on: its op, reply code and latency (ms). */
  observe(fn: (op: string, err: number, ms: number) => void): void {
    this.observers.push(fn);
  }

  /** Records one request of `op` answered with `err` after `ms`. */
  record(op: string, err: number, ms: number): void {
    for (const o of this.observers) o(op, err, ms);
    this.requests.set(op, (this.requests.get(op) ?? 0) + 1);
    if (err !== 0) {
      const key = `${op}:${errName(err)}`;
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
    }
    let b = this.latency.get(op);
    if (!b) {
      b = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
      this.latency.set(op, b);
    }
    const i = LATENCY_BUCKETS_MS.findIndex((x) => ms <= x);
    b[i < 0 ? LATENCY_BUCKETS_MS.length : i]!++;
  }

  /** A plain-object copy for export. */
  snapshot(): { requests: Record<string, number>; errors: Record<string, number>; latency: Record<string, number[]> } {
    return {
      requests: Object.fromEntries(this.requests),
      errors: Object.fromEntries(this.errors),
      latency: Object.fromEntries([...this.latency].map(([k, v]) => [k, [...v]])),
    };
  }
}

/** Wraps `inner` so every op is counted in `metrics`. */
export function withMetrics(inner: ZkHandler, metrics: ZkMetrics): ZkHandler {
  return decorate(inner, async (op, _ctx, _req, next) => {
    const started = performance.now();
    const reply = await next();
    metrics.record(op, reply.err, performance.now() - started);
    return reply;
  });
}
