/**
 * The one error type the etcd protobuf codecs throw for bad input bytes.
 *
 * Bytes come from clients and peers, so malformed input is a protocol error at the edge (gRPC
 * InvalidArgument/Internal, a rejected raft entry), never an assertion: callers catch this type
 * and answer the client; nothing else escapes a decode.
 */

/** Thrown by every `decode` for malformed, truncated or over-deep protobuf input. */
export class ProtoDecodeError extends Error {
  /** Byte offset into the top-level input where the problem was found (-1 if unknown). */
  readonly offset: number;
  /** Fully qualified type being decoded at top level, e.g. `etcdserverpb.PutRequest`. */
  typeName: string;

  constructor(message: string, offset = -1, typeName = '') {
    super(message);
    this.name = 'ProtoDecodeError';
    this.offset = offset;
    this.typeName = typeName;
  }
}

/** True if `err` is a {@link ProtoDecodeError}. */
export function isProtoDecodeError(err: unknown): err is ProtoDecodeError {
  return err instanceof ProtoDecodeError;
}
