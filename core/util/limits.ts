/**
 * Every bound in the system, with the reason for it (DESIGN §7). Reaching a bound is a clear
 * protocol error for the client that hit it, never a crash and never a stall for others.
 * Values that operators can change have a flag; the constant here is the default.
 */

/** etcd `--max-request-bytes` default (1.5 MiB); larger requests get `etcdserver: request is too large`. */
export const MAX_REQUEST_BYTES_DEFAULT = 1.5 * 1024 * 1024;

/** gRPC receive limit = max request bytes + this overhead, as etcd sets it (so 2 MiB by default). */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** etcd `--max-txn-ops` default: max(len(compare), len(success), len(failure)) per txn. */
export const MAX_TXN_OPS_DEFAULT = 128;

/** etcd `--quota-backend-bytes` default when 0 is given: 2 GiB. */
export const QUOTA_BACKEND_BYTES_DEFAULT = 2 * 1024 * 1024 * 1024;

/** The largest lease TTL etcd accepts, in seconds (`etcdserver: too large lease TTL`). */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;

/** Watchers on one gRPC watch stream; beyond this a create is cancelled with a reason. */
export const MAX_WATCHERS_PER_STREAM = 100_000;

/**
 * Watch events buffered for one slow stream before it is treated as a victim and caught up
 * from history instead (etcd: 128-entry channel; events are never dropped, only re-read).
 */
export const WATCH_STREAM_BUFFER_EVENTS = 1024;

/** Revisions per catch-up batch for an unsynced watcher (etcd `watchBatchMaxRevs`). */
export const WATCH_BATCH_MAX_REVISIONS = 1000;

/** Keys deleted per physical-compaction batch (etcd `--experimental-compaction-batch-limit`). */
export const COMPACTION_BATCH_LIMIT = 1000;

/** Backpressure: committed − applied beyond this answers `etcdserver: too many requests`. */
export const MAX_APPLY_BACKLOG = 5000;

/** Proposals waiting for commit on one member; beyond this writes are refused with `too many requests`. */
export const MAX_PENDING_PROPOSALS = 100_000;

/** Raft: max bytes of entries in one append message (etcd MaxSizePerMsg). */
export const RAFT_MAX_SIZE_PER_MSG = 1024 * 1024;

/** Raft: max in-flight append messages per follower (etcd MaxInflightMsgs). */
export const RAFT_MAX_INFLIGHT_MSGS = 512;

/** Raft: max bytes of uncommitted entries a leader accepts before refusing proposals (etcd: 1 GiB). */
export const RAFT_MAX_UNCOMMITTED_BYTES = 1 << 30;

/** Raft messages queued to one peer before new ones are dropped (Raft retransmits). */
export const PEER_QUEUE_MESSAGES = 4096;

/**
 * WAL segment size (etcd `SegmentSizeBytes`, 64 MB). Segments are preallocated at this size so
 * an append never changes the file size: fdatasync then has no metadata to journal.
 */
export const WAL_SEGMENT_BYTES_DEFAULT = 64 * 1024 * 1024;

/**
 * Bytes of applied-but-not-yet-committed batches a WriteBuffer holds before `write` answers only
 * after a flush brought it back under the bound (memory is bounded even when LMDB stalls).
 */
export const WRITE_BUFFER_MAX_BYTES_DEFAULT = 64 * 1024 * 1024;

/**
 * Bytes of buffered batches coalesced into one inner (LMDB) transaction: a huge backlog is
 * committed in steps so one transaction's dirty pages stay bounded.
 */
export const WRITE_BUFFER_MAX_FLUSH_BYTES = 16 * 1024 * 1024;

/**
 * How long the write buffer lets applied batches gather before committing them to LMDB. Each
 * LMDB commit syncs twice; fewer, larger commits leave the disk to the WAL's fdatasyncs, which
 * are what writers wait for (etcd commits its backend every 100 ms for the same reason). With
 * three members on one disk, 20 ms gave 0.9–1.5k replicated puts/s and 100 ms 2.7k (64 clients).
 */
export const WRITE_BUFFER_FLUSH_DELAY_MS = 100;
