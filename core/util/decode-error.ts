/**
 * Malformed or truncated bytes from an untrusted source (a peer, a disk, a client). Decoders
 * throw this and nothing else for bad input; the caller turns it into a protocol error or a
 * dropped message, never a crash.
 */
export class DecodeError extends Error {
  constructor(
    message: string,
    /** Byte offset where decoding failed. */
    readonly offset: number,
  ) {
    super(`decode: ${message} at byte ${offset}`);
    this.name = 'DecodeError';
  }
}
