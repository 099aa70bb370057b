/**
 * Binary search over sorted strings, compared with JavaScript's `<` (code-unit order; on the
 * store's latin1 key strings, bytewise key order).
 */

/** Index of the first element of `keys` (sorted ascending) that is ≥ `key`; `keys.length` if none. */
export function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
