/**
 * The one wording of a port that cannot be bound (taken, refused, no such address), for the
 * ZooKeeper ports, their HTTP sides and the etcd client port alike: what was to be served,
 * where, why, and the flag that moves it.
 */

/** The error for `what` failing to listen on `where` because of `cause`; `flag` sets the address. */
export function listenFailure(what: string, where: string, flag: string, cause: unknown): Error {
  return new Error(`cannot serve ${what} on ${where}: ${cause instanceof Error ? cause.message : String(cause)} (change --${flag})`);
}
