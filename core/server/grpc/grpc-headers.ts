/**
 * The HTTP/2 header side of gRPC (PROTOCOL-HTTP2.md): which requests are gRPC, the response
 * header and trailer blocks, and the `grpc-timeout` format.
 *
 * The constant header objects are shared by every call: node:http2 copies a header object
 * before sending it (`processHeaders`), so reusing one is safe and saves an allocation per call.
 */

import type { OutgoingHttpHeaders } from 'node:http2';
import { encodeGrpcMessage, GrpcStatus } from './grpc-status';

/** The content type of gRPC requests and responses (protobuf is implied). */
export const GRPC_CONTENT_TYPE = 'application/grpc';

/**
 * True for `application/grpc`, `application/grpc+<subtype>` and `application/grpc;<params>`,
 * the forms the spec allows. `application/grpc-web*` is a different protocol and is not gRPC here.
 */
export function isGrpcContentType(contentType: string | string[] | undefined): boolean {
  if (typeof contentType !== 'string' || !contentType.startsWith(GRPC_CONTENT_TYPE)) return false;
  if (contentType.length === GRPC_CONTENT_TYPE.length) return true;
  const next = contentType.charCodeAt(GRPC_CONTENT_TYPE.length);
  return next === 0x2b /* + */ || next === 0x3b /* ; */;
}

/** Response headers for a call that will send messages: 200 + content type. Shared, never mutate. */
export const RESPONSE_HEADERS: Readonly<OutgoingHttpHeaders> = Object.freeze({
  ':status': 200,
  'content-type': GRPC_CONTENT_TYPE,
});

/** Trailers of a successful call. Shared, never mutate. */
export const OK_TRAILERS: Readonly<OutgoingHttpHeaders> = Object.freeze({ 'grpc-status': '0' });

/** Options for `respond` on the hot path: trailers follow, and no `date` header (gRPC ignores it). */
export const RESPOND_WITH_TRAILERS = Object.freeze({ waitForTrailers: true, sendDate: false });

/** Options for a Trailers-Only response: the one header block ends the stream. */
export const RESPOND_TRAILERS_ONLY = Object.freeze({ endStream: true, sendDate: false });

/** The trailer block carrying a status; `grpc-message` is left out when empty, as grpc-go does. */
export function statusTrailers(code: GrpcStatus, message: string): OutgoingHttpHeaders {
  if (code === GrpcStatus.OK && message === '') return OK_TRAILERS;
  const trailers: OutgoingHttpHeaders = { 'grpc-status': String(code) };
  if (message !== '') trailers['grpc-message'] = encodeGrpcMessage(message);
  return trailers;
}

/**
 * A Trailers-Only response (status before any message): one HEADERS frame with `:status`,
 * content type and the status, ending the stream.
 */
export function trailersOnlyHeaders(code: GrpcStatus, message: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    ':status': 200,
    'content-type': GRPC_CONTENT_TYPE,
    'grpc-status': String(code),
  };
  if (message !== '') headers['grpc-message'] = encodeGrpcMessage(message);
  return headers;
}

/** Milliseconds per `grpc-timeout` unit letter. */
const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/**
 * Parses `grpc-timeout` (`TimeoutValue TimeoutUnit`: 1–8 ASCII digits then one of H M S m u n)
 * into milliseconds. Returns undefined when the header is absent and NaN when it is malformed.
 */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length < 2 || value.length > 9) return NaN;
  const unit = TIMEOUT_UNIT_MS[value[value.length - 1]];
  if (unit === undefined) return NaN;
  let amount = 0;
  for (let i = 0; i < value.length - 1; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return NaN;
    amount = amount * 10 + digit;
  }
  return amount * unit;
}

/** The first value of a request header, or undefined (node gives repeated headers as arrays). */
export function firstHeader(value: string | string[] | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value[0];
}
