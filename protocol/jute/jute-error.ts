/**
 * The one error type of the jute codec. Every malformed input — a truncated record, a negative
 * or oversize length, an unknown op code where one must be known — becomes a `JuteDecodeError`
 * with a stable `reason`, never a RangeError from Buffer or an unchecked exception. The listener
 * turns it into a protocol error for that connection only (zk-protocol.md §1.1, §6.12).
 */

/** Why decoding failed; stable strings that tests and logs match on. */
export type JuteDecodeReason =
  | 'truncated'
  | 'negative-length'
  | 'too-long'
  | 'trailing-bytes'
  | 'unknown-op'
  | 'bad-multi'
  | 'bad-value';

/** A decode failure of untrusted bytes. */
export class JuteDecodeError extends Error {
  /**
   * @param reason the kind of failure
   * @param message a human-readable detail (offsets and sizes, never the raw bytes)
   */
  constructor(
    readonly reason: JuteDecodeReason,
    message: string,
  ) {
    super(message);
    this.name = 'JuteDecodeError';
  }
}

/** True when `e` is a {@link JuteDecodeError}. */
export function isJuteDecodeError(e: unknown): e is JuteDecodeError {
  return e instanceof JuteDecodeError;
}
