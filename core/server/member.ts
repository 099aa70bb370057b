/**
 * One member: opens the data directory, settles its identity (first boot or restart), rebuilds
 * state, runs Raft through the driver with the peer transport, and offers the in-process API
 * that the gRPC services and zkproxy's local backend call. Every write goes propose → commit →
 * durable apply → answer (a follower's proposal is forwarded to the leader by Raft and answered
 * when this member applies it); reads are served at the durable revision, after a ReadIndex
 * round unless serializable. Membership lives in the durable member table, changed only by
 * applied log entries.
 */
import { mkdirSync, accessSync, constants as fsConstants } from 'node:fs';
import { LmdbBackend } from '../storage/lmdb-backend';
import { Backend } from '../storage/backend';
import { DB, META, decodeU64 } from '../storage/schema';
import { LoadedRaftLog } from '../storage/raft-log-store';
import { RaftPersistence } from './raft-persistence';
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
import { ConfChange, ConfChangeType, MessageType, newMessage, StateType } from '../raft/types';
import { computeMemberId } from '../cluster/member-id';
import { MemberRecord, MemberTable, decodeMemberContext } from '../cluster/member-table';
import { parseInitialCluster, verifyInitialCluster, sameUrls } from '../cluster/initial-cluster';
import { RaftDriver } from './raft-driver';
import { Compactor } from './compactor';
import { PeerTransport } from './peer-transport';
import { PeerServer } from './peer-server';
import { firstBoot, FirstBoot } from './cluster-bootstrap';
import { writeBootstrap, writeJoinIdentity } from './cluster-first-write';
import { ClusterMembership, validateConfChange } from './cluster-membership';
import { ClusterPeerApi } from './cluster-peer-api';
import { RaftSnapshotCompactor, SNAPSHOT_CATCH_UP_ENTRIES_DEFAULT, SNAPSHOT_COUNT_DEFAULT } from './raft-snapshot-compactor';
import { SnapshotBackendSlot } from './snapshot-backend-slot';
import { SnapshotSender } from './snapshot-sender';
import { SnapshotReceiver } from './snapshot-receiver';
import { SnapshotInstaller } from './snapshot-installer';
import { recoverSnapshotInstall } from './snapshot-recovery';

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

/** A running member. */
export class Member {
  readonly kv: KvStore;
  /** The applied state (LMDB behind the write buffer): what every reader sees. */
  readonly backend: Backend;
  readonly watches: WatchableStore;
  readonly lessor: Lessor;
  readonly alarms = new AlarmStore();
  readonly memberId: bigint;
  readonly clusterId: bigint;
  /** The durable member table (changed only by applied entries). */
  readonly table = new MemberTable();
  readonly transport: PeerTransport;
  readonly membership: ClusterMembership;
  private readonly clock: Clock;
  private readonly ids: IdGenerator;
  private readonly driver: RaftDriver;
  private readonly node: RawNode;
  private readonly raftStorage: MemoryRaftStorage;
  private readonly snapshotter: RaftSnapshotCompactor;
  private readonly snapshotSender: SnapshotSender;
  /** Receives the leader's snapshots (the peer server hands it `POST /raft/snapshot`). */
  readonly snapshotReceiver: SnapshotReceiver;
  private readonly snapshotInstaller: SnapshotInstaller;
  private readonly compactor: Compactor;
  private readonly peerApi: ClusterPeerApi;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly revoking = new Set<bigint>();
  private peerServers: PeerServer[] = [];
  private published = false;
  private removed = false;
  private stopped = false;

  private constructor(
    readonly config: MemberConfig,
    private readonly persistence: RaftPersistence,
    loadedLog: LoadedRaftLog,
    identity: { memberId: bigint; clusterId: bigint; remoteMembers: MemberRecord[] },
    slot: SnapshotBackendSlot,
  ) {
    const backend = persistence.backend;
    this.backend = backend;
    this.clock = config.clock ?? new SystemClock();
    const log = config.logger;
    this.memberId = identity.memberId;
    this.clusterId = identity.clusterId;
    this.kv = new KvStore(backend);
    const loaded = this.kv.load();
    this.lessor = new Lessor(this.clock, Math.ceil((1.5 * config.electionMs) / 1000));
    backend.read((txn) => {
      this.lessor.load(txn, loaded.attachments);
      this.alarms.load(txn);
      this.table.load(txn);
    });
    this.checkIdentity();
    this.watches = new WatchableStore(this.kv);
    this.compactor = new Compactor(this.kv, this.watches, backend, COMPACTION_BATCH_LIMIT, log.child({ component: 'compactor' }));
    if (loaded.pendingCompaction) void this.compactor.finish(loaded.pendingCompaction);
    this.ids = new IdGenerator(this.memberId, this.clock);
    const { node, storage, applied } = this.openRaft(loadedLog, config.rand ?? new CryptoRand());
    this.node = node;
    this.raftStorage = storage;
    this.snapshotter = new RaftSnapshotCompactor({
      storage,
      sink: persistence,
      // 0 means the default, as in etcd.
      snapshotCount: config.snapshotCount || SNAPSHOT_COUNT_DEFAULT,
      catchUpEntries: config.snapshotCatchUpEntries ?? SNAPSHOT_CATCH_UP_ENTRIES_DEFAULT,
      logger: log.child({ component: 'raft-snapshot' }),
    });
    persistence.onStateDurable((st) => this.snapshotter.onStateDurable(st));
    const snapDir = config.dataDir + '/member/snap';
    this.snapshotSender = new SnapshotSender({
      dir: snapDir,
      localId: this.memberId,
      clusterId: this.clusterId,
      backend,
      urlsOf: (id) => this.table.get(id)?.peerUrls,
      report: (id, status) => this.driver.reportSnapshot(id, status),
      logger: log.child({ component: 'snapshot-sender' }),
    });
    this.snapshotReceiver = new SnapshotReceiver({
      dir: snapDir,
      localId: this.memberId,
      clusterId: this.clusterId,
      deliver: (h) => this.stepPeerMessage(newMessage({
        type: MessageType.MsgSnap,
        from: h.from,
        to: this.memberId,
        term: h.msgTerm,
        snapshot: { data: new Uint8Array(0), metadata: { index: h.index, term: h.term, confState: h.confState } },
      })),
      logger: log.child({ component: 'snapshot-receiver' }),
    });
    this.snapshotInstaller = new SnapshotInstaller({
      memberDir: config.dataDir + '/member',
      slot,
      buffer: backend,
      quiesce: () => this.compactor.idle(),
      rebuild: () => this.rebuildFromBackend(),
      noSync: config.unsafeNoFsync,
      logger: log.child({ component: 'snapshot-installer' }),
    });
    this.transport = new PeerTransport({
      localId: this.memberId,
      clusterId: this.clusterId,
      logger: log.child({ component: 'peer' }),
      onUnreachable: (id) => this.driver.reportUnreachable(id),
      onRemoved: () => this.removedFromCluster(),
    });
    this.transport.setPeers(this.table.size > 0 ? this.table.list() : identity.remoteMembers);
    const applier = new Applier(this.kv, this.lessor, this.alarms);
    this.driver = new RaftDriver(node, storage, persistence, applier, this.kv, {
      onDurable: (b) => this.watches.notify(b),
      onCompaction: (rev) => this.compactor.finish(rev),
      onLeaderChange: (lead, isLeader) => this.leaderChanged(lead, isLeader),
      send: (msgs) => this.transport.send(msgs),
      sendSnapshot: (m) => this.snapshotSender.send(m),
      installSnapshot: (meta) => this.snapshotInstaller.install(meta),
      validateConfChange: (cc) => validateConfChange(this.table, cc),
      applyConfChange: (txn, cc) => this.applyConfChange(txn, cc),
      afterConfChange: (cc) => this.afterConfChange(cc),
      applyMemberAttr: (txn, body) => {
        // The apply codec carries the id as a signed int64: ids ≥ 2^63 come back negative.
        const m = this.table.get(BigInt.asUintN(64, body.memberId));
        if (m) this.table.put(txn, { ...m, name: body.name, clientUrls: body.clientUrls });
      },
    }, log.child({ component: 'raft' }), applied);
    this.membership = new ClusterMembership({
      table: this.table,
      localId: this.memberId,
      clusterToken: config.clusterToken,
      activeSince: (id) => this.transport.activeSince(id),
      progress: () => this.node.status().progress,
      proposeConfChange: (cc) => this.withTimeout(this.driver.proposeConfChange(cc), () => this.driver.forget(cc.id)),
      nextId: () => this.ids.next(),
      nowMs: () => this.clock.wallMs(),
    });
    this.peerApi = new ClusterPeerApi(this);
  }

  /** Opens the data directory and starts the member. Throws a clear error if it cannot. */
  static async start(config: MemberConfig): Promise<Member> {
    try {
      mkdirSync(config.dataDir, { recursive: true });
      accessSync(config.dataDir, fsConstants.W_OK | fsConstants.R_OK);
    } catch (err) {
      throw new Error(`cannot use data dir ${config.dataDir}: ${(err as Error).message}`);
    }
    const memberDir = config.dataDir + '/member';
    await recoverSnapshotInstall(memberDir, config.logger.child({ component: 'snapshot-recovery' }));
    const lmdb = LmdbBackend.open({ path: memberDir, noSync: config.unsafeNoFsync });
    // Under the write buffer, so that installing a Raft snapshot can replace the database.
    const slot = new SnapshotBackendSlot(lmdb);
    let m: Member;
    let persistence: RaftPersistence | undefined;
    try {
      const identity = await Member.identity(config, slot);
      const opened = await RaftPersistence.open({ dir: memberDir, state: slot, noSync: config.unsafeNoFsync, logger: config.logger.child({ component: 'wal' }) });
      persistence = opened.persistence;
      m = new Member(config, persistence, opened.loaded, identity, slot);
      m.peerServers = await m.listenPeers();
    } catch (err) {
      if (persistence) await persistence.close();
      else await lmdb.close();
      throw err;
    }
    m.run();
    return m;
  }

  /**
   * This member's ids: from the data dir on restart (the --initial-* flags are ignored then, as
   * in etcd), else from a first boot, whose result is written durably before anything runs.
   */
  private static async identity(config: MemberConfig, backend: Backend): Promise<{ memberId: bigint; clusterId: bigint; remoteMembers: MemberRecord[] }> {
    const stored = backend.read((txn) => ({ m: txn.get(DB.meta, META.memberId), c: txn.get(DB.meta, META.clusterId) }));
    if (stored.m && stored.c) return { memberId: decodeU64(stored.m), clusterId: decodeU64(stored.c), remoteMembers: [] };
    const state = config.initialClusterState ?? 'new';
    const cluster = parseInitialCluster(config.initialCluster ?? '', config.name, config.peerUrls);
    verifyInitialCluster(cluster, config.name, config.peerUrls, state === 'existing');
    const boot: FirstBoot = await firstBoot({ name: config.name, cluster, state, token: config.clusterToken, advertisePeerUrls: config.peerUrls, logger: config.logger });
    if (boot.initialMembers) await writeBootstrap(backend, boot.memberId, boot.clusterId, boot.initialMembers);
    else await writeJoinIdentity(backend, boot.memberId, boot.clusterId);
    return boot;
  }

  /** Opens the peer listeners (see {@link MemberConfig.listenPeerUrlsOptional}). */
  private async listenPeers(): Promise<PeerServer[]> {
    const log = this.config.logger.child({ component: 'peer-server' });
    try {
      return await PeerServer.listen(this.config.listenPeerUrls ?? [], this.peerApi, log);
    } catch (err) {
      const alone = this.members().length === 1;
      if (!this.config.listenPeerUrlsOptional || !alone) throw new Error(`cannot listen for peers on ${this.config.listenPeerUrls?.join(',')}: ${(err as Error).message}`);
      log.warn({ err }, 'default peer URL unavailable; serving without a peer listener (set --listen-peer-urls to add members later)');
      return [];
    }
  }

  /** The header for a response at the given (default: readable) revision. */
  header(revision = this.kv.readRevision): Header {
    return { clusterId: this.clusterId, memberId: this.memberId, revision, raftTerm: this.node.basicStatus().term };
  }

  /** Proposes a change and waits for its durable outcome here; rejects with the apply error. */
  async propose(body: ApplyBody, username = ''): Promise<ApplyOutcome> {
    return this.proposeWithin(body, username, this.requestTimeoutMs());
  }

  private async proposeWithin(body: ApplyBody, username: string, timeoutMs: number): Promise<ApplyOutcome> {
    const id = this.ids.next();
    const outcome = await this.withTimeout(this.driver.propose({ header: { id, username, authRevision: 0 }, body }), () => this.driver.forget(id), timeoutMs);
    if (outcome.error) throw outcome.error;
    return outcome;
  }

  /** Waits until local state reflects every write committed before the call (linearizable read). */
  linearize(): Promise<void> {
    return this.withTimeout(this.driver.readIndex(), () => {});
  }

  /** A fresh lease id (for LeaseGrant with ID 0). */
  nextLeaseId(): bigint {
    return this.ids.next();
  }

  /**
   * Renews a lease where leases are kept alive: on the leader's lessor (the primary), here or
   * over the peer link (etcd forwards LeaseKeepAlive to the leader). Resolves with the TTL, 0
   * for an unknown or expired lease.
   */
  leaseKeepAlive(id: bigint): Promise<number> {
    if (this.lessor.isPrimary) return Promise.resolve(this.lessor.renew(id));
    return this.peerApi.forward<{ ttl: number }>('/lease/keepalive', { id: id.toString() }).then((r) => r.ttl);
  }
  /**
   * The remaining TTL of a lease in seconds, as the leader's lessor counts it (followers do not
   * count leases down; etcd forwards LeaseTimeToLive to the leader). -1 for an unknown lease.
   */
  leaseRemainingTtl(id: bigint): Promise<number> {
    if (this.lessor.isPrimary) return Promise.resolve(this.lessor.timeToLive(id).ttl);
    return this.peerApi.forward<{ ttl: number }>('/lease/ttl', { id: id.toString() }).then((r) => r.ttl);
  }


  /** Raft facts for Status. */
  raftStatus(): { leader: bigint; term: number; commit: number; applied: number } {
    const st = this.node.basicStatus();
    return { leader: this.driver.leader, term: st.term, commit: st.commit, applied: this.driver.applied };
  }

  /**
   * Raft's in-memory log as it stands: its first and last index, the index of the last snapshot
   * (taken here or installed from the leader), and the snapshots taken by this process.
   */
  raftLogStatus(): { firstIndex: number; lastIndex: number; snapshotIndex: number; snapshotsTaken: number; snapshotsSent: number; snapshotsReceived: number; snapshotsInstalled: number } {
    const s = this.raftStorage;
    return {
      firstIndex: s.firstIndex(),
      lastIndex: s.lastIndex(),
      snapshotIndex: s.snapshot().metadata.index,
      snapshotsTaken: this.snapshotter.snapshotsTaken,
      snapshotsSent: this.snapshotSender.sent,
      snapshotsReceived: this.snapshotReceiver.received,
      snapshotsInstalled: this.snapshotInstaller.installed,
    };
  }

  /** True when this member is a learner (serves only serializable reads and Status). */
  get isLearner(): boolean {
    return this.table.get(this.memberId)?.isLearner ?? false;
  }

  /** The cluster's members as this member knows them (MemberList). */
  members(): MemberInfo[] {
    if (this.table.size > 0) return this.table.list();
    // A data dir from before the member table: this member alone.
    return [{ id: this.memberId, name: this.config.name, peerUrls: this.config.peerUrls, clientUrls: this.config.clientUrls, isLearner: false }];
  }

  /** MemberAdd, run on the leader (forwarded there from a follower). */
  memberAdd(peerUrls: string[], isLearner: boolean): Promise<MemberRecord> {
    return this.peerApi.onLeader('/cluster/add', { peerUrls, isLearner });
  }

  /** MemberRemove, run on the leader. */
  memberRemove(id: bigint): Promise<void> {
    return this.peerApi.onLeader('/cluster/remove', { id: id.toString() });
  }

  /** MemberUpdate, run on the leader. */
  memberUpdate(id: bigint, peerUrls: string[]): Promise<void> {
    return this.peerApi.onLeader('/cluster/update', { id: id.toString(), peerUrls });
  }

  /** MemberPromote, run on the leader. */
  memberPromote(id: bigint): Promise<void> {
    return this.peerApi.onLeader('/cluster/promote', { id: id.toString() });
  }

  /**
   * Hands leadership to `target` (Maintenance MoveLeader; this member must be the leader).
   * Resolves once `target` leads; rejects after the request timeout (etcd's text).
   */
  async transferLeader(target: bigint): Promise<void> {
    this.driver.transferLeader(target);
    const deadline = this.clock.nowMs() + this.requestTimeoutMs();
    while (this.driver.leader !== target) {
      if (this.stopped || this.clock.nowMs() > deadline) throw new Error('etcdserver: request timed out, leader transfer took too long');
      await new Promise((r) => setTimeout(r, this.config.heartbeatMs));
    }
  }

  /** The leader's replication progress (empty on a follower). */
  progress(): Map<bigint, { match: number }> {
    return this.node.status().progress;
  }

  /** The quota in bytes (0 → 2 GiB). */
  get quotaBytes(): number {
    return this.config.quotaBackendBytes > 0 ? this.config.quotaBackendBytes : QUOTA_BACKEND_BYTES_DEFAULT;
  }

  /** Reports the duration of every WAL fdatasync, in seconds (metrics). */
  observeWalSyncs(observer: ((seconds: number) => void) | undefined): void {
    this.persistence.observeSyncs(observer);
  }

  /** Stops timers, links and listeners, fails pending work, closes the backend. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.snapshotSender.close();
    this.transport.close();
    await Promise.all(this.peerServers.map((s) => s.close()));
    this.driver.stop();
    await this.driver.idle();
    await this.compactor.idle();
    await this.persistence.close();
  }

  /** etcd ReqTimeout: 5 s + 2 × election timeout. */
  requestTimeoutMs(): number {
    return 5000 + 2 * this.config.electionMs;
  }

  private run(): void {
    this.timers.push(setInterval(() => this.driver.tick(), this.config.heartbeatMs));
    this.timers.push(setInterval(() => this.revokeExpired(), 500));
    this.timers.push(setInterval(() => this.publish(), 500));
    const voters = this.node.status().confState.voters;
    if (voters.length === 1 && voters[0] === this.memberId) {
      // A single voter campaigns at once instead of waiting an election timeout.
      this.node.campaign();
    } else {
      // etcd's initial-election-tick-advance: start close to the election timeout so a new
      // cluster elects quickly; PreVote keeps this from disturbing a cluster that has a leader.
      const electionTick = Math.max(2, Math.round(this.config.electionMs / this.config.heartbeatMs));
      for (let i = 0; i < electionTick - 2; i++) this.node.tick();
    }
    this.driver.tick();
  }

  private openRaft(loaded: LoadedRaftLog, rand: Rand): { node: RawNode; storage: MemoryRaftStorage; applied: number } {
    // No stored configuration: a data dir from before clusters existed, with this member alone.
    const cs = loaded.confState ?? { voters: [this.memberId], learners: [] };
    const storage = MemoryRaftStorage.withPeers(cs.voters, cs.learners);
    // The WAL released entries up to its compaction point: the log starts after it.
    if (loaded.compacted.index > 0) {
      storage.applySnapshot({ data: new Uint8Array(0), metadata: { index: loaded.compacted.index, term: loaded.compacted.term, confState: storage.snapshot().metadata.confState } });
    }
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
      stepDownOnRemoval: true,
      rand,
      logger: this.config.logger.child({ component: 'raft' }),
    });
    return { node, storage, applied: loaded.appliedIndex };
  }

  /**
   * Refuses a data dir that belongs to another member (a copied directory, or flags of another
   * member): the stored member's peer URLs must be the advertised ones. Without a member table
   * (an old single-member dir) the computed id must match, as before.
   */
  private checkIdentity(): void {
    const own = this.table.get(this.memberId);
    const legacy = this.backend.read((txn) => txn.get(DB.meta, META.raftConfState)) === undefined;
    const mismatch = own
      ? own.peerUrls.length > 0 && !sameUrls(own.peerUrls, this.config.peerUrls)
      : legacy && computeMemberId(this.config.peerUrls, this.config.clusterToken) !== this.memberId;
    if (mismatch) {
      const theirs = own ? own.peerUrls.join(',') : 'other peer URLs or token';
      throw new Error(`data dir ${this.config.dataDir} belongs to member ${this.memberId.toString(16)} (${theirs}), not to --initial-advertise-peer-urls ${this.config.peerUrls.join(',')} (check --initial-advertise-peer-urls and --initial-cluster-token)`);
    }
  }

  /**
   * After a Raft snapshot replaced the database: everything kept in memory is loaded again from
   * it, and watchers resync from its history (or learn it was compacted past them).
   */
  private rebuildFromBackend(): void {
    const loaded = this.kv.load();
    this.backend.read((txn) => {
      this.lessor.load(txn, loaded.attachments);
      this.alarms.load(txn);
      this.table.load(txn);
    });
    this.watches.restored();
    if (loaded.pendingCompaction) void this.compactor.finish(loaded.pendingCompaction);
    this.transport.setPeers(this.table.list());
  }

  /** Applies a validated conf change to the member table (inside the apply transaction). */
  private applyConfChange(txn: Parameters<MemberTable['put']>[0], cc: ConfChange): void {
    const ctx = decodeMemberContext(cc.context);
    const existing = this.table.get(cc.nodeId);
    switch (cc.type) {
      case ConfChangeType.AddNode:
      case ConfChangeType.AddLearnerNode:
        if (existing) this.table.put(txn, { ...existing, isLearner: false });
        else if (ctx) this.table.put(txn, { ...ctx, id: cc.nodeId, isLearner: cc.type === ConfChangeType.AddLearnerNode });
        break;
      case ConfChangeType.RemoveNode:
        this.table.remove(txn, cc.nodeId);
        break;
      case ConfChangeType.UpdateNode:
        if (existing && ctx) this.table.put(txn, { ...existing, peerUrls: ctx.peerUrls });
        break;
    }
  }

  /** After a conf change is durable: links follow the table; a removed member stops. */
  private afterConfChange(cc: ConfChange): void {
    this.transport.setPeers(this.table.list());
    if (cc.type === ConfChangeType.RemoveNode && cc.nodeId === this.memberId) this.removedFromCluster();
  }

  private removedFromCluster(): void {
    if (this.removed) return;
    this.removed = true;
    this.config.logger.warn({ member: this.memberId.toString(16) }, 'this member was removed from the cluster; stopping');
    this.config.onRemoved?.();
  }

  /**
   * Publishes this member's name and client URLs through the log (etcd ClusterMemberAttrSet),
   * once it is in the table and a leader is known; a member is "started" from then on.
   */
  private publish(): void {
    if (this.published || this.stopped || this.driver.leader === 0n) return;
    const own = this.table.get(this.memberId);
    if (!own) return; // still catching up (a joining member)
    if (own.name === this.config.name && sameUrls(own.clientUrls, this.config.clientUrls)) {
      this.published = true;
      return;
    }
    this.published = true;
    // A short deadline: a proposal lost with a dying leader is simply published again.
    const body: ApplyBody = { type: 'memberAttr', memberId: this.memberId, name: this.config.name, clientUrls: this.config.clientUrls };
    this.proposeWithin(body, '', 2 * this.config.electionMs).catch((err) => {
      this.published = false;
      this.config.logger.debug({ err }, 'publishing member attributes failed; will retry');
    });
  }

  /** Races `p` against the request timeout; on timeout runs `cleanup` and rejects with `timeout`. */
  private withTimeout<T>(p: Promise<T>, cleanup: () => void, timeoutMs = this.requestTimeoutMs()): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new CoreError('timeout'));
      }, timeoutMs);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e) => {
          clearTimeout(timer);
          reject(e);
        },
      );
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

  /** True when this member is the leader now. */
  get isLeader(): boolean {
    return this.node.basicStatus().raftState === StateType.Leader;
  }

  /** For the peer API: delivers a peer's raft message. */
  stepPeerMessage(m: Parameters<RaftDriver['step']>[0]): void {
    if (!this.stopped) this.driver.step(m);
  }

  /** For the peer API: the current leader id (0n when none). */
  get leader(): bigint {
    return this.driver.leader;
  }
}
