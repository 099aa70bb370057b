/**
 * gRPC status codes, the error a handler throws to end a call with one, and the wire encoding
 * of a status message (PROTOCOL-HTTP2.md in grpc/grpc: `grpc-message` is percent-encoded UTF-8).
 *
 * Clients match on code *and* message text (etcd's rpctypes maps the text back to typed errors,
 * reference/etcd.md §2.10), so the message given here reaches the client byte for byte.
 */

/** The canonical gRPC status codes (grpc/grpc doc/statuscodes.md); numbers are wire values. */
export enum GrpcStatus {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/**
 * An error that ends a call with a given status. Thrown (or rejected) by a handler, or passed to
 * `end()` of a stream writer; the transport sends `grpc-status: code` and `grpc-message: message`.
 * Any other error thrown by a handler becomes {@link GrpcStatus.UNKNOWN} with its message.
 * `code` must not be OK: an OK status is not an error.
 */
export class GrpcStatusError extends Error {
  /** The gRPC status code sent to the client. */
  readonly code: GrpcStatus;

  constructor(code: GrpcStatus, message: string) {
    super(message);
    this.name = 'GrpcStatusError';
    this.code = code;
  }

  /**
   * The status a thrown value maps to: itself if it is a {@link GrpcStatusError}, otherwise
   * UNKNOWN with the value's message (what grpc-go does with a plain `error`).
   */
  static from(err: unknown): GrpcStatusError {
    if (err instanceof GrpcStatusError) return err;
    if (err instanceof Error) return new GrpcStatusError(GrpcStatus.UNKNOWN, err.message);
    return new GrpcStatusError(GrpcStatus.UNKNOWN, String(err));
  }
}

/** Bytes that may appear unescaped in `grpc-message`: printable ASCII except '%'. */
function isUnreserved(byte: number): boolean {
  return byte >= 0x20 && byte <= 0x7e && byte !== 0x25;
}

/**
 * Percent-encodes a status message for the `grpc-message` trailer: the UTF-8 bytes outside
 * 0x20–0x7E, and '%' itself, become `%XX` (upper-case hex), as PROTOCOL-HTTP2.md requires.
 * The common case (plain ASCII, e.g. every etcd error text) returns the input unchanged.
 */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    if (!isUnreserved(message.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  const bytes = Buffer.from(message, 'utf8');
  let out = '';
  for (const byte of bytes) {
    if (isUnreserved(byte)) out += String.fromCharCode(byte);
    else out += '%' + (byte < 16 ? '0' : '') + byte.toString(16).toUpperCase();
  }
  return out;
}

/**
 * Decodes a percent-encoded `grpc-message` (the inverse of {@link encodeGrpcMessage}). Per the
 * spec a malformed escape is kept literally rather than failing, so any input decodes.
 */
export function decodeGrpcMessage(encoded: string): string {
  if (!encoded.includes('%')) return encoded;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const c = encoded.charCodeAt(i);
    if (c === 0x25 && i + 2 < encoded.length && /^[0-9a-fA-F]{2}$/.test(encoded.slice(i + 1, i + 3))) {
      bytes.push(parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      // Keep non-escape characters as their UTF-8 bytes.
      for (const b of Buffer.from(encoded[i], 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The canonical upper-snake name of a code (`UNAVAILABLE`), or `CODE(n)` for an unknown one. */
export function grpcStatusName(code: number): string {
  const name = (GrpcStatus as unknown as Record<number, string | undefined>)[code];
  return name ?? `CODE(${code})`;
}
