/**
 * The Ready loop: the only code that moves data from Raft to disk, to the store and back to
 * clients (DESIGN §1, §4; etcd `raftNode.start`). Readies are pipelined, in order:
 *
 * 1. Take the Ready. A leader sends its messages right away, in parallel with its own persist
 *    (Raft thesis §10.2.1); a follower's acks and votes promise durability, so they go out once
 *    the WAL holds this Ready and every earlier one (not waiting for the apply of step 2, as
 *    etcd's follower does not: the leader's commit then waits for one fsync, not an apply).
 * 2. Hand the Ready to the persister (raft-persistence.ts): the new log entries and the hard
 *    state go to the WAL now; the committed entries are applied, with the applied index, once
 *    the appends holding them are durable (an entry is never applied before it is durable in
 *    the log: etcd #14370), not waiting for newer entries of this Ready that they do not need.
 *    Committed entries may include entries first handed out in this same Ready (single voter,
 *    or a leader that counts its own append). Raft's in-memory storage takes the
 *    entries and `advance` runs at once, so the next Ready can be queued while this one is still
 *    being synced: up to {@link MAX_READIES_IN_FLIGHT} are in flight, and the WAL syncs
 *    everything appended meanwhile with one durable write. A Ready with nothing to persist queues no
 *    write but keeps its place in the order.
 * 3. When a Ready's apply ran (with nothing to apply: when its append is durable), in queue
 *    order: the store's readable revision moves, watchers are notified, proposers get their
 *    results, read-index waiters whose index is now durably applied are released.
 *
 * Proposals that arrive while Readies are in flight collect in Raft and go out together in the
 * next one: that is the group commit.
 */
import { WriteTxn } from '../storage/backend';
import { RaftLogStore } from '../storage/raft-log-store';
import { assert } from '../util/assert';
import { CoreError } from '../util/core-error';
import { ChurnMap } from '../util/churn-map';
import { Logger } from '../util/logger';
import { MAX_PENDING_PROPOSALS } from '../util/limits';
import { ConfChange, Entry, EntryType, Message, MessageType, SnapshotMetadata, StateType } from '../raft/types';
import { decodeConfChange, decodeConfChangeV2 } from '../raft/codec';
import { RawNode, SnapshotStatus } from '../raft/raw-node';
import { ReadIndexBatcher } from './read-index-batcher';
import { InFlight, markUnchanged, needsWrite, UNCHANGED } from './ready-work';
import { ReadyPersister } from './raft-persistence';
import { proposalError } from './proposal-error';
import { ProposalDroppedError, RaftError } from '../raft/errors';
import { MemoryRaftStorage } from '../raft/memory-raft-storage';
import { ApplyBody, ApplyRequest } from '../apply/apply-request';
import { Applier, ApplyOutcome } from '../apply/applier';
import { encodeApplyRequest, peekRequestId } from '../apply/apply-codec';
import { OwnProposal, requestOfEntry } from './own-proposal';
import { KvStore } from '../mvcc/kv-store';
import { RevisionEvents } from '../mvcc/watchable-store';

/** Hooks the driver calls after each durable Ready. */
export interface DriverHooks {
  /** Watch events of the revisions that just became durable. */
  onDurable(batches: RevisionEvents[]): void;
  /** A compaction became durable; the owner finishes it (index + physical delete). */
  onCompaction(revision: number): Promise<void>;
  /** Leadership changed (lead = 0n when there is none). */
  onLeaderChange(lead: bigint, isLeader: boolean): void;
  /** Raft messages for other members (never a MsgSnap: those go to {@link sendSnapshot}). */
  send(messages: Message[]): void;
  /**
   * A MsgSnap for a follower behind the log (optional: without it the send is reported failed).
   * The owner transfers the applied state and reports the outcome with
   * {@link RaftDriver.reportSnapshot}; the message's snapshot carries only metadata.
   */
  sendSnapshot?(m: Message): void;
  /**
   * Membership (optional: a driver without them applies conf changes to Raft only). Checks a
   * committed conf change deterministically; an error turns it into a no-op for everyone.
   */
  validateConfChange?(cc: ConfChange): CoreError | undefined;
  /** Applies a valid conf change to the member table, inside the apply transaction. */
  applyConfChange?(txn: WriteTxn, cc: ConfChange): void;
  /** A conf change (valid or not) is durable. */
  afterConfChange?(cc: ConfChange): void;
  /** Applies a member's published attributes, inside the apply transaction. */
  applyMemberAttr?(txn: WriteTxn, body: Extract<ApplyBody, { type: 'memberAttr' }>): void;
  /**
   * Replaces the applied state with the snapshot `meta` that Raft adopted (its WAL marker is
   * durable; no apply runs meanwhile). Required for a member that can receive snapshots.
   */
  installSnapshot?(meta: SnapshotMetadata): Promise<void>;
}

/** A proposal waiting for its apply; also how the proposer finds its own entries (own-proposal.ts). */
interface Waiter extends OwnProposal {
  resolve(o: ApplyOutcome): void;
  reject(e: Error): void;
}

/** Bytes of proposals sent to Raft in one MsgProp (a follower forwards it whole). */
const PROPOSAL_BATCH_BYTES = 1024 * 1024;

/**
 * Readies whose transactions may be queued at once. Beyond a few, more depth only adds
 * latency: the backend already merges everything queued into one commit.
 */
export const MAX_READIES_IN_FLIGHT = 4;

/** Drives one RawNode. */
export class RaftDriver {
  /** Proposals of this turn, not yet handed to Raft (see flushProposals). */
  private proposals: Array<{ id: bigint; data: Uint8Array }> = [];
  /** A ChurnMap: every write sets and deletes one waiter (see churn-map.ts for why not a Map). */
  private readonly waiters = new ChurnMap<bigint, Waiter>();
  private readonly confWaiters = new Map<bigint, { resolve(): void; reject(e: Error): void }>();
  private readonly logStore = new RaftLogStore();
  private inFlight = 0;
  /** Resolves when every queued transaction is durable and its follow-up work done. */
  private tail: Promise<void> = Promise.resolve();
  /** A follower's messages, each batch sent once its Ready (and every earlier one) is in the WAL. */
  private messageTail: Promise<void> = Promise.resolve();
  private scheduled = false;
  private stopped = false;
  /** Applied in memory (the write view); the queued transactions may not be durable yet. */
  private appliedIndex: number;
  /** Applied and durable: what reads may rely on. */
  private durableIndex: number;
  private lead = 0n;
  private readonly reads = new ReadIndexBatcher(
    (ctx) => this.node.readIndex(ctx),
    () => new CoreError(this.lead === 0n ? 'no-leader' : 'timeout'),
  );

  constructor(
    private readonly node: RawNode,
    private readonly raftStorage: MemoryRaftStorage,
    private readonly persistence: ReadyPersister,
    private readonly applier: Applier,
    private readonly kv: KvStore,
    private readonly hooks: DriverHooks,
    private readonly logger: Logger,
    appliedIndex: number,
    /** Decode own entries too and crash if they differ from the request applied (tests). */
    private readonly checkOwnEntries = false,
  ) {
    this.appliedIndex = appliedIndex;
    this.durableIndex = appliedIndex;
  }

  /** The index of the last applied and durable entry. */
  get applied(): number {
    return this.durableIndex;
  }

  /** Resolves once every transaction queued so far is durable and answered. */
  idle(): Promise<void> {
    return this.tail;
  }

  /** Readies queued and not yet durable (at most {@link MAX_READIES_IN_FLIGHT}). */
  get readiesInFlight(): number {
    return this.inFlight;
  }

  /** The current leader (0n when none). */
  get leader(): bigint {
    return this.lead;
  }

  /** Advances Raft's logical clock by one tick. */
  tick(): void {
    this.node.tick();
    this.reads.tick();
    this.schedule();
  }

  /**
   * Proposes a membership change; resolves once it is applied and durable here, rejects with
   * its apply-time error. Raft replaces a conf change proposed while another is pending with an
   * empty entry: that proposal never resolves, and the caller's timeout ends it ({@link forget}).
   */
  proposeConfChange(cc: ConfChange): Promise<void> {
    if (this.stopped) return Promise.reject(new CoreError('stopped'));
    return new Promise<void>((resolve, reject) => {
      try {
        this.node.proposeConfChange(cc);
      } catch (err) {
        reject(proposalError(err));
        return;
      }
      this.confWaiters.set(cc.id, { resolve, reject });
      this.schedule();
    });
  }

  /** Drops the waiter of a proposal the caller gave up on (its entry may still apply later). */
  forget(id: bigint): void {
    this.waiters.delete(id);
    this.confWaiters.delete(id);
  }

  /** Tells Raft that a message to `id` could not be delivered (it falls back to probing). */
  reportUnreachable(id: bigint): void {
    if (this.stopped) return;
    try {
      this.node.reportUnreachable(id);
    } catch (err) {
      if (!(err instanceof RaftError)) throw err;
    }
    this.schedule();
  }

  /** Reports how sending a snapshot to `id` ended (Raft leaves the snapshot state for probing). */
  reportSnapshot(id: bigint, status: SnapshotStatus): void {
    if (this.stopped) return;
    try {
      this.node.reportSnapshot(id, status);
    } catch (err) {
      if (!(err instanceof RaftError)) throw err;
    }
    this.schedule();
  }

  /** Starts a leadership transfer to `id` (this member must lead); throws `bad-leader-transferee` for a non-voter. */
  transferLeader(id: bigint): void {
    try {
      this.node.transferLeader(id);
    } catch (err) {
      if (err instanceof ProposalDroppedError) throw new CoreError(err.reason === 'transferee-not-voter' ? 'bad-leader-transferee' : 'not-leader');
      throw err;
    }
    this.schedule();
  }

  /** Delivers a message from a peer. */
  step(m: Message): void {
    try {
      this.node.step(m);
    } catch (err) {
      // A peer's bad or stale message (unknown sender, local type, malformed) is that peer's
      // problem: log and drop it, never crash on input from the network.
      if (!(err instanceof RaftError)) throw err;
      this.logger.warn({ err, from: m.from.toString(16), type: m.type }, 'dropped raft message');
      return;
    }
    this.schedule();
  }

  /** Proposes a request and resolves with its apply outcome once it is durable. */
  propose(req: ApplyRequest): Promise<ApplyOutcome> {
    if (this.stopped) return Promise.reject(new CoreError('stopped'));
    if (this.waiters.size >= MAX_PENDING_PROPOSALS) return Promise.reject(new CoreError('too-many-requests'));
    const data = encodeApplyRequest(req);
    return new Promise<ApplyOutcome>((resolve, reject) => {
      this.waiters.set(req.header.id, { resolve, reject, data, req });
      this.proposals.push({ id: req.header.id, data });
      this.schedule();
    });
  }

  /**
   * Hands the proposals of this turn to Raft in MsgProps of at most {@link PROPOSAL_BATCH_BYTES}:
   * a follower then gets one append per batch instead of one per request, and answers once.
   */
  private flushProposals(): void {
    while (this.proposals.length > 0) {
      let bytes = 0;
      let n = 0;
      while (n < this.proposals.length && (n === 0 || bytes + this.proposals[n]!.data.length <= PROPOSAL_BATCH_BYTES)) bytes += this.proposals[n++]!.data.length;
      const batch = this.proposals.splice(0, n);
      try {
        this.node.proposeBatch(batch.map((p) => p.data));
      } catch (err) {
        const e = proposalError(err);
        for (const p of batch) {
          const w = this.waiters.get(p.id);
          this.waiters.delete(p.id);
          w?.reject(e);
        }
      }
    }
  }

  /** Resolves once the local state includes every write committed before the call (ReadIndex). */
  readIndex(): Promise<void> {
    if (this.stopped) return Promise.reject(new CoreError('stopped'));
    const read = this.reads.add();
    this.schedule();
    return read;
  }

  /** Stops: pending proposals and reads fail with `stopped`. */
  stop(): void {
    this.stopped = true;
    const err = new CoreError('stopped');
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
    this.reads.failAll(err);
    for (const w of this.confWaiters.values()) w.reject(err);
    this.confWaiters.clear();
    this.proposals = [];
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flushProposals();
      this.reads.issue();
      this.pump();
    });
  }

  /** Queues Readies while there is room in the pipeline. */
  private pump(): void {
    while (!this.stopped && this.inFlight < MAX_READIES_IN_FLIGHT && this.node.hasReady()) this.queueReady();
  }

  /** Takes one Ready, queues its transaction, and advances Raft without waiting for the disk. */
  private queueReady(): void {
    const rd = this.node.ready();
    if (rd.softState) this.leaderChange(rd.softState.lead, rd.softState.raftState === StateType.Leader);
    const isLeader = this.node.basicStatus().raftState === StateType.Leader;
    if (isLeader) this.send(rd.messages);
    const work: InFlight = { outcomes: [], revision: 0, applied: 0, readStates: rd.readStates, confChanges: [] };
    // Nothing to persist (read states, a leader's heartbeats, a follower's heartbeat acks): no
    // transaction, and so no fsync, but still in queue order, so that what it releases waits for
    // every earlier transaction. A single member's linearizable read takes this path.
    if (rd.committedEntries.length === 0 && !rd.snapshot) markUnchanged(work);
    const apply = rd.committedEntries.length === 0 ? undefined : (txn: WriteTxn): void => {
      this.applyCommitted(txn, rd.committedEntries, work);
      work.revision = this.kv.currentRevision;
      work.applied = this.appliedIndex;
    };
    const snapshot = rd.snapshot ? this.snapshotStep(rd.snapshot.metadata, work) : undefined;
    let logged: Promise<void> = Promise.resolve();
    let written: Promise<void> = Promise.resolve();
    if (needsWrite(rd)) {
      let markLogged!: () => void;
      logged = new Promise<void>((resolve) => (markLogged = resolve));
      written = this.persistence.persist({
        entries: rd.entries, hardState: rd.hardState, apply, applyThrough: rd.committedEntries.at(-1)?.index, appliedIndex: () => this.appliedIndex, snapshot, mustSync: rd.mustSync, onLogged: markLogged,
      });
    }
    // Every Ready joins the chain (a leader's too: it may step down with appends in flight), so
    // a follower's messages wait for the appends of every earlier Ready, also when their own
    // Ready writes nothing or does not sync (an ack of entries already held). If the WAL fails,
    // nothing more is sent and the member exits.
    const messages = isLeader ? [] : rd.messages;
    this.messageTail = this.messageTail.then(() => logged).then(() => {
      if (messages.length > 0 && !this.stopped) this.send(messages);
    });
    // Raft reads its log from memory: it must hold the snapshot and the entries before
    // `advance`. Nothing leaves this member on their account before `written` resolves (step 3).
    if (rd.snapshot) this.raftStorage.applySnapshot(rd.snapshot);
    if (rd.entries.length) this.raftStorage.append(rd.entries);
    if (rd.hardState) this.raftStorage.setHardState(rd.hardState);
    this.node.advance(rd);
    this.inFlight++;
    this.tail = this.tail.then(() => written).then(
      () => this.durable(work),
      (err) => {
        // A failed durable write leaves memory ahead of disk: crash and recover from disk.
        this.logger.fatal({ err }, 'raft ready write failed; exiting to recover from disk');
        process.nextTick(() => {
          throw err;
        });
      },
    );
  }

  /** Step 3 for one transaction, in queue order. */
  private durable(work: InFlight): void {
    this.inFlight--;
    if (this.stopped) return;
    if (work.applied !== UNCHANGED) {
      this.durableIndex = work.applied;
      this.afterDurable(work.outcomes, work.revision);
    }
    this.confChangesDurable(work.confChanges);
    this.reads.collect(work.readStates);
    this.reads.release(this.durableIndex);
    this.schedule();
  }

  /**
   * The install of a snapshot Raft adopted, run by the persister in apply order once its WAL
   * marker is durable: the state jumps to the snapshot's index and revision.
   */
  private snapshotStep(meta: SnapshotMetadata, work: InFlight): { meta: SnapshotMetadata; install(): Promise<void> } {
    const install = this.hooks.installSnapshot;
    assert(install !== undefined, 'a snapshot was adopted by a member that cannot install one');
    return {
      meta,
      install: async () => {
        await install(meta);
        this.appliedIndex = meta.index;
        work.applied = meta.index;
        work.revision = this.kv.currentRevision;
      },
    };
  }

  /** Sends messages; a MsgSnap goes to the snapshot transfer (its data is produced on demand). */
  private send(messages: Message[]): void {
    if (!messages.some((m) => m.type === MessageType.MsgSnap)) return this.hooks.send(messages);
    const rest: Message[] = [];
    for (const m of messages) {
      if (m.type !== MessageType.MsgSnap) rest.push(m);
      else if (this.hooks.sendSnapshot) this.hooks.sendSnapshot(m);
      else setImmediate(() => this.reportSnapshot(m.to, 'failure'));
    }
    this.hooks.send(rest);
  }

  private applyCommitted(txn: WriteTxn, entries: Entry[], work: InFlight): void {
    let last: Entry | undefined;
    for (const e of entries) {
      last = e;
      if (e.index <= this.appliedIndex) continue; // already applied before a restart
      if (e.type === EntryType.ConfChange) {
        work.confChanges.push(this.applyConfChange(txn, decodeConfChange(e.data)));
        continue;
      }
      if (e.type === EntryType.ConfChangeV2) {
        // Never proposed by this server (etcd uses v1); applied to Raft so the logs stay usable.
        this.logStore.setConfState(txn, this.node.applyConfChange(decodeConfChangeV2(e.data)));
        continue;
      }
      if (e.data.length === 0) continue; // a new leader's empty entry
      const id = peekRequestId(e.data);
      const req = requestOfEntry(e.data, id === undefined ? undefined : this.waiters.get(id), this.checkOwnEntries);
      if (req.body.type === 'memberAttr') this.hooks.applyMemberAttr?.(txn, req.body);
      work.outcomes.push({ req, outcome: this.applier.apply(txn, req) });
    }
    if (last && last.index > this.appliedIndex) {
      this.applier.setConsistentIndex(txn, last.index, last.term);
      this.appliedIndex = last.index;
    }
  }

  /**
   * One committed conf change (etcd `applyConfChange`): an invalid one is applied to Raft with
   * node id 0, a no-op that still lets Raft accept the next change; a valid one changes Raft's
   * configuration and the member table. The conf state is stored with the applied index.
   */
  private applyConfChange(txn: WriteTxn, cc: ConfChange): { cc: ConfChange; error?: CoreError } {
    const error = this.hooks.validateConfChange?.(cc);
    const cs = this.node.applyConfChange(error ? { ...cc, nodeId: 0n } : cc);
    this.logStore.setConfState(txn, cs);
    if (!error) this.hooks.applyConfChange?.(txn, cc);
    return { cc, error };
  }

  /** Answers the proposers of durable conf changes and tells the owner. */
  private confChangesDurable(changes: Array<{ cc: ConfChange; error?: CoreError }>): void {
    for (const { cc, error } of changes) {
      const w = this.confWaiters.get(cc.id);
      if (w && cc.id !== 0n) {
        this.confWaiters.delete(cc.id);
        if (error) w.reject(error);
        else w.resolve();
      }
      this.hooks.afterConfChange?.(cc);
    }
  }

  private afterDurable(outcomes: Array<{ req: ApplyRequest; outcome: ApplyOutcome }>, revision: number): void {
    this.kv.markDurable(revision);
    const batches: RevisionEvents[] = [];
    for (const { outcome } of outcomes) {
      if (outcome.events.length) batches.push({ revision: outcome.revision, events: outcome.events });
    }
    this.hooks.onDurable(batches);
    for (const { req, outcome } of outcomes) {
      if (outcome.compaction) {
        const done = this.hooks.onCompaction(outcome.compaction.revision);
        if (outcome.compaction.physical) {
          const w = this.waiters.get(req.header.id);
          this.waiters.delete(req.header.id);
          if (w) done.then(() => w.resolve(outcome), (e) => w.reject(e));
          continue;
        }
      }
      const w = this.waiters.get(req.header.id);
      if (!w) continue;
      this.waiters.delete(req.header.id);
      w.resolve(outcome);
    }
  }

  private leaderChange(lead: bigint, isLeader: boolean): void {
    if (lead === this.lead) return;
    const hadLeader = this.lead !== 0n;
    this.lead = lead;
    // Reads waiting on the old leader's ReadIndex will never be answered: fail them so the
    // client retries (etcd: `leader changed`).
    if (hadLeader) this.reads.leaderChanged();
    assert(!isLeader || lead !== 0n, 'leader without a lead id');
    this.hooks.onLeaderChange(lead, isLeader);
  }
}
