/**
 * ZooKeeper's elapsed time: `Time.currentElapsedTime()` is `System.nanoTime() / 1e6`, which on
 * Linux reads CLOCK_MONOTONIC, the clock libuv's hrtime reads too. `cons` prints connections'
 * last response in it and ExpiryQueue keeps deadlines in it, so ours are in the same clock and
 * a monitoring tool comparing the two servers' figures sees the same scale.
 */
import { performance } from 'node:perf_hooks';

/** CLOCK_MONOTONIC in ms at performance.now()'s zero (read once: performance.now() is cheaper). */
const ORIGIN_MS = Number(process.hrtime.bigint() / 1_000_000n) - performance.now();

/** Milliseconds of CLOCK_MONOTONIC, whole, as Java's `Time.currentElapsedTime()` returns them. */
export function elapsedMs(): number {
  return Math.floor(ORIGIN_MS + performance.now());
}

/** The wall-clock epoch ms of elapsed time `t`, as ZooKeeper's `Time.elapsedTimeToDate` maps it. */
export function elapsedToEpochMs(t: number): number {
  return Date.now() + t - elapsedMs();
}
