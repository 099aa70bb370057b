/**
 * Expected failures inside the core, each with a stable code. The one table in
 * `core/errors/grpc-error-table.ts` turns a code into a gRPC status and etcd's exact message;
 * packages below the server (mvcc, lease, auth, apply) only throw these, never gRPC errors.
 */

/** Every expected failure the core can report. */
export type CoreErrorCode =
  | 'key-not-provided'
  | 'key-not-found'
  | 'value-provided'
  | 'lease-provided'
  | 'too-many-ops'
  | 'duplicate-key'
  | 'invalid-sort-option'
  | 'request-too-large'
  | 'compacted'
  | 'future-revision'
  | 'lease-ttl-too-large'
  | 'lease-not-found'
  | 'lease-exists'
  | 'no-space'
  | 'too-many-requests'
  | 'no-leader'
  | 'not-leader'
  | 'leader-changed'
  | 'stopped'
  | 'timeout'
  | 'member-not-found'
  | 'member-exists'
  | 'peer-url-exists'
  | 'not-enough-started-members'
  | 'learner-not-ready'
  | 'member-not-learner'
  | 'too-many-learners'
  | 'bad-leader-transferee'
  | 'unhealthy-cluster'
  | 'learner-rpc'
  | 'invalid-member-urls'
  | 'permission-denied'
  | 'auth-not-enabled'
  | 'auth-failed'
  | 'invalid-auth-token'
  | 'auth-old-revision'
  | 'user-empty'
  | 'user-exists'
  | 'user-not-found'
  | 'role-empty'
  | 'role-exists'
  | 'role-not-found'
  | 'role-not-granted'
  | 'permission-not-granted'
  | 'permission-not-given'
  | 'root-user-not-exist'
  | 'root-role-not-exist'
  | 'invalid-auth-mgmt'
  | 'watch-canceled'
  | 'request-canceled'
  | 'corrupt'
  | 'not-capable';

/** An expected failure with a stable {@link CoreErrorCode}. */
export class CoreError extends Error {
  constructor(
    readonly code: CoreErrorCode,
    detail?: string,
  ) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'CoreError';
  }
}

/** True when `err` is a {@link CoreError} (optionally with the given code). */
export function isCoreError(err: unknown, code?: CoreErrorCode): err is CoreError {
  return err instanceof CoreError && (code === undefined || err.code === code);
}
