/**
 * A small Prometheus metrics registry: counters, gauges and histograms with optional labels,
 * rendered in the text exposition format 0.0.4 (what etcd's `/metrics` serves and every
 * Prometheus scraper reads). Hand-written because the runtime dependencies are limited to
 * grpc-js, lmdb, pino and a protobuf runtime (DESIGN §10).
 *
 * Format rules kept here: one `# HELP` and one `# TYPE` line per family; label values escape
 * `\`, `"` and newline; HELP text escapes `\` and newline; a histogram has cumulative
 * `_bucket{le="…"}` samples ending with `le="+Inf"`, then `_sum` and `_count`; special values are
 * `+Inf`, `-Inf`, `NaN`.
 */

/** Label names to values; every sample of a family uses the same names. */
export type Labels = Readonly<Record<string, string>>;

/** The exposition content type for {@link MetricsRegistry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Anything the registry can render. */
interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** Appends this family's sample lines. */
  samples(out: string[]): void;
}

/** Shared label bookkeeping: one value slot per distinct label set, in first-seen order. */
abstract class Labelled<V> implements Family {
  abstract readonly type: Family['type'];
  protected readonly series = new Map<string, { labels: string; value: V }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name ${name}`);
  }

  abstract samples(out: string[]): void;

  protected slot(labels: Labels | undefined, init: () => V): { labels: string; value: V } {
    const key = formatLabels(labels);
    let s = this.series.get(key);
    if (s === undefined) this.series.set(key, (s = { labels: key, value: init() }));
    return s;
  }
}

/** A monotonically increasing count (resets only with the process). */
export class Counter extends Labelled<number> {
  readonly type = 'counter';

  /** Adds `by` (default 1; must be ≥ 0) to the series with `labels`. */
  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new Error(`counter ${this.name} cannot decrease`);
    this.slot(labels, () => 0).value += by;
  }

  /** The series with `labels` as an incrementer (by 1), its labels formatted once, not at every call. */
  bind(labels?: Labels): () => void {
    const s = this.slot(labels, () => 0);
    return () => void s.value++;
  }

  /** The current value of one series (0 if never incremented). */
  get(labels?: Labels): number {
    return this.series.get(formatLabels(labels))?.value ?? 0;
  }

  samples(out: string[]): void {
    for (const s of this.series.values()) out.push(`${this.name}${s.labels} ${formatValue(s.value)}`);
  }
}

/** A value that goes up and down; usually set at scrape time by a collector. */
export class Gauge extends Labelled<number> {
  readonly type = 'gauge';

  /** Sets the series with `labels`. */
  set(value: number, labels?: Labels): void {
    this.slot(labels, () => 0).value = value;
  }

  /** Adds `by` (may be negative). */
  inc(by = 1, labels?: Labels): void {
    this.slot(labels, () => 0).value += by;
  }

  /** The current value of one series (0 if never set). */
  get(labels?: Labels): number {
    return this.series.get(formatLabels(labels))?.value ?? 0;
  }

  samples(out: string[]): void {
    for (const s of this.series.values()) out.push(`${this.name}${s.labels} ${formatValue(s.value)}`);
  }
}

interface HistogramState {
  /** Per-bucket (non-cumulative) counts; the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into fixed upper bounds (`le`), plus their sum and count. */
export class Histogram extends Labelled<HistogramState> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  /** `buckets` are finite upper bounds in increasing order; `+Inf` is implied. */
  constructor(name: string, help: string, buckets: readonly number[]) {
    super(name, help);
    for (let i = 1; i < buckets.length; i++) if (!(buckets[i]! > buckets[i - 1]!)) throw new Error(`histogram ${name}: buckets must increase`);
    this.buckets = [...buckets];
  }

  /** Records one observation. */
  observe(value: number, labels?: Labels): void {
    this.record(this.slot(labels, () => this.empty()).value, value);
  }

  /**
   * The series with `labels` as an observer, for a caller that records into it often: the
   * labels are formatted once here, not at every observation.
   */
  bind(labels?: Labels): (value: number) => void {
    const s = this.slot(labels, () => this.empty()).value;
    return (value) => this.record(s, value);
  }

  private empty(): HistogramState {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  private record(s: HistogramState, value: number): void {
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** Observations so far in one series. */
  count(labels?: Labels): number {
    return this.series.get(formatLabels(labels))?.value.count ?? 0;
  }

  samples(out: string[]): void {
    for (const s of this.series.values()) {
      const inner = s.labels === '' ? '' : s.labels.slice(1, -1) + ',';
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.value.counts[i]!;
        out.push(`${this.name}_bucket{${inner}le="${formatValue(le)}"} ${cumulative}`);
      });
      out.push(`${this.name}_bucket{${inner}le="+Inf"} ${s.value.count}`);
      out.push(`${this.name}_sum${s.labels} ${formatValue(s.value.sum)}`);
      out.push(`${this.name}_count${s.labels} ${s.value.count}`);
    }
  }
}

/** `count` bounds starting at `start`, each `factor` times the previous (Prometheus ExponentialBuckets). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0, b = start; i < count; i++, b *= factor) out.push(b);
  return out;
}

/**
 * A set of metric families plus collectors that refresh gauges right before rendering. Family
 * names are unique; rendering order is registration order.
 */
export class MetricsRegistry {
  private readonly families = new Map<string, Family>();
  private readonly collectors: Array<() => void> = [];

  /** Adds a family; returns it for assignment. Throws on a duplicate name. */
  register<F extends Family>(family: F): F {
    if (this.families.has(family.name)) throw new Error(`metric ${family.name} registered twice`);
    this.families.set(family.name, family);
    return family;
  }

  /** Adds a function run at the start of every {@link render} (set gauges from live state). */
  collect(collector: () => void): void {
    this.collectors.push(collector);
  }

  /** Runs the collectors and renders every family that has at least one sample. */
  render(): string {
    for (const c of this.collectors) c();
    const out: string[] = [];
    for (const f of this.families.values()) {
      const lines: string[] = [];
      f.samples(lines);
      if (lines.length === 0) continue;
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`, ...lines);
    }
    return out.length === 0 ? '' : out.join('\n') + '\n';
  }
}

/** `{a="1",b="2"}` in the given key order, or '' without labels. */
function formatLabels(labels: Labels | undefined): string {
  if (labels === undefined) return '';
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return '{' + keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',') + '}';
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus writes it. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
