/**
 * `LatencySummary`: one of ZooKeeper's request-latency summaries (`readlatency`,
 * `updatelatency`; ServerMetrics), as its Prometheus provider exports them: a count and a sum
 * since start, and quantiles over a sliding window of recent requests. The Prometheus Java client
 * ZooKeeper 3.8 uses keeps that window at 10 minutes in 5 steps; so does this. Latencies are
 * whole milliseconds (ZooKeeper's clock), so a window is a count per millisecond value and its
 * quantiles are exact, where the Java client's are estimates within a stated error.
 */

/** Quantiles are read over the last {@link WINDOW_MS}, dropped in {@link STEPS} steps. */
const WINDOW_MS = 600_000;
const STEPS = 5;

/** Counts of latencies (ms → observations) seen in one step of the window. */
type Step = { startedAt: number; counts: Map<number, number>; n: number };

/** A count, sum and windowed quantiles of latencies in ms. */
export class LatencySummary {
  /** Observations since start (never reset: a Prometheus summary only grows). */
  count = 0;
  /** Their sum, ms. */
  sum = 0;
  private readonly steps: Step[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Records one latency (rounded to whole ms, negatives as 0). */
  observe(ms: number): void {
    const v = Math.max(0, Math.round(ms));
    this.count++;
    this.sum += v;
    const step = this.currentStep();
    step.counts.set(v, (step.counts.get(v) ?? 0) + 1);
    step.n++;
  }

  /**
   * The `q` quantile (0..1) of the window: the observation at rank ⌊q·n⌋ (0-based) in sorted
   * order; NaN when the window holds none, as the Java client reports an empty summary.
   */
  quantile(q: number): number {
    this.expire();
    const merged = new Map<number, number>();
    let n = 0;
    for (const s of this.steps) {
      for (const [v, c] of s.counts) merged.set(v, (merged.get(v) ?? 0) + c);
      n += s.n;
    }
    if (n === 0) return NaN;
    const rank = Math.min(n - 1, Math.floor(q * n));
    let seen = 0;
    for (const v of [...merged.keys()].sort((a, b) => a - b)) {
      seen += merged.get(v)!;
      if (seen > rank) return v;
    }
    return NaN;
  }

  /** The step observations go to now, a new one when the last is a step old. */
  private currentStep(): Step {
    const t = this.now();
    const last = this.steps[this.steps.length - 1];
    if (last && t - last.startedAt < WINDOW_MS / STEPS) return last;
    this.expire();
    const step: Step = { startedAt: t, counts: new Map(), n: 0 };
    this.steps.push(step);
    return step;
  }

  /** Drops the steps that began more than a window ago. */
  private expire(): void {
    const t = this.now();
    while (this.steps.length > 0 && t - this.steps[0]!.startedAt >= WINDOW_MS) this.steps.shift();
  }
}
