/** Bounded waiting: every poll loop in the test helpers has a deadline and an attempt count. */

/** Sleep for `ms` milliseconds (for bounded polling loops). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Poll `probe` every `intervalMs` until it returns a value other than `undefined`, or fail after
 * `timeoutMs` with `what` and the last error the probe threw. The loop is bounded by both the
 * deadline and an attempt count.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  const maxAttempts = Math.ceil(timeoutMs / intervalMs) + 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < maxAttempts && performance.now() < deadline; attempt++) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  const why = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`${what}: not ready within ${timeoutMs} ms${why}`);
}

/**
 * Poll the synchronous `cond` every `intervalMs` until it holds, or fail after `timeoutMs`
 * naming `what` (for state a test watches change: a counter, a queue length).
 */
export async function waitUntil(what: string, cond: () => boolean, timeoutMs = 5000, intervalMs = 5): Promise<void> {
  await pollUntil(what, async () => (cond() ? true : undefined), timeoutMs, intervalMs);
}
