/**
 * One member's etcd metrics under etcd's names (etcd.md §4.5: the ones dashboards and alerts
 * watch), and the event methods the code that sees the events calls. It depends on nothing in
 * the server, so the Raft driver and the member can hold one without an import cycle; the
 * collectors that read live member state at scrape time are in metrics.ts.
 *
 * Semantics follow etcd 3.4/3.5:
 * - `etcd_server_proposals_committed_total` / `_applied_total` are gauges holding the committed
 *   and applied Raft indexes (etcd sets them, despite the `_total` suffix).
 * - `etcd_server_leader_changes_seen_total` counts transitions to a known leader different from
 *   the previous one.
 * - `etcd_disk_wal_fsync_duration_seconds` and `etcd_disk_backend_commit_duration_seconds` use
 *   etcd's buckets (1 ms doubling 14 times, up to 8.192 s). While the Raft log lives in the
 *   same LMDB transactions as the state, the WAL fsync is the sync part of a backend commit.
 */
import type { MethodKind } from './grpc/grpc-method';
import { Counter, exponentialBuckets, Gauge, Histogram, MetricsRegistry } from './metrics-registry';

/** etcd's buckets for its disk latency histograms (`prometheus.ExponentialBuckets(0.001, 2, 14)`). */
export const ETCD_DISK_BUCKETS = exponentialBuckets(0.001, 2, 14);

/** gRPC code names as grpc-go prints them (the `grpc_code` label of go-grpc-prometheus). */
const GRPC_CODE_NAMES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable',
  'DataLoss', 'Unauthenticated',
];

/** go-grpc-prometheus's `grpc_type` label values. */
const GRPC_TYPE: Record<MethodKind, string> = { unary: 'unary', serverStream: 'server_stream', clientStream: 'client_stream', bidi: 'bidi_stream' };

/** A member's metric families and the event methods that feed them. */
export class MemberMetrics {
  readonly registry = new MetricsRegistry();
  readonly hasLeader = this.registry.register(new Gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.'));
  readonly isLeader = this.registry.register(new Gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.'));
  readonly leaderChanges = this.registry.register(new Counter('etcd_server_leader_changes_seen_total', 'The number of leader changes seen.'));
  readonly proposalsCommitted = this.registry.register(new Gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.'));
  readonly proposalsApplied = this.registry.register(new Gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.'));
  readonly proposalsPending = this.registry.register(new Gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.'));
  readonly proposalsFailed = this.registry.register(new Counter('etcd_server_proposals_failed_total', 'The total number of failed proposals seen.'));
  readonly healthSuccess = this.registry.register(new Counter('etcd_server_health_success', 'The total number of successful health checks'));
  readonly healthFailures = this.registry.register(new Counter('etcd_server_health_failures', 'The total number of failed health checks'));
  readonly quotaBytes = this.registry.register(new Gauge('etcd_server_quota_backend_bytes', 'Current backend storage quota size in bytes.'));
  readonly version = this.registry.register(new Gauge('etcd_server_version', 'Which version is running. 1 for \'server_version\' label with current version.'));
  readonly dbTotalSize = this.registry.register(new Gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.'));
  readonly dbInUseSize = this.registry.register(new Gauge('etcd_mvcc_db_total_size_in_use_in_bytes', 'Total size of the underlying database logically in use in bytes.'));
  readonly keysTotal = this.registry.register(new Gauge('etcd_debugging_mvcc_keys_total', 'Total number of keys.'));
  readonly currentRevision = this.registry.register(new Gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.'));
  readonly compactRevision = this.registry.register(new Gauge('etcd_debugging_mvcc_compact_revision', 'The revision of the last compaction in store.'));
  readonly walFsync = this.registry.register(new Histogram('etcd_disk_wal_fsync_duration_seconds', 'The latency distributions of fsync called by WAL.', ETCD_DISK_BUCKETS));
  readonly backendCommit = this.registry.register(
    new Histogram('etcd_disk_backend_commit_duration_seconds', 'The latency distributions of commit called by backend.', ETCD_DISK_BUCKETS),
  );
  readonly grpcHandled = this.registry.register(
    new Counter('grpc_server_handled_total', 'Total number of RPCs completed on the server, regardless of success or failure.'),
  );
  private leader = 0n;
  private walReports = false;

  /**
   * Records the leader as last seen (0n = none). Idempotent: only a change to a different,
   * known leader counts as a leader change, so calling it from several places is safe.
   */
  observeLeader(lead: bigint, isLeader: boolean): void {
    if (lead !== 0n && lead !== this.leader) this.leaderChanges.inc();
    this.leader = lead;
    this.hasLeader.set(lead === 0n ? 0 : 1);
    this.isLeader.set(isLeader ? 1 : 0);
  }

  /** A proposal was handed to Raft and is waiting for its apply result. */
  proposalStarted(): void {
    this.proposalsPending.inc(1);
  }

  /** A proposal from {@link proposalStarted} got its result (or failed: dropped, timed out, stopped). */
  proposalFinished(failed: boolean): void {
    this.proposalsPending.inc(-1);
    if (failed) this.proposalsFailed.inc();
  }

  /** A proposal Raft refused before it was ever pending (no leader, too many requests). */
  proposalRefused(): void {
    this.proposalsFailed.inc();
  }

  /**
   * One durable backend transaction: the whole commit and its sync part, in seconds. While the
   * Raft log shares the backend's transactions, that sync is the WAL fsync too; once a separate
   * WAL reports through {@link observeWalFsync}, backend syncs stop counting as WAL fsyncs.
   */
  observeCommit(commitSeconds: number, syncSeconds: number): void {
    this.backendCommit.observe(commitSeconds);
    if (!this.walReports) this.walFsync.observe(syncSeconds);
  }

  /** One fsync/fdatasync of a dedicated Raft WAL file, in seconds. */
  observeWalFsync(seconds: number): void {
    this.walReports = true;
    this.walFsync.observe(seconds);
  }

  /** One `/health` answer. */
  observeHealthCheck(healthy: boolean): void {
    (healthy ? this.healthSuccess : this.healthFailures).inc();
  }

  /** One finished gRPC call (`path` = `/pkg.Service/Method`), for `grpc_server_handled_total`. */
  observeGrpcCall(path: string, kind: MethodKind, code: number): void {
    const slash = path.lastIndexOf('/');
    this.grpcHandled.inc({
      grpc_type: GRPC_TYPE[kind],
      grpc_service: path.slice(1, slash),
      grpc_method: path.slice(slash + 1),
      grpc_code: GRPC_CODE_NAMES[code] ?? `Code(${code})`,
    });
  }
}
