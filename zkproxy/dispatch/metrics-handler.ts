/**
 * Metrics decorator: every answered request's op, reply code and latency go to the observers
 * of {@link ZkMetrics}, so zkproxy needs no metrics library; `bin/zk-metrics.ts` feeds the
 * member's Prometheus families from them. Nothing is kept here: counting is the observers' job.
 */
import { ZkHandler, decorate } from './zk-handler';

/** The request observers of one proxy. */
export class ZkMetrics {
  private readonly observers: Array<(op: string, err: number, ms: number) => void> = [];

  /** Calls `fn` with every request recorded from now on: its op, reply code and latency (ms). */
  observe(fn: (op: string, err: number, ms: number) => void): void {
    this.observers.push(fn);
  }

  /** Records one request of `op` answered with `err` after `ms`. */
  record(op: string, err: number, ms: number): void {
    for (const o of this.observers) o(op, err, ms);
  }
}

/** Wraps `inner` so every op is reported to `metrics`' observers. */
export function withMetrics(inner: ZkHandler, metrics: ZkMetrics): ZkHandler {
  return decorate(inner, async (op, _ctx, _req, next) => {
    const started = performance.now();
    const reply = await next();
    metrics.record(op, reply.err, performance.now() - started);
    return reply;
  });
}
