/**
 * What a member is configured with (etcd flag names in the comments), its defaults, and the
 * shapes of what it reports: the response header and the member list entry.
 */
import { Clock } from '../util/clock';
import { Rand } from '../util/rand';
import { Logger } from '../util/logger';
import { MAX_TXN_OPS_DEFAULT, MAX_REQUEST_BYTES_DEFAULT } from '../util/limits';
import { MemberRecord } from '../cluster/member-table';

/** Configuration of a member (etcd flag names in comments). */
export interface MemberConfig {
  /** --name */
  name: string;
  /** --data-dir */
  dataDir: string;
  /** --initial-advertise-peer-urls (used for the member id). */
  peerUrls: string[];
  /** --listen-peer-urls ([] = no peer listener: a member that never has peers). */
  listenPeerUrls?: string[];
  /** True when --listen-peer-urls was defaulted: a busy port is then a warning, not an error. */
  listenPeerUrlsOptional?: boolean;
  /** --initial-cluster ('' = this member alone). Read on first boot only. */
  initialCluster?: string;
  /** --initial-cluster-state */
  initialClusterState?: 'new' | 'existing';
  /** --advertise-client-urls */
  clientUrls: string[];
  /** --initial-cluster-token */
  clusterToken: string;
  /** --heartbeat-interval (ms) */
  heartbeatMs: number;
  /** --election-timeout (ms) */
  electionMs: number;
  /** --quota-backend-bytes (0 = 2 GiB) */
  quotaBackendBytes: number;
  /** --max-txn-ops */
  maxTxnOps: number;
  /** --max-request-bytes */
  maxRequestBytes: number;
  /** --unsafe-no-fsync */
  unsafeNoFsync: boolean;
  /** --snapshot-count: applied entries between Raft snapshots (default 100,000). */
  snapshotCount?: number;
  /** --experimental-snapshot-catchup-entries: entries kept behind a snapshot (default 5,000). */
  snapshotCatchUpEntries?: number;
  /**
   * Decode this member's own log entries at apply even though the proposed request is at hand,
   * and crash if the two differ (see own-proposal.ts; the test suite turns this on).
   */
  checkOwnEntries?: boolean;
  logger: Logger;
  clock?: Clock;
  rand?: Rand;
  /** Called once when this member learns it was removed from the cluster (etcd exits then). */
  onRemoved?: () => void;
}

/** Defaults for every field but name/dataDir/logger. */
export const MEMBER_DEFAULTS = {
  peerUrls: ['http://localhost:2380'],
  clientUrls: ['http://localhost:2379'],
  clusterToken: 'etcd-cluster',
  heartbeatMs: 100,
  electionMs: 1000,
  quotaBackendBytes: 0,
  maxTxnOps: MAX_TXN_OPS_DEFAULT,
  maxRequestBytes: MAX_REQUEST_BYTES_DEFAULT,
  unsafeNoFsync: false,
};

/** The response header every answer carries. */
export interface Header {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  raftTerm: number;
}

/** One member of the cluster as the Cluster API reports it (etcd `Member`). */
export type MemberInfo = MemberRecord;
