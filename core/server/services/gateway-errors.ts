/**
 * How etcd's JSON gateway (grpc-gateway v1) reports a gRPC status over HTTP (etcd.md §4.5,
 * checked against etcd 3.4.23): a unary error is `{"error":m,"message":m,"code":n}` with an HTTP
 * status derived from the code; a streaming error is one `{"error":{…}}` line.
 */
import { GrpcStatus, GrpcStatusError } from '../grpc/grpc-status';

/** grpc-gateway v1's `HTTPStatusFromCode`. */
export function httpStatusOf(code: number): number {
  switch (code) {
    case GrpcStatus.OK:
      return 200;
    case GrpcStatus.CANCELLED:
      return 408;
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return 400;
    // 412, not the 400 that etcd.md §4.5 lists: etcd 3.4.23's gateway answers a LeaseGrant of an
    // existing id with 412 (test/interop/etcd-random-diff.test.ts found it).
    case GrpcStatus.FAILED_PRECONDITION:
      return 412;
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 504;
    case GrpcStatus.NOT_FOUND:
      return 404;
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.ABORTED:
      return 409;
    case GrpcStatus.PERMISSION_DENIED:
      return 403;
    case GrpcStatus.UNAUTHENTICATED:
      return 401;
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return 429;
    case GrpcStatus.UNIMPLEMENTED:
      return 501;
    case GrpcStatus.UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

/** The body of a unary error, keys in etcd 3.4's order. */
export function unaryErrorBody(status: GrpcStatusError): { error: string; message: string; code: number } {
  return { error: status.message, message: status.message, code: status.code };
}

/** The line of a streaming error (grpc-gateway v1's stream error object). */
export function streamErrorBody(status: GrpcStatusError): { error: { grpc_code: number; http_code: number; message: string; http_status: string } } {
  const http = httpStatusOf(status.code);
  return { error: { grpc_code: status.code, http_code: http, message: status.message, http_status: HTTP_STATUS_TEXT[http] ?? '' } };
}

const HTTP_STATUS_TEXT: Record<number, string> = {
  200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout',
  409: 'Conflict', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};
