/**
 * CPU time of processes and threads from Linux /proc (utime + stime of their `stat` files), for
 * benchmarks that report a server's CPU next to its throughput.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Linux's USER_HZ; 100 on every mainstream build. */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds from a `/proc/.../stat` file; undefined if it is gone. */
function statCpuSeconds(statPath: string): number | undefined {
  try {
    const stat = readFileSync(statPath, 'latin1');
    // Fields after the parenthesised command name; the name itself may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime (fields 14, 15)
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of process `pid` (all its threads); undefined if it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** User + system CPU seconds of every live thread of process `pid`, by thread id. */
export function threadCpuSeconds(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const s = statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
    if (s !== undefined) out.set(Number(tid), s);
  }
  return out;
}

/** Busy and total CPU seconds of the whole machine, summed over every core (the `cpu` line of /proc/stat). */
export interface HostCpu {
  busy: number;
  total: number;
}

/** The machine's CPU counters now; take two and pass them to {@link hostBusyShare}. */
export function hostCpu(): HostCpu {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
  // user nice system idle iowait irq softirq steal ...: idle and iowait are the not-busy ones.
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}

/** Share (0..1) of all the machine's cores that was busy between two readings. */
export function hostBusyShare(before: HostCpu, after: HostCpu): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}
