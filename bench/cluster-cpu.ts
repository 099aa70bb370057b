/**
 * CPU time of a set of processes from Linux /proc, so a cluster row can say how much of the
 * 2 shared cores all three members used (the load generator's own CPU comes from runLoad).
 */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ; 100 on every mainstream build. */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of one process, or 0 if it is gone (a dead member uses no CPU). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the parenthesised command name; the name itself may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** A running total over fixed pids: call {@link CpuMeter.percentSince} after the interval. */
export class CpuMeter {
  private readonly startSeconds: number;
  private readonly startAt = performance.now();

  constructor(private readonly pids: readonly number[]) {
    this.startSeconds = this.total();
  }

  private total(): number {
    return this.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  }

  /** CPU used by all the pids since construction, as a percentage of one core. */
  percentSince(): number {
    const elapsedS = (performance.now() - this.startAt) / 1000;
    return elapsedS > 0 ? ((this.total() - this.startSeconds) / elapsedS) * 100 : 0;
  }
}
