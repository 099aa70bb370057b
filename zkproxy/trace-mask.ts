/**
 * ZooKeeper's trace mask (ZooTrace): a 64-bit set of categories that picks which per-request
 * records are traced. Operators read it with `gtmk` / `get_trace_mask` and change it with `stmk`
 * / `set_trace_mask` at run time, on the client port or the AdminServer; both see one mask per
 * front end, as ZooKeeper's is one per JVM. In Coracle it gates the logging decorator's
 * per-request records (written at debug level): pings only under {@link TRACE_CLIENT_PING},
 * every other request under {@link TRACE_CLIENT_REQUEST}, so by default a debug log is not
 * drowned in pings, as ZooKeeper's default mask leaves them out too.
 */

/** Requests other than pings (ZooTrace.CLIENT_REQUEST_TRACE_MASK). */
export const TRACE_CLIENT_REQUEST = 1n << 1n;
/** Client pings (ZooTrace.CLIENT_PING_TRACE_MASK). */
export const TRACE_CLIENT_PING = 1n << 3n;

/** ZooKeeper's initial mask: client requests, server packets, sessions and warnings (306). */
export const DEFAULT_TRACE_MASK = TRACE_CLIENT_REQUEST | (1n << 4n) | (1n << 5n) | (1n << 8n);

/** The mutable mask of one front end. */
export class TraceMask {
  private mask: bigint;

  /** @param initial the starting mask (a Java long) */
  constructor(initial: bigint = DEFAULT_TRACE_MASK) {
    this.mask = BigInt.asIntN(64, initial);
  }

  /** The mask as ZooKeeper prints it: a signed 64-bit value. */
  get value(): bigint {
    return this.mask;
  }

  /** Replaces the mask; any 64-bit value is accepted, as ZooTrace.setTextTraceLevel does. */
  set(mask: bigint): void {
    this.mask = BigInt.asIntN(64, mask);
  }

  /** Whether every bit of `category` is set. */
  has(category: bigint): boolean {
    return (this.mask & category) === category;
  }
}
