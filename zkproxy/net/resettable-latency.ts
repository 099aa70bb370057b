/**
 * `ResettableLatency`: a request-latency summary as ZooKeeper's mntr and AdminServer `monitor`
 * print it under the default metrics provider (AvgMinMaxPercentileCounter): `avg_`, `min_`,
 * `max_`, `cnt_`, `sum_` and the `p50_`, `p95_`, `p99_`, `p999_` percentiles of one name, since
 * start or the last `srst`. Percentiles come from a uniform sample of at most 4096 latencies,
 * as ZooKeeper keeps, interpolated between neighbours and rounded to whole ms as it does.
 */

/** ZooKeeper's reservoir size. */
const RESERVOIR = 4096;

/** The percentiles mntr prints, with the suffix of their row. */
const PERCENTILES: [string, number][] = [['p50', 0.5], ['p95', 0.95], ['p99', 0.99], ['p999', 0.999]];

/** Latencies in whole ms since start or the last reset. */
export class ResettableLatency {
  private n = 0;
  private total = 0;
  private least = 0;
  private most = 0;
  private sample: number[] = [];

  /** With `percentiles` false, only avg/min/max/count/sum are kept (ZooKeeper's AvgMinMaxCounter). */
  constructor(private readonly percentiles = true, private readonly random: () => number = Math.random) {}

  /** Smallest latency, ms (0 when none). */
  get min(): number {
    return this.least;
  }

  /** Largest latency, ms (0 when none). */
  get max(): number {
    return this.most;
  }

  /** Average in ms with 4 decimals, rounded half up, as ZooKeeper prints it (0 when none). */
  avg(): number {
    return this.n === 0 ? 0 : Math.round((this.total / this.n) * 10000) / 10000;
  }

  /** Records one latency (rounded to whole ms, negatives as 0). */
  observe(ms: number): void {
    const v = Math.max(0, Math.round(ms));
    if (this.n === 0 || v < this.least) this.least = v;
    if (v > this.most) this.most = v;
    this.n++;
    this.total += v;
    if (!this.percentiles) return;
    // A uniform sample of everything seen (Vitter's algorithm R).
    if (this.sample.length < RESERVOIR) this.sample.push(v);
    else {
      const slot = Math.floor(this.random() * this.n);
      if (slot < RESERVOIR) this.sample[slot] = v;
    }
  }

  /** `srst`: forget everything. */
  reset(): void {
    this.n = this.total = this.least = this.most = 0;
    this.sample = [];
  }

  /** The rows of `name`, in ZooKeeper's order (the percentiles only when kept). */
  rows(name: string): [string, number][] {
    const rows: [string, number][] = [[`avg_${name}`, this.avg()], [`min_${name}`, this.least], [`max_${name}`, this.most], [`cnt_${name}`, this.n], [`sum_${name}`, this.total]];
    if (!this.percentiles) return rows;
    const sorted = [...this.sample].sort((a, b) => a - b);
    return [
      ...rows,
      ...PERCENTILES.map(([p, q]): [string, number] => [`${p}_${name}`, Math.round(percentile(sorted, q))]),
    ];
  }
}

/**
 * The `q` quantile of `sorted` as the metrics library ZooKeeper uses takes it from a uniform
 * sample: position q·(n+1), interpolated between the values around it; 0 for no values.
 */
function percentile(sorted: number[], q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const pos = q * (n + 1);
  if (pos < 1) return sorted[0]!;
  if (pos >= n) return sorted[n - 1]!;
  const lower = sorted[Math.floor(pos) - 1]!;
  const upper = sorted[Math.floor(pos)]!;
  return lower + (pos - Math.floor(pos)) * (upper - lower);
}
