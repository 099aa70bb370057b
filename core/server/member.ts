/**
 * One member: opens the data directory, settles its identity (first boot or restart), rebuilds
 * state, runs Raft through the driver with the peer transport, and offers the in-process API
 * that the gRPC services and zkproxy's local backend call. Every write goes propose → commit →
 * durable apply → answer (a follower's proposal is forwarded to the leader by Raft and answered
 * when this member applies it); reads are served at the durable revision, after a ReadIndex
 * round unless serializable. Membership lives in the durable member table, changed only by
 * applied log entries.
 */
import { StorageUsage, storageUsage } from './storage-usage';
import { mkdirSync, accessSync, constants as fsConstants } from 'node:fs';
import { LmdbBackend } from '../storage/lmdb-backend';
import { DataDirLock } from '../storage/data-dir-lock';
import { refuseForeignDataDir } from './foreign-data-dir';
import { Backend } from '../storage/backend';
import { DB, META } from '../storage/schema';
import { LoadedRaftLog } from '../storage/raft-log-store';
import { RaftPersistence } from './raft-persistence';
import { Clock, SystemClock } from '../util/clock';
import { CryptoRand } from '../util/rand';
import { IdGenerator } from '../util/id-generator';
import { withTimeout } from '../util/with-timeout';
import { DeadlineQueue } from '../util/deadline-queue';
import { QUOTA_BACKEND_BYTES_DEFAULT, COMPACTION_BATCH_LIMIT } from '../util/limits';
import { KvStore } from '../mvcc/kv-store';
import { WatchableStore } from '../mvcc/watchable-store';
import { Lessor } from '../lease/lessor';
import { AlarmStore } from '../apply/alarm-store';
import { Applier, ApplyOutcome } from '../apply/applier';
import { ApplyBody } from '../apply/apply-request';
import { RawNode } from '../raft/raw-node';
import { ProgressStatus } from '../raft/status';
import { MemoryRaftStorage } from '../raft/memory-raft-storage';
import { ConfChange, ConfChangeType, MessageType, newMessage, StateType } from '../raft/types';
import { computeMemberId } from '../cluster/member-id';
import { MemberRecord, MemberTable } from '../cluster/member-table';
import { sameUrls } from '../cluster/initial-cluster';
import { RaftDriver } from './raft-driver';
import { createRaftNode } from './raft-node-factory';
import { Header, MemberConfig, MemberInfo } from './member-config';

export { MEMBER_DEFAULTS } from './member-config';
export type { Header, MemberConfig, MemberInfo } from './member-config';
import { Compactor } from './compactor';
import { LeaseRevoker } from './lease-revoker';
import { PeerTransport } from './peer-transport';
import { PeerServer } from './peer-server';
import { loadOrBootIdentity } from './cluster-first-write';
import { ClusterMembership, applyConfChangeToTable, validateConfChange } from './cluster-membership';
import { ClusterPeerApi } from './cluster-peer-api';
import { SnapshotBackendSlot } from './snapshot-backend-slot';
import { SnapshotReceiver } from './snapshot-receiver';
import { MemberSnapshots } from './member-snapshots';
import { recoverSnapshotInstall } from './snapshot-recovery';

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
  private readonly snapshots: MemberSnapshots;
  private readonly compactor: Compactor;
  private readonly peerApi: ClusterPeerApi;
  private readonly timers: NodeJS.Timeout[] = [];
  private peerServers: PeerServer[] = [];
  /** Held from start to stop: no other process may use the data dir meanwhile. */
  private dataDirLock: DataDirLock | undefined;
  private published = false;
  private removed = false;
  private stopped = false;
  /** The request timeout of proposals and linearizable reads (one timer for all of them). */
  private readonly deadlines: DeadlineQueue;

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
    this.deadlines = new DeadlineQueue(this.requestTimeoutMs());
    const log = config.logger;
    this.memberId = identity.memberId;
    this.clusterId = identity.clusterId;
    this.kv = new KvStore(backend);
    const loaded = this.kv.load((records) => log.info({ records }, 'rebuilding the key index from the backend'));
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
    const { node, storage, applied } = createRaftNode(this.memberId, loadedLog, config, config.rand ?? new CryptoRand());
    this.node = node;
    this.raftStorage = storage;
    this.snapshots = new MemberSnapshots({
      memberDir: config.dataDir + '/member',
      localId: this.memberId,
      clusterId: this.clusterId,
      snapshotCount: config.snapshotCount,
      catchUpEntries: config.snapshotCatchUpEntries,
      noSync: config.unsafeNoFsync,
      storage,
      persistence,
      slot,
      urlsOf: (id) => this.table.get(id)?.peerUrls,
      report: (id, status) => this.driver.reportSnapshot(id, status),
      deliver: (h) => this.stepPeerMessage(newMessage({
        type: MessageType.MsgSnap,
        from: h.from,
        to: this.memberId,
        term: h.msgTerm,
        snapshot: { data: new Uint8Array(0), metadata: { index: h.index, term: h.term, confState: h.confState } },
      })),
      quiesce: () => this.compactor.idle(),
      rebuild: () => this.rebuildFromBackend(),
      logger: log,
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
      sendSnapshot: (m) => this.snapshots.sender.send(m),
      installSnapshot: (meta) => this.snapshots.installer.install(meta),
      validateConfChange: (cc) => validateConfChange(this.table, cc),
      applyConfChange: (txn, cc) => applyConfChangeToTable(this.table, txn, cc),
      afterConfChange: (cc) => this.afterConfChange(cc),
      applyMemberAttr: (txn, body) => {
        // A negative id (the bit pattern of one ≥ 2^63) would name the same member.
        const m = this.table.get(BigInt.asUintN(64, body.memberId));
        if (m) this.table.put(txn, { ...m, name: body.name, clientUrls: body.clientUrls });
      },
    }, log.child({ component: 'raft' }), applied, config.checkOwnEntries);
    this.membership = new ClusterMembership({
      table: this.table,
      localId: this.memberId,
      clusterToken: config.clusterToken,
      activeSince: (id) => this.transport.activeSince(id),
      progress: () => this.node.status().progress,
      proposeConfChange: (cc) => withTimeout(this.driver.proposeConfChange(cc), this.requestTimeoutMs(), () => this.driver.forget(cc.id)),
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
    refuseForeignDataDir(config.dataDir);
    // Before anything reads or writes the directory: another live member may own it.
    const lock = await DataDirLock.acquire(config.dataDir);
    const memberDir = config.dataDir + '/member';
    let lmdb: LmdbBackend | undefined;
    let m: Member;
    let persistence: RaftPersistence | undefined;
    try {
      await recoverSnapshotInstall(memberDir, config.logger.child({ component: 'snapshot-recovery' }));
      lmdb = LmdbBackend.open({ path: memberDir, noSync: config.unsafeNoFsync });
      // Under the write buffer, so that installing a Raft snapshot can replace the database.
      const slot = new SnapshotBackendSlot(lmdb);
      const identity = await loadOrBootIdentity(config, slot);
      const opened = await RaftPersistence.open({ dir: memberDir, state: slot, noSync: config.unsafeNoFsync, logger: config.logger.child({ component: 'wal' }) });
      persistence = opened.persistence;
      m = new Member(config, persistence, opened.loaded, identity, slot);
      m.dataDirLock = lock;
      m.peerServers = await m.listenPeers();
    } catch (err) {
      if (persistence) await persistence.close();
      else await lmdb?.close();
      await lock.release();
      throw err;
    }
    m.run();
    return m;
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
  propose(body: ApplyBody, username = ''): Promise<ApplyOutcome> {
    return this.proposeWithin(body, username);
  }

  /** `timeoutMs` defaults to the request timeout (tracked by {@link deadlines}). */
  private async proposeWithin(body: ApplyBody, username: string, timeoutMs?: number): Promise<ApplyOutcome> {
    const id = this.ids.next();
    const proposed = this.driver.propose({ header: { id, username, authRevision: 0 }, body });
    const forget = (): void => this.driver.forget(id);
    const outcome = await (timeoutMs === undefined ? this.deadlines.within(proposed, forget) : withTimeout(proposed, timeoutMs, forget));
    if (outcome.error) throw outcome.error;
    return outcome;
  }

  /** Waits until local state reflects every write committed before the call (linearizable read). */
  linearize(): Promise<void> {
    return this.deadlines.within(this.driver.readIndex(), () => {});
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
      ...this.snapshots.counts(),
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
  progress(): Map<bigint, ProgressStatus> {
    return this.node.status().progress;
  }

  /** The quota in bytes (0 → 2 GiB). */
  get quotaBytes(): number {
    return this.config.quotaBackendBytes > 0 ? this.config.quotaBackendBytes : QUOTA_BACKEND_BYTES_DEFAULT;
  }

  /** Reports the duration of every WAL group commit (its durable write), in seconds (metrics). */
  observeWalSyncs(observer: ((seconds: number) => void) | undefined): void {
    this.persistence.observeSyncs(observer);
  }

  /** Stops timers, links and listeners, fails pending work, closes the backend. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.snapshots.close();
    this.transport.close();
    await Promise.all(this.peerServers.map((s) => s.close()));
    this.driver.stop();
    await this.driver.idle();
    await this.compactor.idle();
    await this.persistence.close();
    await this.dataDirLock?.release();
  }

  /** etcd ReqTimeout: 5 s + 2 × election timeout. */
  requestTimeoutMs(): number {
    return 5000 + 2 * this.config.electionMs;
  }

  private run(): void {
    this.timers.push(setInterval(() => this.driver.tick(), this.config.heartbeatMs));
    const revoker = new LeaseRevoker(this.lessor, (id) => this.propose({ type: 'leaseRevoke', id }), this.config.logger);
    this.timers.push(setInterval(() => {
      if (!this.stopped) revoker.revokeExpired();
    }, 500));
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

  private leaderChanged(lead: bigint, isLeader: boolean): void {
    this.config.logger.info({ leader: lead.toString(16), isLeader }, 'leader changed');
    if (isLeader) this.lessor.promote(this.config.electionMs);
    else this.lessor.demote();
  }

  /** Receives the leader's snapshots (the peer server hands it `POST /raft/snapshot`). */
  get snapshotReceiver(): SnapshotReceiver {
    return this.snapshots.receiver;
  }

  /** True when this member is the leader now. */
  get isLeader(): boolean {
    return this.node.basicStatus().raftState === StateType.Leader;
  }

  /** For the peer API: delivers a peer's raft message. */
  stepPeerMessage(m: Parameters<RaftDriver['step']>[0]): void {
    if (!this.stopped) this.driver.step(m);
  }

  /** What the data dir holds now: the state and the log, in bytes (monitoring). */
  storageUsage(): StorageUsage {
    return storageUsage(this.config.dataDir);
  }

  /** For the peer API: the current leader id (0n when none). */
  get leader(): bigint {
    return this.driver.leader;
  }
}
