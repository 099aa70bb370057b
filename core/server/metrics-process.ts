/**
 * The standard process metrics every Prometheus client exports (names from the Prometheus
 * client conventions, as etcd's Go process collector serves them), plus a few Node.js heap
 * gauges. `process_resident_memory_bytes` is read by `etcdctl check datascale` (etcd.md §1.4).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Counter, Gauge, MetricsRegistry } from './metrics-registry';

/** Registers the process and Node.js families on `registry`, refreshed at every scrape. */
export function registerProcessMetrics(registry: MetricsRegistry): void {
  const cpu = registry.register(new Counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.'));
  const rss = registry.register(new Gauge('process_resident_memory_bytes', 'Resident memory size in bytes.'));
  const vsize = registry.register(new Gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.'));
  const start = registry.register(new Gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.'));
  const openFds = registry.register(new Gauge('process_open_fds', 'Number of open file descriptors.'));
  const maxFds = registry.register(new Gauge('process_max_fds', 'Maximum number of open file descriptors.'));
  const heapUsed = registry.register(new Gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.'));
  const heapTotal = registry.register(new Gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.'));
  const external = registry.register(new Gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.'));

  const startSeconds = Math.round((Date.now() - process.uptime() * 1000) / 10) / 100;
  let reportedCpu = 0;
  registry.collect(() => {
    const u = process.cpuUsage();
    const cpuSeconds = (u.user + u.system) / 1e6;
    // A counter only moves forward: add what was used since the last scrape.
    if (cpuSeconds > reportedCpu) cpu.inc(undefined, cpuSeconds - reportedCpu);
    reportedCpu = Math.max(reportedCpu, cpuSeconds);
    const mem = process.memoryUsage();
    rss.set(mem.rss);
    heapUsed.set(mem.heapUsed);
    heapTotal.set(mem.heapTotal);
    external.set(mem.external);
    start.set(startSeconds);
    const linux = linuxFacts();
    if (linux.vsize !== undefined) vsize.set(linux.vsize);
    if (linux.openFds !== undefined) openFds.set(linux.openFds);
    if (linux.maxFds !== undefined) maxFds.set(linux.maxFds);
  });
}

/** What /proc tells about this process; fields stay undefined where /proc is unavailable. */
function linuxFacts(): { vsize?: number; openFds?: number; maxFds?: number } {
  const out: { vsize?: number; openFds?: number; maxFds?: number } = {};
  try {
    // Field 23 of /proc/self/stat; the command name (field 2) may hold spaces, so split after ')'.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(rest[20]);
    if (Number.isFinite(v)) out.vsize = v;
  } catch {
    // not Linux
  }
  try {
    out.openFds = readdirSync('/proc/self/fd').length;
  } catch {
    // not Linux
  }
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) out.maxFds = Number(m[1]);
  } catch {
    // not Linux
  }
  return out;
}
