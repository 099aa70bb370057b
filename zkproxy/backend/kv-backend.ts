/**
 * `KvBackend`: the only thing zkproxy knows about the store (DESIGN §4). It is etcd-shaped
 * (range, txn, one ordered revision-stamped watch, leases) so that two implementations can sit
 * behind it unchanged: the in-process core (`local-backend.ts`) and any etcd v3 cluster over
 * gRPC (`remote-backend.ts`).
 *
 * Conventions (those of etcd, see ../shared/reference/etcd.md §2):
 * - Keys and values are `Buffer`s; ranges are `[key, rangeEnd)`, an absent `rangeEnd` means the
 *   single key `key`, and a `rangeEnd` of one zero byte means "every key ≥ key".
 * - Revisions are safe integers (`number`): the store's revision counter, bumped by exactly one
 *   per write transaction. zkproxy uses it as the zxid. Lease ids are `bigint` (they exceed 2^53).
 * - Every result carries `revision`: the store's revision when the request was served.
 * - Failures reject with a {@link KvError}; nothing else is thrown for expected conditions.
 */

/** A key's current (or historical) version, as etcd's `mvccpb.KeyValue`. */
export interface KvPair {
  key: Buffer;
  value: Buffer;
  /** Revision of the key's latest creation. */
  createRevision: number;
  /** Revision of the key's latest change. */
  modRevision: number;
  /** 1 on creation, +1 per put; the key is absent when 0. */
  version: number;
  /** Attached lease id, or 0n. */
  lease: bigint;
}

/** Options of a range read. */
export interface KvRangeOptions {
  rangeEnd?: Buffer;
  /** 0 or absent: no limit. */
  limit?: number;
  /** Read at this historical revision (0 or absent: current). */
  revision?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
  /** Serve from local state without a linearizability round (may be stale on a follower). */
  serializable?: boolean;
  sortOrder?: 'none' | 'ascend' | 'descend';
  sortTarget?: 'key' | 'version' | 'create' | 'mod' | 'value';
  /**
   * false: the caller needs `more` but not `count`, which may then be any number from the keys
   * returned up to the true count (a local store stops looking one key past `limit`, so paging
   * through a large range is not quadratic; etcd counts them all anyway). Default true.
   */
  exactCount?: boolean;
}

/** Result of a range read. */
export interface KvRangeResult {
  revision: number;
  kvs: KvPair[];
  /** True when `limit` cut the result short. */
  more: boolean;
  /** Number of keys in the range, ignoring `limit`. */
  count: number;
}

/** One comparison of a transaction's guard; on a range, every key must satisfy it. */
export interface KvCompare {
  key: Buffer;
  rangeEnd?: Buffer;
  target: 'version' | 'create' | 'mod' | 'value' | 'lease';
  result: 'equal' | 'greater' | 'less' | 'not_equal';
  /** A number for version/create/mod, a bigint for lease, a Buffer for value. */
  value: number | bigint | Buffer;
}

/** One operation of a transaction branch. */
export type KvOp =
  | { type: 'range'; key: Buffer; options?: KvRangeOptions }
  | { type: 'put'; key: Buffer; value: Buffer; lease?: bigint; prevKv?: boolean }
  | { type: 'delete'; key: Buffer; rangeEnd?: Buffer; prevKv?: boolean }
  | { type: 'txn'; txn: KvTxn };

/** A transaction: if every compare holds, run `success`, else `failure`; atomically, one revision. */
export interface KvTxn {
  compare: KvCompare[];
  success: KvOp[];
  failure: KvOp[];
}

/** The result of one {@link KvOp}, in the same position as the op. */
export type KvOpResult =
  | ({ type: 'range' } & KvRangeResult)
  | { type: 'put'; prevKv?: KvPair }
  | { type: 'delete'; deleted: number; prevKvs: KvPair[] }
  | ({ type: 'txn' } & KvTxnResult);

/** Result of a transaction. `revision` is the store revision after it. */
export interface KvTxnResult {
  revision: number;
  succeeded: boolean;
  results: KvOpResult[];
}

/** One change in the ordered feed. A delete's `kv` holds the key and `modRevision` = the deletion revision. */
export interface KvEvent {
  type: 'put' | 'delete';
  kv: KvPair;
  prevKv?: KvPair;
}

/** Receiver of a watch's feed. Calls arrive in revision order and never overlap. */
export interface KvWatchHandler {
  /** Events of one or more whole revisions, in order; one revision is never split across calls. */
  onEvents(events: KvEvent[]): void;
  /**
   * Every event with revision ≤ `revision` has been delivered. Sent in answer to
   * {@link KvWatch.requestProgress} and whenever the backend knows it.
   */
  onProgress(revision: number): void;
  /** The watch ended and will deliver nothing more (compaction past its start, backend closed, error). */
  onClosed(error: KvError): void;
}

/** Parameters of a watch. */
export interface KvWatchOptions {
  key: Buffer;
  rangeEnd?: Buffer;
  /** First revision to deliver (0: from the next revision). */
  startRevision?: number;
  prevKv?: boolean;
}

/** A running watch. */
export interface KvWatch {
  /** Asks for an {@link KvWatchHandler.onProgress} call reporting the current revision. */
  requestProgress(): void;
  /** Stops the feed; no handler call follows. */
  cancel(): void;
}

/** What a lease looks like now. */
export interface KvLeaseInfo {
  id: bigint;
  /** Seconds remaining; -1 when the lease does not exist. */
  ttl: number;
  grantedTtl: number;
  keys: Buffer[];
}

/** Error kinds zkproxy must tell apart; the mapping to ZooKeeper codes is in zkproxy/errors. */
export type KvErrorCode =
  | 'compacted'
  | 'future-revision'
  | 'lease-not-found'
  | 'lease-exists'
  | 'too-large'
  | 'too-many-ops'
  | 'duplicate-key'
  | 'invalid-argument'
  | 'unavailable'
  /** The store refuses this client's credentials (a TLS certificate): retrying will not help. */
  | 'refused'
  | 'no-space'
  | 'closed'
  | 'internal';

/** A failure from the backend, with a stable code and the store's message text. */
export class KvError extends Error {
  constructor(
    readonly code: KvErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'KvError';
  }
}

/** A member's role and, on a leader, its followers' replication (ZooKeeper's leader metrics). */
export interface KvServerRole {
  /** `read-only` while the proxy serves read-only clients (read-only-mode.ts; the proxy sets it). */
  mode: 'standalone' | 'leader' | 'follower' | 'read-only';
  /** Voting members, this one included. */
  quorumSize: number;
  /** Leader only: other members (voters and learners). */
  learners: number;
  /** Leader only: voters other than itself that receive the log stream (Raft's Replicate state). */
  syncedFollowers: number;
  /** Leader only: learners that do. */
  syncedNonVoting: number;
  /** In a cluster: this member's id. */
  memberId?: bigint;
  /** In a cluster: the leader's member id (0n while none is known). */
  leaderId?: bigint;
  /** In a cluster: each member's id, first peer URL and whether it votes (the AdminServer's leader and voting_view). */
  members?: readonly { id: bigint; peerUrl: string; voter: boolean }[];
}

/** A server's data and log directories and their sizes (see {@link KvBackend.storageDirs}). */
export interface KvStorageDirs {
  dataDir: string;
  dataBytes: number;
  logDir: string;
  logBytes: number;
}

/** The store as zkproxy sees it. */
export interface KvBackend {
  /**
   * The most operations (compares, or ops of one branch) one `txn` accepts; a bigger txn rejects
   * with `too-many-ops`. Absent: etcd's default `--max-txn-ops` (128).
   */
  readonly maxTxnOps?: number;
  /**
   * True when txns issued one after another without waiting commit in the order issued (the
   * in-process core proposes them in call order). Only then does a connection pipeline its
   * writes (ops/write-chain.ts): over etcd, concurrent calls may be applied in any order, and a
   * pipelined write overtaking the one before it would fail and run again.
   */
  readonly ordersTxns?: boolean;
  range(key: Buffer, options?: KvRangeOptions): Promise<KvRangeResult>;
  txn(txn: KvTxn): Promise<KvTxnResult>;
  /** Opens an ordered feed; the handler is called until the watch is cancelled or closed. */
  watch(options: KvWatchOptions, handler: KvWatchHandler): KvWatch;
  /** Grants a lease; `id` 0n or absent lets the store choose. Resolves with the id and the granted TTL. */
  leaseGrant(ttlSeconds: number, id?: bigint): Promise<{ id: bigint; ttl: number }>;
  /**
   * Grants a lease and proposes `txnFor(id)` right behind the grant, so the txn may attach keys
   * to the new lease: one durable round instead of two (a ZooKeeper session's handshake). The
   * two apply in that order or the txn fails (`lease-not-found`); when the grant succeeds and
   * the txn fails, the lease is revoked before the rejection. Optional: a backend whose calls
   * may apply out of order (etcd over gRPC) leaves it out, and callers grant, wait, then txn.
   */
  grantThenTxn?(ttlSeconds: number, txnFor: (leaseId: bigint) => KvTxn): Promise<{ lease: { id: bigint; ttl: number }; txn: KvTxnResult }>;
  /** Renews a lease; resolves with the new TTL, or 0 when the lease does not exist. */
  leaseKeepAlive(id: bigint): Promise<number>;
  /** Revokes a lease, deleting its keys in one revision; rejects with `lease-not-found`. */
  leaseRevoke(id: bigint): Promise<void>;
  leaseTimeToLive(id: bigint, withKeys?: boolean): Promise<KvLeaseInfo>;
  /** A stable id of the cluster behind this backend (for deriving session passwords). */
  clusterId(): Promise<bigint>;
  /**
   * This server's place in its cluster, as ZooKeeper's `srvr`/`mntr` report it. Absent (a
   * remote store, where the proxy is no member): standalone.
   */
  serverRole?(): KvServerRole;
  /**
   * Where this server keeps its data and its log, with their sizes in bytes now (ZooKeeper's
   * dataDir and dataLogDir: `conf`, `dirs`). Absent: the store is elsewhere (an etcd cluster).
   */
  storageDirs?(): KvStorageDirs;
  /**
   * Whether the store can commit from here now: a member of a cluster knows a leader (with
   * CheckQuorum and PreVote, one cut off from the majority knows none). Absent: the proxy cannot
   * tell, and read-only mode is not offered.
   */
  hasQuorum?(): boolean;
  /** Releases connections; pending calls reject with `closed`. */
  close(): Promise<void>;
}
