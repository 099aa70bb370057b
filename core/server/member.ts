/**
 * One member: opens the data directory, rebuilds state, runs Raft through the driver, and
 * offers the in-process API that the gRPC services and zkproxy's local backend call. Every
 * write goes propose → commit → durable apply → answer; reads are served at the durable
 * revision, after a ReadIndex round unless serializable.
 */
import { mkdirSync, accessSync, constants as fsConstants } from 'node:fs';
import { LmdbBackend } from '../storage/lmdb-backend';
import { Backend } from '../storage/backend';
import { DB, META, encodeU64, decodeU64 } from '../storage/schema';
import { RaftLogStore } from '../storage/raft-log-store';
import { Clock, SystemClock } from '../util/clock';
import { CryptoRand, Rand } from '../util/rand';
import { CoreError } from '../util/core-error';
import { Logger } from '../util/logger';
import { IdGenerator } from '../util/id-generator';
import { MAX_TXN_OPS_DEFAULT, MAX_REQUEST_BYTES_DEFAULT, QUOTA_BACKEND_BYTES_DEFAULT, COMPACTION_BATCH_LIMIT } from '../util/limits';
import { KvStore } from '../mvcc/kv-store';
import { WatchableStore } from '../mvcc/watchable-store';
import { Lessor } from '../lease/lessor';
import { AlarmStore } from '../apply/alarm-store';
import { Applier, ApplyOutcome } from '../apply/applier';
import { ApplyBody } from '../apply/apply-request';
import { RawNode } from '../raft/raw-node';
import { MemoryRaftStorage } from '../raft/memory-raft-storage';
import { computeClusterId, computeMemberId } from '../cluster/member-id';
import { RaftDriver } from './raft-driver';
import { Compactor } from './compactor';

/** Configuration of a member (etcd flag names in comments). */
export interface MemberConfig {
  /** --name */
  name: string;
  /** --data-dir */
  dataDir: string;
  /** --initial-advertise-peer-urls (used for the member id). */
  peerUrls: string[];
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
  logger: Logger;
  clock?: Clock;
  rand?: Rand;
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
export interface MemberInfo {
  id: bigint;
  /** Empty for a member added but not yet started. */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

/** A running member. */
export class Member {
  readonly kv: KvStore;
  readonly watches: WatchableStore;
  readonly lessor: Lessor;
  readonly alarms = new AlarmStore();
  readonly memberId: bigint;
  readonly clusterId: bigint;
  private readonly ids: IdGenerator;
  private readonly driver: RaftDriver;
  private readonly node: RawNode;
  private readonly compactor: Compactor;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly revoking = new Set<bigint>();
  private stopped = false;

  private constructor(
    readonly config: MemberConfig,
    readonly backend: Backend,
  ) {
    const clock = config.clock ?? new SystemClock();
    const log = config.logger;
    this.memberId = computeMemberId(config.peerUrls, config.clusterToken);
    this.clusterId = computeClusterId([this.memberId]);
    this.checkIdentity();
    this.kv = new KvStore(backend);
    const loaded = this.kv.load();
    this.lessor = new Lessor(clock, Math.ceil((1.5 * config.electionMs) / 1000));
    backend.read((txn) => {
      this.lessor.load(txn, loaded.attachments);
      this.alarms.load(txn);
    });
    this.watches = new WatchableStore(this.kv);
    this.compactor = new Compactor(this.kv, this.watches, backend, COMPACTION_BATCH_LIMIT, log.child({ component: 'compactor' }));
    if (loaded.pendingCompaction) void this.compactor.finish(loaded.pendingCompaction);
    this.ids = new IdGenerator(this.memberId, clock);
    const { node, storage, applied } = this.openRaft(config.rand ?? new CryptoRand());
    this.node = node;
    const applier = new Applier(this.kv, this.lessor, this.alarms);
    this.driver = new RaftDriver(node, storage, backend, applier, this.kv, {
      onDurable: (b) => this.watches.notify(b),
      onCompaction: (rev) => this.compactor.finish(rev),
      onLeaderChange: (lead, isLeader) => this.leaderChanged(lead, isLeader),
      send: () => {},
    }, log.child({ component: 'raft' }), applied);
  }

  /** Opens the data directory and starts the member. Throws a clear error if the directory is unusable. */
  static async start(config: MemberConfig): Promise<Member> {
    try {
      mkdirSync(config.dataDir, { recursive: true });
      accessSync(config.dataDir, fsConstants.W_OK | fsConstants.R_OK);
    } catch (err) {
      throw new Error(`cannot use data dir ${config.dataDir}: ${(err as Error).message}`);
    }
    const backend = LmdbBackend.open({ path: config.dataDir + '/member', noSync: config.unsafeNoFsync });
    let m: Member;
    try {
      m = new Member(config, backend);
      await m.persistIdentity();
    } catch (err) {
      await backend.close();
      throw err;
    }
    m.run();
    return m;
  }

  /** The header for a response at the given (default: readable) revision. */
  header(revision = this.kv.readRevision): Header {
    return { clusterId: this.clusterId, memberId: this.memberId, revision, raftTerm: this.node.basicStatus().term };
  }

  /** Proposes a change and waits for its durable outcome; rejects with the apply error. */
  async propose(body: ApplyBody, username = ''): Promise<ApplyOutcome> {
    const outcome = await this.driver.propose({ header: { id: this.ids.next(), username, authRevision: 0 }, body });
    if (outcome.error) throw outcome.error;
    return outcome;
  }

  /** Waits until local state reflects every write committed before the call (linearizable read). */
  linearize(): Promise<void> {
    return this.driver.readIndex();
  }

  /** A fresh lease id (for LeaseGrant with ID 0). */
  nextLeaseId(): bigint {
    return this.ids.next();
  }

  /** Raft facts for Status. */
  raftStatus(): { leader: bigint; term: number; commit: number; applied: number } {
    const st = this.node.basicStatus();
    return { leader: this.driver.leader, term: st.term, commit: st.commit, applied: this.driver.applied };
  }

  /** The cluster's members as this member knows them (MemberList). */
  members(): MemberInfo[] {
    return [{ id: this.memberId, name: this.config.name, peerUrls: this.config.peerUrls, clientUrls: this.config.clientUrls, isLearner: false }];
  }

  /** The quota in bytes (0 → 2 GiB). */
  get quotaBytes(): number {
    return this.config.quotaBackendBytes > 0 ? this.config.quotaBackendBytes : QUOTA_BACKEND_BYTES_DEFAULT;
  }

  /** Stops timers, fails pending work, closes the backend. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.driver.stop();
    await this.compactor.idle();
    await this.backend.close();
  }

  private run(): void {
    this.timers.push(setInterval(() => this.driver.tick(), this.config.heartbeatMs));
    this.timers.push(setInterval(() => this.revokeExpired(), 500));
    // A single voter campaigns at once instead of waiting an election timeout.
    this.node.campaign();
    this.driver.tick();
  }

  private openRaft(rand: Rand): { node: RawNode; storage: MemoryRaftStorage; applied: number } {
    const store = new RaftLogStore();
    const loaded = this.backend.read((txn) => store.load(txn));
    const storage = MemoryRaftStorage.withPeers([this.memberId]);
    if (loaded.entries.length) storage.append(loaded.entries);
    if (loaded.hardState) storage.setHardState(loaded.hardState);
    const electionTick = Math.max(2, Math.round(this.config.electionMs / this.config.heartbeatMs));
    const node = new RawNode({
      id: this.memberId,
      electionTick,
      heartbeatTick: 1,
      storage,
      applied: loaded.appliedIndex,
      maxSizePerMsg: 1024 * 1024,
      maxUncommittedEntriesSize: 1 << 30,
      maxInflightMsgs: 512,
      checkQuorum: true,
      preVote: true,
      readOnlyOption: 'safe',
      rand,
      logger: this.config.logger.child({ component: 'raft' }),
    });
    return { node, storage, applied: loaded.appliedIndex };
  }

  /** Refuses a data dir that belongs to another member (a wiped or copied directory). */
  private checkIdentity(): void {
    const stored = this.backend.read((txn) => txn.get(DB.meta, META.memberId));
    if (stored && decodeU64(stored) !== this.memberId) {
      throw new Error(`data dir ${this.config.dataDir} belongs to member ${decodeU64(stored).toString(16)}, not ${this.memberId.toString(16)} (check --initial-advertise-peer-urls and --initial-cluster-token)`);
    }
  }

  /** Records this member's identity in a fresh data dir (durably, before serving). */
  private async persistIdentity(): Promise<void> {
    if (this.backend.read((txn) => txn.get(DB.meta, META.memberId))) return;
    await this.backend.write((txn) => {
      txn.put(DB.meta, META.memberId, encodeU64(this.memberId));
      txn.put(DB.meta, META.clusterId, encodeU64(this.clusterId));
    });
  }

  private leaderChanged(lead: bigint, isLeader: boolean): void {
    this.config.logger.info({ leader: lead.toString(16), isLeader }, 'leader changed');
    if (isLeader) this.lessor.promote(this.config.electionMs);
    else this.lessor.demote();
  }

  /** Primary only: proposes revokes of expired leases (at most 16 in flight, as etcd). */
  private revokeExpired(): void {
    if (this.stopped || !this.lessor.isPrimary) return;
    for (const id of this.lessor.expired(16 - this.revoking.size)) {
      if (this.revoking.has(id)) continue;
      this.revoking.add(id);
      this.propose({ type: 'leaseRevoke', id })
        .catch((err) => {
          if (!(err instanceof CoreError && err.code === 'lease-not-found')) this.config.logger.warn({ err, lease: id.toString(16) }, 'lease revoke failed');
        })
        .finally(() => this.revoking.delete(id));
    }
  }
}
