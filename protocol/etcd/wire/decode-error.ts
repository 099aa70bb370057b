/**
 * The one error type the etcd protobuf codecs throw for bad input bytes.
 *
 * Bytes come from clients and peers, so malformed input is a protocol error at the edge (gRPC
 * InvalidArgument/Internal, a rejected raft entry), never an assertion: callers catch this type
 * and answer the client; nothing else escapes a decode.
 */

/** Why a decode failed. */
export type ProtoDecodeReason =
  /** The input ended inside a field. */
  | 'truncated'
  /** A length prefix points past the end of the enclosing message. */
  | 'length-overrun'
  /** A varint longer than 10 bytes. */
  | 'varint-too-long'
  /** Field number 0, an unknown wire type, or an unmatched end-group. */
  | 'bad-tag'
  /** Messages (or groups) nested deeper than MAX_DECODE_DEPTH. */
  | 'too-deep'
  /** The input is not a Uint8Array. */
  | 'not-bytes';

/** Thrown by every `decode` for malformed, truncated or over-deep protobuf input. */
export class ProtoDecodeError extends Error {
  /** Fully qualified type being decoded at top level, e.g. `etcdserverpb.PutRequest`. */
  typeName = '';

  /**
   * @param reason the kind of failure
   * @param detail a human-readable detail (never the raw bytes)
   * @param offset byte offset into the top-level input where the problem was found
   */
  constructor(
    readonly reason: ProtoDecodeReason,
    detail: string,
    readonly offset: number,
  ) {
    super(`${detail} at offset ${offset}`);
    this.name = 'ProtoDecodeError';
  }
}

/** True if `err` is a {@link ProtoDecodeError}. */
export function isProtoDecodeError(err: unknown): err is ProtoDecodeError {
  return err instanceof ProtoDecodeError;
}
