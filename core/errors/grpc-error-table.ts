/**
 * THE table from core errors to gRPC status code + etcd's exact message text
 * (etcd.md §2.10; `api/v3rpc/rpctypes/error.go`). Clients match on the text (the Go client maps
 * messages back to typed errors, etcd3 matches substrings), so every message is byte-for-byte
 * etcd's. Anything not in the table goes out as Unknown with its own text, as etcd does.
 */
import { CoreError, CoreErrorCode } from '../util/core-error';

/** gRPC status codes used here. */
export const enum GrpcCode {
  OK = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}

/** A gRPC status. */
export interface GrpcErrorStatus {
  code: GrpcCode;
  message: string;
}

const TABLE: Record<CoreErrorCode, GrpcErrorStatus> = {
  'key-not-provided': { code: GrpcCode.InvalidArgument, message: 'etcdserver: key is not provided' },
  'key-not-found': { code: GrpcCode.InvalidArgument, message: 'etcdserver: key not found' },
  'value-provided': { code: GrpcCode.InvalidArgument, message: 'etcdserver: value is provided' },
  'lease-provided': { code: GrpcCode.InvalidArgument, message: 'etcdserver: lease is provided' },
  'too-many-ops': { code: GrpcCode.InvalidArgument, message: 'etcdserver: too many operations in txn request' },
  'duplicate-key': { code: GrpcCode.InvalidArgument, message: 'etcdserver: duplicate key given in txn request' },
  'invalid-sort-option': { code: GrpcCode.InvalidArgument, message: 'etcdserver: invalid sort option' },
  'request-too-large': { code: GrpcCode.InvalidArgument, message: 'etcdserver: request is too large' },
  'invalid-member-urls': { code: GrpcCode.InvalidArgument, message: 'etcdserver: given member URLs are invalid' },
  'user-empty': { code: GrpcCode.InvalidArgument, message: 'etcdserver: user name is empty' },
  'role-empty': { code: GrpcCode.InvalidArgument, message: 'etcdserver: role name is empty' },
  'auth-failed': { code: GrpcCode.InvalidArgument, message: 'etcdserver: authentication failed, invalid user ID or password' },
  'permission-not-given': { code: GrpcCode.InvalidArgument, message: 'etcdserver: permission not given' },
  'invalid-auth-mgmt': { code: GrpcCode.InvalidArgument, message: 'etcdserver: invalid auth management' },
  'auth-old-revision': { code: GrpcCode.InvalidArgument, message: 'etcdserver: revision of auth store is old' },
  compacted: { code: GrpcCode.OutOfRange, message: 'etcdserver: mvcc: required revision has been compacted' },
  'future-revision': { code: GrpcCode.OutOfRange, message: 'etcdserver: mvcc: required revision is a future revision' },
  'lease-ttl-too-large': { code: GrpcCode.OutOfRange, message: 'etcdserver: too large lease TTL' },
  'no-space': { code: GrpcCode.ResourceExhausted, message: 'etcdserver: mvcc: database space exceeded' },
  'too-many-requests': { code: GrpcCode.ResourceExhausted, message: 'etcdserver: too many requests' },
  'lease-not-found': { code: GrpcCode.NotFound, message: 'etcdserver: requested lease not found' },
  'member-not-found': { code: GrpcCode.NotFound, message: 'etcdserver: member not found' },
  'lease-exists': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: lease already exists' },
  'member-exists': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: member ID already exist' },
  'peer-url-exists': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: Peer URLs already exists' },
  'not-enough-started-members': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: re-configuration failed due to not enough started members' },
  'member-not-learner': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: can only promote a learner member' },
  'learner-not-ready': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: can only promote a learner member which is in sync with leader' },
  'too-many-learners': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: too many learner members in cluster' },
  'root-user-not-exist': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: root user does not exist' },
  'root-role-not-exist': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: root user does not have root role' },
  'user-exists': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: user name already exists' },
  'user-not-found': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: user name not found' },
  'role-exists': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: role name already exists' },
  'role-not-found': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: role name not found' },
  'role-not-granted': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: role is not granted to the user' },
  'permission-not-granted': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: permission is not granted to the role' },
  'auth-not-enabled': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: authentication is not enabled' },
  'not-leader': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: not leader' },
  'not-capable': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: not capable' },
  'learner-rpc': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: rpc not supported for learner' },
  'bad-leader-transferee': { code: GrpcCode.FailedPrecondition, message: 'etcdserver: bad leader transferee' },
  'permission-denied': { code: GrpcCode.PermissionDenied, message: 'etcdserver: permission denied' },
  'invalid-auth-token': { code: GrpcCode.Unauthenticated, message: 'etcdserver: invalid auth token' },
  'no-leader': { code: GrpcCode.Unavailable, message: 'etcdserver: no leader' },
  'leader-changed': { code: GrpcCode.Unavailable, message: 'etcdserver: leader changed' },
  stopped: { code: GrpcCode.Unavailable, message: 'etcdserver: server stopped' },
  timeout: { code: GrpcCode.Unavailable, message: 'etcdserver: request timed out' },
  'unhealthy-cluster': { code: GrpcCode.Unavailable, message: 'etcdserver: unhealthy cluster' },
  corrupt: { code: GrpcCode.DataLoss, message: 'etcdserver: corrupt cluster' },
  'watch-canceled': { code: GrpcCode.Canceled, message: 'etcdserver: watch canceled' },
  'request-canceled': { code: GrpcCode.Canceled, message: 'etcdserver: request canceled' },
};

/** The gRPC status for any error: the table for core errors, Unknown with the text otherwise. */
export function toGrpcStatus(err: unknown): GrpcErrorStatus {
  if (err instanceof CoreError) return TABLE[err.code];
  return { code: GrpcCode.Unknown, message: err instanceof Error ? err.message : String(err) };
}

/** etcd's message text for a core error code (e.g. for a watch's cancel_reason). */
export function etcdMessage(code: CoreErrorCode): string {
  return TABLE[code].message;
}
