/**
 * CPU time of a set of processes from Linux /proc, so a cluster row can say how much of the
 * 2 shared cores all three members used (the load generator's own CPU comes from runLoad).
 */
import { processCpuSeconds } from './lib/proc-cpu';

/** A running total over fixed pids: call {@link CpuMeter.percentSince} after the interval. */
export class CpuMeter {
  private readonly startSeconds: number;
  private readonly startAt = performance.now();

  constructor(private readonly pids: readonly number[]) {
    this.startSeconds = this.total();
  }

  private total(): number {
    // A dead member uses no CPU.
    return this.pids.reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0);
  }

  /** CPU used by all the pids since construction, as a percentage of one core. */
  percentSince(): number {
    const elapsedS = (performance.now() - this.startAt) / 1000;
    return elapsedS > 0 ? ((this.total() - this.startSeconds) / elapsedS) * 100 : 0;
  }
}
