/**
 * Repeated side-by-side measurements on a noisy machine. A single pass that always measures the
 * reference server first is biased: what one run leaves behind (a JVM's snapshot thread, a
 * store's background flush, the page cache) lands on the run after it. Rounds alternate the
 * order and the benchmarks report medians.
 */

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The order to measure `items` in round `round` (0-based): as given in even rounds, reversed in odd ones. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  return round % 2 === 0 ? [...items] : [...items].reverse();
}
