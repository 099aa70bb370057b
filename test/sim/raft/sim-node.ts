/**
 * One simulated member: a RawNode over a {@link SimDisk}, driven by the book (persist, fsync
 * when the Ready says so, send, apply, advance), with a state machine that is a running hash of
 * the applied entries plus a {@link KvStateMachine} for the simulated clients and watchers. A
 * canary can make the driver break the contract on purpose.
 */
import { decodeConfChange, decodeConfChangeV2 } from '../../../core/raft/codec';
import { RaftError } from '../../../core/raft/errors';
import { MemoryRaftStorage } from '../../../core/raft/memory-raft-storage';
import { RawNode } from '../../../core/raft/raw-node';
import type { Ready } from '../../../core/raft/ready';
import { EntryType, type Message, StateType } from '../../../core/raft/types';
import type { SeededRand } from '../../../core/util/rand';
import { type KvApplyResult, KvStateMachine } from './kv-state-machine';
import { type SafetyChecker, chainHash } from './safety-checker';
import { SimDisk } from './sim-disk';

/**
 * Deliberate bugs that the checkers must catch: `no-fsync` (the driver never fsyncs, so a crash
 * loses acknowledged entries and votes), `stale-vote` (voters ignore the election restriction,
 * thesis §3.6.1, so a candidate missing committed entries can win), `read-no-quorum` (a leader
 * answers ReadIndex without a heartbeat round, so a deposed leader serves stale reads),
 * `stale-read` (clients' gets are served from the contacted member's local state without
 * ReadIndex, so a lagging follower answers with old data), `watch-dup` (a watcher resuming
 * after its member restarts starts at its last seen revision instead of the one after it) and
 * `watch-skip` (a member that installs a snapshot moves its watchers to the snapshot's
 * revision without replaying the history they missed).
 */
export type Canary = 'none' | 'no-fsync' | 'stale-vote' | 'read-no-quorum' | 'stale-read' | 'watch-dup' | 'watch-skip';

/** Every canary, for tests that prove each one is caught. */
export const CANARIES: Canary[] = ['no-fsync', 'stale-vote', 'read-no-quorum', 'stale-read', 'watch-dup', 'watch-skip'];

/** What the rest of the simulation learns from a member as it processes Readies. */
export interface SimNodeObserver {
  /** Entry `index` was applied on member `id` with this effect on its KV state. */
  applied(id: bigint, index: number, result: KvApplyResult): void;
  /** Member `id` replaced its state with a snapshot at `index`. */
  snapshotInstalled(id: bigint, index: number): void;
  /** A ReadIndex answer for `ctx` arrived on member `id`. */
  readState(id: bigint, ctx: string, index: number): void;
}

/** How a member is configured and driven. */
export interface SimNodeOptions {
  canary: Canary;
  /** Raft's CheckQuorum (a leader steps down when it stops hearing from a quorum). */
  checkQuorum: boolean;
}

/** Bytes before the KV state in a snapshot: applied index (float64) and running hash (uint32). */
const SNAPSHOT_HEADER = 12;

/** Compaction policy: snapshot when this many entries are applied past the snapshot... */
const SNAPSHOT_EVERY = 40;
/** ...and keep this many entries for slow followers. */
const KEEP_ENTRIES = 10;

/** A member of the simulated cluster. */
export class SimNode {
  node: RawNode | undefined;
  readonly disk: SimDisk;
  /** The state machine: applied index and running hash (durable when applied). */
  applied = 0;
  hash = 0x811c9dc5;
  /** The KV state, durable together with `applied` (it survives crashes, as the hash does). */
  readonly kv = new KvStateMachine();
  private wasLeader = false;

  constructor(
    readonly id: bigint,
    peers: bigint[],
    private readonly rand: SeededRand,
    private readonly checker: SafetyChecker,
    private readonly options: SimNodeOptions,
    private readonly send: (m: Message) => void,
    private readonly observer: SimNodeObserver,
  ) {
    this.disk = new SimDisk(() => MemoryRaftStorage.withPeers(peers));
    this.start();
  }

  get up(): boolean {
    return this.node !== undefined;
  }

  private start(): void {
    this.node = new RawNode({
      id: this.id,
      electionTick: 10,
      heartbeatTick: 1,
      storage: this.disk.storage,
      applied: this.applied,
      maxSizePerMsg: 4096,
      maxUncommittedEntriesSize: 1 << 20,
      maxInflightMsgs: 16,
      checkQuorum: this.options.checkQuorum,
      preVote: true,
      readOnlyOption: 'safe',
      rand: this.rand,
    });
    this.wasLeader = false;
  }

  /** Power loss: volatile state and unsynced writes are gone. */
  crash(): void {
    this.node = undefined;
    this.disk.crash();
  }

  /** Restart from the durable disk (the state machine survived with its applied index). */
  restart(): void {
    this.checker.restarted(this.id, this.applied, this.disk.storage.lastIndex());
    this.start();
  }

  /** Steps a message from the network; expected raft errors are a driver's log line. */
  deliver(m: Message): void {
    try {
      this.node!.step(m);
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
    }
    this.drain();
  }

  tick(): void {
    this.node!.tick();
    this.drain();
  }

  /** Processes Readies until there are none (bounded). */
  drain(): void {
    const n = this.node!;
    for (let i = 0; i < 100 && n.hasReady(); i++) this.processReady(n.ready());
    this.observeLeadership();
  }

  private observeLeadership(): void {
    const r = this.node!.raft;
    const leader = r.state === StateType.Leader;
    if (leader) {
      this.checker.leader(this.id, r.term);
      if (!this.wasLeader) this.checker.becameLeader(this.id, r.term, r.raftLog);
    }
    this.wasLeader = leader;
  }

  private processReady(rd: Ready): void {
    const n = this.node!;
    const disk = this.disk;
    if (rd.snapshot) disk.writeSnapshot(rd.snapshot);
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      let prevTerm: number | undefined;
      try {
        prevTerm = first > 1 ? disk.storage.term(first - 1) : 0;
      } catch {
        prevTerm = undefined; // compacted or (snapshot) unavailable: unknown
      }
      disk.writeEntries(rd.entries);
      this.checker.persisted(this.id, rd.entries, prevTerm);
    }
    if (rd.hardState) disk.writeHardState(rd.hardState);
    if (rd.mustSync && this.options.canary !== 'no-fsync') disk.sync();
    for (const m of rd.messages) this.send(m);
    for (const rs of rd.readStates) {
      const ctx = new TextDecoder().decode(rs.requestCtx);
      this.checker.readAnswered(this.id, ctx, rs.index);
      this.observer.readState(this.id, ctx, rs.index);
    }
    if (rd.snapshot) this.installSnapshot(rd.snapshot.metadata.index, rd.snapshot.data);
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange) n.applyConfChange(decodeConfChange(e.data));
      else if (e.type === EntryType.ConfChangeV2) n.applyConfChange(decodeConfChangeV2(e.data));
      this.hash = chainHash(this.hash, e);
      this.applied = e.index;
      this.checker.appliedEntry(this.id, e, this.hash);
      this.observer.applied(this.id, e.index, e.type === EntryType.Normal ? this.kv.apply(e.data) : { kind: 'other' });
    }
    n.advance(rd);
    this.maybeCompact();
  }

  private installSnapshot(index: number, data: Uint8Array): void {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.length < SNAPSHOT_HEADER || view.getFloat64(0) !== index) throw new Error(`bad snapshot data at ${index}`);
    this.applied = index;
    this.hash = view.getUint32(8);
    this.checker.installedSnapshot(this.id, index, this.hash);
    this.kv.restore(data.subarray(SNAPSHOT_HEADER));
    this.observer.snapshotInstalled(this.id, index);
  }

  private maybeCompact(): void {
    const s = this.disk.storage;
    const snapIndex = s.snapshot().metadata.index;
    if (this.applied - snapIndex < SNAPSHOT_EVERY || this.applied > s.lastIndex()) return;
    const kv = this.kv.encode();
    const data = new Uint8Array(SNAPSHOT_HEADER + kv.length);
    const view = new DataView(data.buffer);
    view.setFloat64(0, this.applied);
    view.setUint32(8, this.hash);
    data.set(kv, SNAPSHOT_HEADER);
    this.disk.snapshotAndCompact(this.applied, data, Math.max(this.applied - KEEP_ENTRIES, snapIndex + 1));
  }
}
