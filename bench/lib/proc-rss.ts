/** Resident memory of a process from Linux /proc, for benchmarks that compare servers' memory. */
import { readFileSync } from 'node:fs';

/** Resident set size of process `pid` in bytes (VmRSS of /proc/PID/status); throws if it is gone. */
export function residentBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}
