/**
 * A fixed-size, mergeable latency histogram with ~0.8 % relative precision (HdrHistogram's idea
 * in a few lines): values are microseconds, bucketed by power of two and 128 linear sub-buckets
 * inside each power. Recording is O(1) with no allocation, memory is bounded (32 × 128 counters)
 * however long a run lasts, and histograms from several processes merge by adding counters.
 */

/** Sub-buckets per power of two: the relative precision is 1/SUB_BUCKETS. */
const SUB_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BITS;
/** Powers of two covered: 1 µs up to 2^32 µs (~71 minutes); larger values are clamped. */
const POWERS = 32;
const MAX_US = 2 ** 32 - 1;

/** Bucket index of a value in whole microseconds (≥ 1). */
function indexOf(us: number): number {
  const e = 31 - Math.clz32(us);
  if (e < SUB_BITS) return e * SUB_BUCKETS + ((us - (1 << e)) << (SUB_BITS - e));
  // Sub-bucket = the SUB_BITS bits below the leading one.
  return e * SUB_BUCKETS + Math.floor((us - 2 ** e) / 2 ** (e - SUB_BITS));
}

/** A representative value (midpoint) of a bucket, in microseconds. */
function valueOf(index: number): number {
  const e = Math.floor(index / SUB_BUCKETS);
  const sub = index % SUB_BUCKETS;
  const low = 2 ** e + (sub * 2 ** e) / SUB_BUCKETS;
  const width = Math.max(1, 2 ** e / SUB_BUCKETS);
  return low + width / 2;
}

/** Percentiles and extremes of a histogram, in milliseconds. */
export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** Latency histogram; record milliseconds, read percentiles. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(POWERS * SUB_BUCKETS);
  private total = 0;
  private sumUs = 0;
  private maxUs = 0;

  /** Records one latency in milliseconds (fractions kept to the microsecond). */
  record(ms: number): void {
    let us = Math.round(ms * 1000);
    if (us < 1) us = 1;
    else if (us > MAX_US) us = MAX_US;
    this.counts[indexOf(us)]++;
    this.total++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Number of values recorded. */
  get count(): number {
    return this.total;
  }

  /** The value at quantile q (0..1) in milliseconds; 0 when empty. */
  quantileMs(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(valueOf(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  /** Count, mean, p50/p90/p99/p99.9 and max, in milliseconds. */
  summary(): LatencySummary {
    return {
      count: this.total,
      meanMs: this.total === 0 ? 0 : this.sumUs / this.total / 1000,
      p50Ms: this.quantileMs(0.5),
      p90Ms: this.quantileMs(0.9),
      p99Ms: this.quantileMs(0.99),
      p999Ms: this.quantileMs(0.999),
      maxMs: this.maxUs / 1000,
    };
  }

  /** Adds another histogram's counts to this one. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.sumUs += other.sumUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  /** A JSON-safe form (sparse), for sending between processes. */
  toJSON(): { buckets: Array<[number, number]>; total: number; sumUs: number; maxUs: number } {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    return { buckets, total: this.total, sumUs: this.sumUs, maxUs: this.maxUs };
  }

  /** Rebuilds a histogram from {@link toJSON}'s output. */
  static fromJSON(json: ReturnType<LatencyHistogram['toJSON']>): LatencyHistogram {
    const h = new LatencyHistogram();
    for (const [i, n] of json.buckets) h.counts[i] = n;
    h.total = json.total;
    h.sumUs = json.sumUs;
    h.maxUs = json.maxUs;
    return h;
  }
}
