/**
 * A deterministic simulation of a raft cluster (TigerBeetle/FoundationDB style): simulated
 * time, a network that drops, delays, duplicates and reorders messages and partitions the
 * cluster, and crashes that lose unsynced writes. Everything random comes from one seed, so a
 * failing run replays exactly: `npm run sim -- --seed=N`.
 *
 * A run has a fault phase followed by a heal phase (no faults, everyone up, no new proposals
 * towards the end); afterwards all members must have converged to the same applied state.
 * Safety is checked continuously by {@link SafetyChecker}.
 *
 * On top of raft, the members run a KV state machine: {@link SimClients} put and read through
 * them and record a history that must be linearizable ({@link checkLinearizable}, at the end of
 * the run), and {@link SimWatchers} follow each member's applied changes under the
 * {@link WatchOrderChecker} (continuously, and for completeness at the end).
 */
import { ProposalDroppedError } from '../../../core/raft/errors';
import { RaftLog } from '../../../core/raft/raft-log';
import { ProgressTracker } from '../../../core/raft/tracker/progress-tracker';
import { AssertionError } from '../../../core/util/assert';
import { type Message, MessageType, StateType } from '../../../core/raft/types';
import { SeededRand } from '../../../core/util/rand';
import { checkLinearizable } from '../../support/linearizability';
import { WatchOrderChecker } from '../watch-order-checker';
import { EventQueue } from './event-queue';
import type { KvApplyResult } from './kv-state-machine';
import { SafetyChecker, SimViolation } from './safety-checker';
import { SimClients } from './sim-clients';
import { type Canary, SimNode, type SimNodeObserver } from './sim-node';
import { SimWatchers } from './sim-watchers';

/** Parameters of one run. */
export interface SimOptions {
  seed: number;
  nodes: number;
  /** Simulated milliseconds with faults, then without. */
  faultMs: number;
  healMs: number;
  canary: Canary;
  /** Receives a line per notable event (crash, partition...) when set. */
  trace?: (line: string) => void;
  /**
   * Raft's CheckQuorum on every member. Default: on, except when seed % 3 === 0, so that both
   * configurations are exercised (without it a partitioned leader stays leader much longer).
   */
  checkQuorum?: boolean;
  /** The SafetyChecker's ReadIndex bound (default on); see {@link SafetyChecker}. */
  checkReadFloor?: boolean;
  /** Wall-clock budget of the end-of-run linearizability check (default 10 s). */
  checkBudgetMs?: number;
}

/** What a run did. */
export interface SimResult {
  seed: number;
  violation?: string;
  elections: number;
  committed: number;
  reads: number;
  crashes: number;
  partitions: number;
  messages: number;
  /** Client operations recorded, and how many of them are indeterminate. */
  ops: number;
  indeterminate: number;
  /** Watch events delivered, and watchers opened. */
  watchEvents: number;
  watchers: number;
  /**
   * The end-of-run linearizability check of the client history: 'unknown' if the search ran out
   * of its budget (nothing proved either way), 'not checked' if the run stopped earlier.
   */
  linearizability: 'ok' | 'unknown' | 'not checked';
}

const TICK_MS = 10;

type SimEvent =
  | { kind: 'tick'; id: bigint }
  | { kind: 'deliver'; m: Message }
  | { kind: 'restart'; id: bigint }
  | { kind: 'heal' }
  | { kind: 'timer'; fn: () => void };

/** The network's fault knobs during the fault phase. */
const FAULTS = {
  dropRate: 0.05,
  duplicateRate: 0.02,
  minDelayMs: 1,
  maxDelayMs: 30,
  /** Per tick interval: chance to crash a node, to start a partition. */
  crashRate: 0.004,
  partitionRate: 0.003,
};

/** A simulated cluster and its schedule. */
export class RaftSim {
  private readonly rand: SeededRand;
  private readonly checker: SafetyChecker;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly nodes: SimNode[] = [];
  private readonly watchChecker = new WatchOrderChecker((m) => this.checker.fail(m));
  private readonly clients: SimClients;
  private readonly watchers: SimWatchers;
  /** Partition: node id → side; messages cross sides only when healed. */
  private side = new Map<bigint, number>();
  private now = 0;
  private faulty = true;
  private proposing = true;
  private proposals = 0;
  private reads = 0;
  private stats = { crashes: 0, partitions: 0, messages: 0 };

  constructor(private readonly opts: SimOptions) {
    this.rand = new SeededRand(opts.seed);
    this.checker = new SafetyChecker(opts.checkReadFloor ?? true);
    const nodeOptions = { canary: opts.canary, checkQuorum: opts.checkQuorum ?? opts.seed % 3 !== 0 };
    const ids = Array.from({ length: opts.nodes }, (_, i) => BigInt(i + 1));
    const observer = this.observer();
    for (const id of ids) {
      const nodeRand = new SeededRand(this.rand.next32());
      this.nodes.push(new SimNode(id, ids, nodeRand, this.checker, nodeOptions, (m) => this.send(m), observer));
      // Nodes tick at different phases, so their clocks are not in lockstep.
      this.queue.push(this.rand.intn(TICK_MS), { kind: 'tick', id });
    }
    this.clients = new SimClients({
      now: () => this.now,
      rand: new SeededRand(this.rand.next32()),
      nodes: this.nodes,
      schedule: (at, fn) => this.queue.push(at, { kind: 'timer', fn }),
      checker: this.checker,
      canary: opts.canary,
    });
    this.watchers = new SimWatchers(this.nodes, this.watchChecker, new SeededRand(this.rand.next32()), opts.canary);
  }

  /** Fans the members' applies and read answers out to the checkers, clients and watchers. */
  private observer(): SimNodeObserver {
    return {
      applied: (id: bigint, _index: number, r: KvApplyResult) => {
        if (r.kind === 'applied') this.watchChecker.applied(String(id), r.event);
        this.clients.applied(id, r);
        this.watchers.changed(id);
      },
      snapshotInstalled: (id: bigint) => {
        this.clients.snapshotInstalled(id);
        this.watchers.snapshotInstalled(id);
      },
      readState: (id: bigint, ctx: string, index: number) => this.clients.readState(id, ctx, index),
    };
  }

  private node(id: bigint): SimNode {
    return this.nodes[Number(id) - 1]!;
  }

  private trace(line: string): void {
    this.opts.trace?.(`[${this.now}ms] ${line}`);
  }

  private connected(a: bigint, b: bigint): boolean {
    return (this.side.get(a) ?? 0) === (this.side.get(b) ?? 0);
  }

  /** The transport: queue a message with faults, or report failure to the sender. */
  private send(m: Message): void {
    this.stats.messages++;
    const to = this.node(m.to);
    if (!to.up || !this.connected(m.from, m.to)) {
      this.undeliverable(m);
      return;
    }
    if (this.faulty && this.rand.chance(FAULTS.dropRate)) {
      if (m.type === MessageType.MsgSnap) this.undeliverable(m);
      return;
    }
    const copies = this.faulty && this.rand.chance(FAULTS.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.faulty ? FAULTS.minDelayMs + this.rand.intn(FAULTS.maxDelayMs - FAULTS.minDelayMs + 1) : 1 + this.rand.intn(3);
      this.queue.push(this.now + delay, { kind: 'deliver', m });
    }
  }

  /** A transport that knows a send failed tells raft (reportUnreachable / snapshot failure). */
  private undeliverable(m: Message): void {
    const from = this.node(m.from);
    if (!from.up) return;
    if (m.type === MessageType.MsgSnap) from.node!.reportSnapshot(m.to, 'failure');
    else from.node!.reportUnreachable(m.to);
    from.drain();
  }

  private deliver(m: Message): void {
    const to = this.node(m.to);
    if (!to.up || !this.connected(m.from, m.to)) {
      this.undeliverable(m);
      return;
    }
    to.deliver(m);
    if (m.type === MessageType.MsgSnap) {
      const from = this.node(m.from);
      if (from.up) {
        from.node!.reportSnapshot(m.to, 'finish');
        from.drain();
      }
    }
  }

  /** One tick interval of a node: maybe inject faults, maybe propose, then tick. */
  private tick(id: bigint): void {
    const n = this.node(id);
    this.queue.push(this.now + TICK_MS, { kind: 'tick', id });
    if (this.faulty) this.maybeFault();
    if (!n.up) return;
    if (this.proposing && this.rand.chance(0.3)) this.propose(n);
    if (this.proposing && this.rand.chance(0.05)) this.read(n);
    if (this.faulty && this.rand.chance(0.002)) this.watchers.maybeOpen();
    if (this.faulty && n.node!.raft.state === StateType.Leader && this.rand.chance(0.002)) this.transfer(n);
    n.tick();
  }

  private propose(n: SimNode): void {
    const data = new TextEncoder().encode(`v${this.opts.seed}-${this.proposals++}`);
    try {
      n.node!.propose(data);
      n.drain();
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
  }

  /** A linearizable read through ReadIndex, checked when its ReadState arrives. */
  private read(n: SimNode): void {
    const ctx = `r${this.opts.seed}-${this.reads++}`;
    try {
      n.node!.readIndex(new TextEncoder().encode(ctx));
      this.checker.readIssued(ctx);
      n.drain();
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
  }

  /** An operator moving leadership to a random other voter. */
  private transfer(n: SimNode): void {
    const target = this.nodes[this.rand.intn(this.nodes.length)]!.id;
    if (target === n.id) return;
    this.trace(`transfer leadership ${n.id} -> ${target}`);
    n.node!.transferLeader(target);
    n.drain();
  }

  private maybeFault(): void {
    const up = this.nodes.filter((x) => x.up);
    // Keep a majority up, or the run would mostly measure unavailability.
    const maxDown = Math.floor((this.nodes.length - 1) / 2);
    if (this.nodes.length - up.length < maxDown && this.rand.chance(FAULTS.crashRate / this.nodes.length)) {
      const victim = up[this.rand.intn(up.length)]!;
      victim.crash();
      this.clients.crashed(victim.id);
      this.watchers.crashed(victim.id);
      this.stats.crashes++;
      this.trace(`crash ${victim.id}`);
      this.queue.push(this.now + 50 + this.rand.intn(500), { kind: 'restart', id: victim.id });
    }
    if (this.side.size === 0 && this.rand.chance(FAULTS.partitionRate / this.nodes.length)) {
      for (const x of this.nodes) this.side.set(x.id, this.rand.intn(2));
      this.stats.partitions++;
      this.trace(`partition ${[...this.side].map(([id, s]) => `${id}:${s}`).join(' ')}`);
      this.queue.push(this.now + 100 + this.rand.intn(1000), { kind: 'heal' });
    }
  }

  private restart(id: bigint): void {
    const n = this.node(id);
    if (n.up) return;
    n.restart();
    this.watchers.restarted(id);
    this.trace(`restart ${id}`);
  }

  /** Runs to completion; returns the result (with the violation, if any). */
  run(): SimResult {
    let linearizability: SimResult['linearizability'] = 'not checked';
    const result = (violation?: string): SimResult => ({
      seed: this.opts.seed,
      violation,
      elections: this.checker.leaderCount,
      committed: this.checker.maxCommitted,
      reads: this.checker.readsAnswered,
      ...this.stats,
      ops: this.clients.history.length,
      indeterminate: this.clients.history.filter((o) => o.ret === undefined).length,
      watchEvents: this.watchChecker.deliveries,
      watchers: this.watchers.count,
      linearizability,
    });
    const restore = this.installCanary();
    try {
      this.clients.start();
      this.runUntil(this.opts.faultMs);
      this.heal();
      this.runUntil(this.opts.faultMs + this.opts.healMs / 2);
      this.proposing = false;
      this.clients.stop();
      this.runUntil(this.opts.faultMs + this.opts.healMs);
      this.checkConverged();
      this.watchChecker.finish();
      linearizability = this.checkHistory();
      return result();
    } catch (e) {
      if (e instanceof SimViolation) return result(`${e.message} (at ${this.now}ms)`);
      // Raft's own invariant checks are checkers too: a broken contract often trips them first.
      if (e instanceof AssertionError) return result(`raft invariant: ${e.message} (at ${this.now}ms)`);
      throw e;
    } finally {
      restore();
    }
  }

  /** Installs a canary that breaks a rule inside raft; returns the undo. */
  private installCanary(): () => void {
    const patch = <T extends object>(proto: T, key: keyof T & string, fn: unknown): (() => void) => {
      const original = Object.getOwnPropertyDescriptor(proto, key)!;
      Object.defineProperty(proto, key, { ...original, value: fn });
      return () => Object.defineProperty(proto, key, original);
    };
    // The election restriction (thesis §3.6.1): vote for anyone.
    if (this.opts.canary === 'stale-vote') return patch(RaftLog.prototype, 'isUpToDate', () => true);
    // ReadIndex without confirming leadership (thesis §6.4): answer as if we were the only voter.
    if (this.opts.canary === 'read-no-quorum') return patch(ProgressTracker.prototype, 'isSingleton', () => true);
    return () => {};
  }

  private runUntil(end: number): void {
    while (this.queue.peekTime() <= end) {
      const ev = this.queue.pop()!;
      this.now = ev.time;
      const v = ev.value;
      if (v.kind === 'tick') this.tick(v.id);
      else if (v.kind === 'deliver') this.deliver(v.m);
      else if (v.kind === 'restart') this.restart(v.id);
      else if (v.kind === 'heal') this.side = new Map();
      else if (v.kind === 'timer') v.fn();
    }
    this.now = end;
  }

  /** Ends the fault phase: heal partitions, restart everyone, stop dropping messages. */
  private heal(): void {
    this.faulty = false;
    this.side = new Map();
    for (const n of this.nodes) if (!n.up) this.restart(n.id);
    this.trace('heal');
  }

  /** The clients' history must be linearizable: 'ok', or 'unknown' if the search ran out of time. */
  private checkHistory(): 'ok' | 'unknown' {
    if (this.clients.inFlight > 0) this.checker.fail(`liveness: ${this.clients.inFlight} client operations still in flight after healing`);
    const r = checkLinearizable(this.clients.history, { budgetMs: this.opts.checkBudgetMs });
    if (r.ok === false) return this.checker.fail(`linearizability: ${r.explanation}`);
    return r.ok === true ? 'ok' : 'unknown';
  }

  /** After the heal phase: one leader, and every member applied the same state. */
  private checkConverged(): void {
    const leaders = this.nodes.filter((n) => n.node!.raft.state === StateType.Leader);
    if (leaders.length !== 1) this.checker.fail(`liveness: ${leaders.length} leaders after healing`);
    const ref = leaders[0]!;
    for (const n of this.nodes) {
      if (n.applied !== ref.applied || n.hash !== ref.hash) {
        this.checker.fail(`convergence: node ${n.id} applied ${n.applied} (hash ${n.hash}), leader ${ref.id} applied ${ref.applied} (hash ${ref.hash})`);
      }
    }
  }
}
