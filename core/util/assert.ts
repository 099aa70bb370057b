/**
 * Assertions for broken invariants (programmer errors).
 *
 * An assertion failure means the process holds state it cannot trust, so it throws an
 * {@link AssertionError} that nothing in the project catches: the process crashes and restarts
 * from durable state. Never use these for bad client input; that is a protocol error at the edge.
 */

/** Thrown when an invariant is broken. Never caught by project code. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = 'AssertionError';
  }
}

/**
 * Crashes with `message`: for hot paths, written `if (!cond) assertFailed(\`…\`)` so that the
 * message is built only on failure (an eager template literal costs ≈ 20 ns per call).
 */
export function assertFailed(message: string): never {
  throw new AssertionError(message);
}

/** Crashes (throws {@link AssertionError}) unless `condition` holds. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Marks a branch that the type system says is unreachable; crashes if reached. */
export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
