/**
 * What ZooKeeper's Prometheus metrics provider (3.6+, `metricsProvider.className=
 * ...PrometheusMetricsProvider`) serves at `/metrics`, so that the dashboards and alert rules
 * written for it (ZooKeeper's own examples: `znode_count`, `num_alive_connections`,
 * `approximate_data_size`, `watch_count`, `open_file_descriptor_count`, `avg_latency`,
 * `jvm_memory_bytes_used`) work against Coracle unchanged. The format is that of the Prometheus
 * Java client ZooKeeper 3.8 ships (simpleclient 0.9): metric names without the `zk_` prefix
 * mntr adds, HELP equal to the name, label lists ending in a comma, values printed as Java
 * doubles (`5.0`, `1.0E7`, `NaN`).
 *
 * The series: every gauge and counter mntr reports (the same figures, read the same way), the
 * request-latency summaries `readlatency` and `updatelatency`, the process figures every
 * Prometheus client exports (`process_*`), and the heap as the JVM figures (`jvm_memory_bytes_*`,
 * area heap: V8's heap here). ZooKeeper's internal counters that have no meaning here
 * (election, learner, sync-processor and snapshot timings) are left out, not faked.
 */
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { FourLetterSource, monitorRows } from './four-letter-words';
import { javaDouble } from './java-double';
import { fileDescriptors } from './process-fds';
import { LatencySummary } from './latency-summary';

/** One sample line: its name, labels and value. */
type Sample = { name: string; labels?: [string, string][]; value: number };
/** One metric family: what `# TYPE` says, and its samples. */
type Family = { name: string; type: 'gauge' | 'counter' | 'summary'; samples: Sample[] };

/** The mntr rows ZooKeeper registers as counters; its other numbers are gauges. */
const COUNTER_ROWS: ReadonlySet<string> = new Set(['connection_rejected', 'bytes_received_count', 'coracle_write_conflicts']);

/** The quantiles of ZooKeeper's "advanced" summaries (readlatency, updatelatency). */
const ADVANCED_QUANTILES = [0.5, 0.9, 0.99];

/** The text format 0.0.4 content type the Java client's servlet sends. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The `/metrics` text of `src`. With `names` (the servlet's `name[]` query parameters), only
 * the families that have a sample of one of those names.
 */
export function zkPrometheusText(src: FourLetterSource, names?: ReadonlySet<string>): string {
  const families = [...serverFamilies(src), ...processFamilies()];
  const wanted = names && names.size > 0 ? families.filter((f) => f.samples.some((s) => names.has(s.name))) : families;
  return wanted.map(familyText).join('');
}

/** mntr's gauges and counters, and the two latency summaries. */
function serverFamilies(src: FourLetterSource): Family[] {
  const rows: Family[] = monitorRows(src)
    .filter((r): r is [string, number] => typeof r[1] === 'number')
    .map(([name, value]) => ({ name, type: COUNTER_ROWS.has(name) ? 'counter' : 'gauge', samples: [{ name, value }] }));
  const latency = src.stats.latencySummaries();
  rows.push(summary('readlatency', latency.read), summary('updatelatency', latency.update));
  return rows;
}

function gauge(name: string, value: number, labels?: [string, string][]): Family {
  return { name, type: 'gauge', samples: [{ name, labels, value }] };
}

function summary(name: string, s: LatencySummary): Family {
  const quantiles = ADVANCED_QUANTILES.map((q): Sample => ({ name, labels: [['quantile', String(q)]], value: s.quantile(q) }));
  return { name, type: 'summary', samples: [...quantiles, { name: `${name}_count`, value: s.count }, { name: `${name}_sum`, value: s.sum }] };
}

/** The process figures of the Java client's standard exports, and the heap as its JVM ones. */
function processFamilies(): Family[] {
  const cpu = process.cpuUsage();
  const out: Family[] = [
    { name: 'process_cpu_seconds_total', type: 'counter', samples: [{ name: 'process_cpu_seconds_total', value: (cpu.user + cpu.system) / 1e6 }] },
    gauge('process_start_time_seconds', Math.round(Date.now() - process.uptime() * 1000) / 1000),
  ];
  const fds = fileDescriptors();
  if (fds) out.push(gauge('process_open_fds', fds.open), gauge('process_max_fds', fds.max));
  const mem = memoryFromProc();
  if (mem.virtual !== undefined) out.push(gauge('process_virtual_memory_bytes', mem.virtual));
  out.push(gauge('process_resident_memory_bytes', mem.resident));
  const heap = getHeapStatistics();
  const area: [string, string][] = [['area', 'heap']];
  out.push(
    gauge('jvm_memory_bytes_used', heap.used_heap_size, area),
    gauge('jvm_memory_bytes_committed', heap.total_heap_size, area),
    gauge('jvm_memory_bytes_max', heap.heap_size_limit, area),
  );
  return out;
}

/** VmSize and VmRSS from /proc (as the Java client reads them); the RSS from Node elsewhere. */
function memoryFromProc(): { virtual?: number; resident: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (field: string): number | undefined => {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : undefined;
    };
    return { virtual: kb('VmSize'), resident: kb('VmRSS') ?? process.memoryUsage.rss() };
  } catch {
    return { resident: process.memoryUsage.rss() };
  }
}

function familyText(f: Family): string {
  const lines = [`# HELP ${f.name} ${f.name}`, `# TYPE ${f.name} ${f.type}`];
  for (const s of f.samples) {
    const labels = s.labels ? `{${s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}",`).join('')}}` : '';
    lines.push(`${s.name}${labels} ${sampleValue(s.value)}`);
  }
  return lines.join('\n') + '\n';
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** A sample value as the Java client writes it: Go's names for the infinities, else a Java double. */
function sampleValue(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return javaDouble(n);
}
