/**
 * Every bound of the ZooKeeper front end, with its reason (DESIGN §7). Values operators can
 * change have a flag in `cli.ts`; the constants here are the defaults.
 */

/** Largest frame payload accepted or sent: ZooKeeper's `jute.maxbuffer` default (zk-protocol.md §1.1). */
export const ZK_MAX_FRAME_DEFAULT = 0xfffff;

/** ZooKeeper's tickTime default in ms; session timeouts are clamped to [2, 20] ticks (§2.1). */
export const ZK_TICK_TIME_DEFAULT_MS = 2000;

/**
 * Bytes queued for one connection's socket (replies and notifications) before the connection
 * is closed as too slow a reader — a stuck client must not grow our memory without bound.
 */
export const ZK_MAX_QUEUED_BYTES = 64 * 1024 * 1024;

/** Optimistic-commit attempts for one write before it fails with SYSTEMERROR (contention bound). */
export const ZK_MAX_COMMIT_ATTEMPTS = 64;

/** How long a reply may wait for the change feed to reach its revision before we give up waiting. */
export const ZK_FEED_WAIT_MS = 10_000;

/** Extra seconds a session's lease outlives its ZooKeeper timeout, so the proxy (not the store) expires it. */
export const ZK_LEASE_MARGIN_SECONDS = 3;

/** Keys read per page when loading the znode tree at start. */
export const ZK_LOAD_PAGE_KEYS = 5000;

/** etcd's default `--max-txn-ops`: a multi whose key operations exceed it is refused. */
export const ZK_MAX_TXN_OPS_DEFAULT = 128;

/**
 * Operations per store transaction over the in-process core. etcd's `--max-txn-ops` guards its
 * gRPC API; the in-process front end is not a gRPC client, and ZooKeeper bounds a multi only by
 * the frame size (`jute.maxbuffer`, 1 MiB: at most some tens of thousands of tiny creates), so a
 * multi, or a session close with many ephemerals, runs as one transaction up to this bound.
 */
export const ZK_LOCAL_MAX_TXN_OPS = 65_536;

/** Default interval of the container/TTL reaper (znode.container.checkIntervalMs). */
export const ZK_CONTAINER_CHECK_INTERVAL_MS = 60_000;

/** A connection must send its ConnectRequest within this time (ZooKeeper closes sessionless connections too). */
export const ZK_HANDSHAKE_TIMEOUT_MS = 30_000;

/** Single-node writes of one connection in flight at once (pipelined, in order); more wait. */
export const ZK_MAX_PIPELINED_WRITES = 64;

/** Connections accepted by one listener; more are closed at once. */
export const ZK_MAX_CONNECTIONS = 10_000;

/** Concurrent connections from one client IP address (ZooKeeper's maxClientCnxns default); 0 = no limit. */
export const ZK_MAX_CLIENT_CNXNS_DEFAULT = 60;

/** Path depth the key schema can encode (4 decimal digits); deeper paths are BADARGUMENTS. */
export const ZK_MAX_DEPTH = 9999;

/**
 * A session whose keep-alives have failed (or gone unanswered) for this fraction of its timeout
 * gets its connection closed (session/session-table.ts): the store cannot be reached from here,
 * so the client must move to a server that can renew it. Half the timeout leaves the client,
 * whose lease lasts timeout × 4/3 + {@link ZK_LEASE_MARGIN_SECONDS} from the last renewal (at
 * most timeout/3 before the failing one), at least timeout/2 + the margin to resume elsewhere;
 * and it is well above a healthy keep-alive's latency, even across a leader election.
 */
export const ZK_UNRENEWED_CLOSE_FRACTION = 0.5;

/**
 * Retry delays of a session expiry the store could not confirm (it is unreachable): doubled from
 * the first to the last after each failure, so a cut-off proxy neither hammers the store nor
 * floods its log with one attempt per deadline check.
 */
export const ZK_EXPIRY_RETRY_FIRST_MS = 200;
/** See {@link ZK_EXPIRY_RETRY_FIRST_MS}. */
export const ZK_EXPIRY_RETRY_MAX_MS = 5000;
