/**
 * The Ready loop: the only code that moves data from Raft to disk, to the store and back to
 * clients (DESIGN §1, §4; etcd `raftNode.start`). Readies are pipelined, in order:
 *
 * 1. Take the Ready. A leader sends its messages right away, in parallel with its own persist
 *    (Raft thesis §10.2.1); a follower sends only after step 3, because its acks and votes
 *    promise durability.
 * 2. Queue one backend write transaction holding the new log entries, the hard state, and the
 *    application of the committed entries together with the applied index. Committed entries
 *    may include entries first handed out in this same Ready (single voter, or a leader that
 *    counts its own append): they become durable in the same transaction before anyone is
 *    answered (etcd #14370). Raft's in-memory storage takes the entries and `advance` runs at
 *    once, so the next Ready can be queued while this one is still being fsynced: up to
 *    {@link MAX_READIES_IN_FLIGHT} transactions are in flight, and the backend commits queued
 *    transactions together (one fsync for several Readies). Transactions apply in queue order.
 * 3. When a transaction is durable (in queue order): the store's readable revision moves,
 *    watchers are notified, proposers get their results, follower messages go out, read-index
 *    waiters whose index is now durably applied are released.
 *
 * Proposals that arrive while Readies are in flight collect in Raft and go out together in the
 * next one: that is the group commit.
 */
import { Backend, WriteTxn } from '../storage/backend';
import { RaftLogStore } from '../storage/raft-log-store';
import { assert } from '../util/assert';
import { CoreError } from '../util/core-error';
import { Logger } from '../util/logger';
import { MAX_PENDING_PROPOSALS } from '../util/limits';
import { Entry, EntryType, Message, ReadState, StateType } from '../raft/types';
import { RawNode } from '../raft/raw-node';
import { ProposalDroppedError, RaftError } from '../raft/errors';
import { MemoryRaftStorage } from '../raft/memory-raft-storage';
import { ApplyRequest } from '../apply/apply-request';
import { Applier, ApplyOutcome } from '../apply/applier';
import { decodeApplyRequest, encodeApplyRequest } from '../apply/apply-codec';
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
  /** Raft messages for other members. */
  send(messages: Message[]): void;
}

interface Waiter {
  resolve(o: ApplyOutcome): void;
  reject(e: Error): void;
}

/** The work that waits for one queued transaction to become durable. */
interface InFlight {
  outcomes: Array<{ req: ApplyRequest; outcome: ApplyOutcome }>;
  /** Messages to send once durable (a follower's acks and votes). */
  messages: Message[];
  /** The store's current revision after this transaction's applies. */
  revision: number;
  /** The applied index after this transaction. */
  applied: number;
  readStates: ReadState[];
}

/**
 * Readies whose transactions may be queued at once. Beyond a few, more depth only adds
 * latency: the backend already merges everything queued into one commit.
 */
export const MAX_READIES_IN_FLIGHT = 4;

interface ReadWaiter {
  resolve(): void;
  reject(e: Error): void;
}

/** Drives one RawNode. */
export class RaftDriver {
  private readonly waiters = new Map<bigint, Waiter>();
  private readonly logStore = new RaftLogStore();
  private inFlight = 0;
  /** Resolves when every queued transaction is durable and its follow-up work done. */
  private tail: Promise<void> = Promise.resolve();
  private scheduled = false;
  private stopped = false;
  /** Applied in memory (the write view); the queued transactions may not be durable yet. */
  private appliedIndex: number;
  /** Applied and durable: what reads may rely on. */
  private durableIndex: number;
  private lead = 0n;
  private readBatch: ReadWaiter[] = [];
  private readonly readsInFlight = new Map<string, ReadWaiter[]>();
  private readsAwaitingApply: Array<{ index: number; waiters: ReadWaiter[] }> = [];
  private readSeq = 0;

  constructor(
    private readonly node: RawNode,
    private readonly raftStorage: MemoryRaftStorage,
    private readonly backend: Backend,
    private readonly applier: Applier,
    private readonly kv: KvStore,
    private readonly hooks: DriverHooks,
    private readonly logger: Logger,
    appliedIndex: number,
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

  /** The current leader (0n when none). */
  get leader(): bigint {
    return this.lead;
  }

  /** Advances Raft's logical clock by one tick. */
  tick(): void {
    this.node.tick();
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
      try {
        this.node.propose(data);
      } catch (err) {
        reject(proposalError(err));
        return;
      }
      this.waiters.set(req.header.id, { resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once the local state includes every write committed before the call (ReadIndex). */
  readIndex(): Promise<void> {
    if (this.stopped) return Promise.reject(new CoreError('stopped'));
    return new Promise<void>((resolve, reject) => {
      this.readBatch.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Stops: pending proposals and reads fail with `stopped`. */
  stop(): void {
    this.stopped = true;
    const err = new CoreError('stopped');
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
    for (const r of this.readBatch) r.reject(err);
    for (const rs of this.readsInFlight.values()) for (const r of rs) r.reject(err);
    for (const a of this.readsAwaitingApply) for (const r of a.waiters) r.reject(err);
    this.readBatch = [];
    this.readsInFlight.clear();
    this.readsAwaitingApply = [];
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.issueReadIndex();
      this.pump();
    });
  }

  /** One ReadIndex for every read queued since the last one (batching, etcd's read loop). */
  private issueReadIndex(): void {
    if (this.readBatch.length === 0) return;
    const ctx = Buffer.alloc(8);
    ctx.writeUIntBE(++this.readSeq, 2, 6);
    const batch = this.readBatch;
    this.readBatch = [];
    try {
      this.node.readIndex(ctx);
    } catch {
      const err = new CoreError(this.lead === 0n ? 'no-leader' : 'timeout');
      for (const r of batch) r.reject(err);
      return;
    }
    this.readsInFlight.set(ctx.toString('hex'), batch);
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
    if (isLeader) this.hooks.send(rd.messages);
    const work: InFlight = { outcomes: [], messages: isLeader ? [] : rd.messages, revision: 0, applied: 0, readStates: rd.readStates };
    const written = this.backend.write((txn) => {
      this.logStore.append(txn, rd.entries);
      if (rd.hardState) this.logStore.setHardState(txn, rd.hardState);
      this.applyCommitted(txn, rd.committedEntries, work.outcomes);
      work.revision = this.kv.currentRevision;
      work.applied = this.appliedIndex;
    });
    // Raft reads its log from memory: it must hold the entries before `advance`. Nothing
    // leaves this member on their account before `written` resolves (step 3).
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
    this.durableIndex = work.applied;
    this.afterDurable(work.outcomes, work.revision);
    this.hooks.send(work.messages);
    this.collectReadStates(work.readStates);
    this.releaseReads();
    this.schedule();
  }

  private applyCommitted(txn: WriteTxn, entries: Entry[], out: Array<{ req: ApplyRequest; outcome: ApplyOutcome }>): void {
    let last: Entry | undefined;
    for (const e of entries) {
      last = e;
      if (e.index <= this.appliedIndex) continue; // already applied before a restart
      if (e.type !== EntryType.Normal || e.data.length === 0) continue; // empty leader entry / conf change (cluster issue)
      const req = decodeApplyRequest(e.data);
      out.push({ req, outcome: this.applier.apply(txn, req) });
    }
    if (last && last.index > this.appliedIndex) {
      this.applier.setConsistentIndex(txn, last.index, last.term);
      this.appliedIndex = last.index;
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

  private collectReadStates(states: ReadState[]): void {
    for (const rs of states) {
      const key = Buffer.from(rs.requestCtx).toString('hex');
      const waiters = this.readsInFlight.get(key);
      if (!waiters) continue;
      this.readsInFlight.delete(key);
      this.readsAwaitingApply.push({ index: rs.index, waiters });
    }
  }

  private releaseReads(): void {
    if (this.readsAwaitingApply.length === 0) return;
    const still: Array<{ index: number; waiters: ReadWaiter[] }> = [];
    for (const r of this.readsAwaitingApply) {
      if (r.index <= this.durableIndex) for (const w of r.waiters) w.resolve();
      else still.push(r);
    }
    this.readsAwaitingApply = still;
  }

  private leaderChange(lead: bigint, isLeader: boolean): void {
    if (lead === this.lead) return;
    const hadLeader = this.lead !== 0n;
    this.lead = lead;
    if (hadLeader) {
      // Reads waiting on the old leader's ReadIndex will never be answered: fail them so the
      // client retries (etcd: `leader changed`).
      const err = new CoreError('leader-changed');
      for (const rs of this.readsInFlight.values()) for (const r of rs) r.reject(err);
      this.readsInFlight.clear();
    }
    assert(!isLeader || lead !== 0n, 'leader without a lead id');
    this.hooks.onLeaderChange(lead, isLeader);
  }
}

/** The etcd error for a proposal Raft refused (etcd.md §2.10: clients retry on Unavailable). */
function proposalError(err: unknown): CoreError {
  if (!(err instanceof ProposalDroppedError)) throw err;
  switch (err.reason) {
    case 'no-leader':
    case 'forwarding-disabled':
      return new CoreError('no-leader');
    case 'transfer-in-progress':
      return new CoreError('leader-changed');
    case 'uncommitted-size-limit':
      return new CoreError('too-many-requests');
    default:
      return new CoreError('not-capable', err.reason);
  }
}
