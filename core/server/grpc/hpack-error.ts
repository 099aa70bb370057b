/**
 * The error every HPACK decoding step throws on input that RFC 7541 calls a decoding error (a
 * COMPRESSION_ERROR for the HTTP/2 connection, RFC 9113 §4.3), or that exceeds one of our bounds.
 */

/** A header block that cannot be decoded, or would cost more than our bounds allow. */
export class HpackError extends Error {
  constructor(message: string) {
    super(`hpack: ${message}`);
    this.name = 'HpackError';
  }
}
