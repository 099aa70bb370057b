/**
 * Bounded fan-out for the benchmarks: `count` tasks over a fixed number of lanes, each lane
 * awaiting its task before it takes the next, the whole run under one time limit. The load
 * pattern of "N clients × D requests in flight" (zk-fill, zk-watch).
 */
import { within } from '../../test/support/zk-reply-diff';

/**
 * Runs `task(i, lane)` for every i in [0, count) on `lanes` lanes; rejects on the first failure
 * or after `limitMs` (the lanes then stop taking work), naming `label` and how many had started.
 * Resolves with the elapsed ms.
 */
export async function inLanes(label: string, count: number, lanes: number, limitMs: number, task: (i: number, lane: number) => Promise<void>): Promise<number> {
  let next = 0;
  let stopped = false;
  const run = async (lane: number): Promise<void> => {
    while (!stopped && next < count) await task(next++, lane);
  };
  const t0 = performance.now();
  try {
    await within(Promise.all(Array.from({ length: Math.min(lanes, count) }, (_, l) => run(l))), limitMs, label);
  } catch (e) {
    throw new Error(`${(e as Error).message} (${next} of ${count} started)`);
  } finally {
    stopped = true;
  }
  return performance.now() - t0;
}
