/**
 * Simulated KV clients and the history they record for the linearizability checker.
 *
 * Each client runs one operation at a time against a member picked at random (followers too):
 * - put: a unique value proposed through that member; it returns when that member applies the
 *   entry (as an etcd member answers a Put after its own apply);
 * - get: a linearizable read: ReadIndex on that member, then, once the member has applied up to
 *   the read index, its local value.
 * An operation whose member crashes, or that does not return within the request timeout, is
 * indeterminate (`ret` undefined): the put may still take effect later. A proposal or read
 * refused at once (no leader known) did nothing and is left out of the history.
 *
 * Times are simulated milliseconds plus a per-millisecond sequence in the fraction, so events
 * of the same millisecond keep the order in which the simulation processed them.
 */
import { ProposalDroppedError } from '../../../core/raft/errors';
import type { SeededRand } from '../../../core/util/rand';
import type { KvOperation } from '../../support/linearizability';
import { type KvApplyResult, encodePut } from './kv-state-machine';
import type { SafetyChecker } from './safety-checker';
import type { Canary, SimNode } from './sim-node';

/** What the clients need from the simulation. */
export interface ClientEnv {
  now(): number;
  rand: SeededRand;
  /** Members by id (1-based ids, index id - 1). */
  nodes: readonly SimNode[];
  /** Runs `fn` at simulated time `at`. */
  schedule(at: number, fn: () => void): void;
  checker: SafetyChecker;
  canary: Canary;
}

/** Workload shape. */
const CLIENTS = 5;
const KEYS = ['k0', 'k1', 'k2'];
const PUT_RATIO = 0.5;
const MAX_THINK_MS = 30;
/** etcd's robustness traffic uses 200 ms; elections here take ~100-300 ms, so a bit more. */
const REQUEST_TIMEOUT_MS = 600;

interface Pending {
  op: KvOperation;
  node: bigint;
  seq: number;
  /** A get's ReadIndex context and, once answered, its read index. */
  ctx?: string;
  readIndex?: number;
}

interface Client {
  id: number;
  /** Serial number of the latest request (the state machine applies each at most once). */
  seq: number;
  pending: Pending | undefined;
}

/** The client population of one run. */
export class SimClients {
  /** Every recorded operation, in invocation order. */
  readonly history: KvOperation[] = [];
  private readonly clients: Client[] = [];
  private running = false;
  private lastStampMs = -1;
  private stampSeq = 0;

  constructor(private readonly env: ClientEnv) {
    for (let i = 1; i <= CLIENTS; i++) this.clients.push({ id: i, seq: 0, pending: undefined });
  }

  /** Starts issuing operations. */
  start(): void {
    this.running = true;
    for (const c of this.clients) this.env.schedule(this.env.now() + this.env.rand.intn(MAX_THINK_MS), () => this.next(c));
  }

  /** No new operations from now on; those in flight finish or time out. */
  stop(): void {
    this.running = false;
  }

  /** Operations still waiting for an answer. */
  get inFlight(): number {
    return this.clients.filter((c) => c.pending !== undefined).length;
  }

  /** A strictly increasing timestamp within the current simulated millisecond. */
  private stamp(): number {
    const ms = this.env.now();
    if (ms !== this.lastStampMs) {
      this.lastStampMs = ms;
      this.stampSeq = 0;
    }
    this.stampSeq++;
    return ms + this.stampSeq * 1e-6;
  }

  private next(c: Client): void {
    if (!this.running || c.pending !== undefined) return;
    const up = this.env.nodes.filter((n) => n.up);
    const node = up[this.env.rand.intn(up.length)]!;
    const key = KEYS[this.env.rand.intn(KEYS.length)]!;
    const seq = ++c.seq;
    const waiting = this.env.rand.chance(PUT_RATIO) ? this.put(c, node, key) : this.get(c, node, key);
    // A waiting operation schedules the next one when it finishes (possibly already, inside
    // the drain); the others are over now.
    if (waiting) {
      this.env.schedule(this.env.now() + REQUEST_TIMEOUT_MS, () => {
        if (c.pending?.seq === seq) this.finish(c, undefined);
      });
    } else {
      this.thinkThenNext(c);
    }
  }

  private thinkThenNext(c: Client): void {
    this.env.schedule(this.env.now() + 1 + this.env.rand.intn(MAX_THINK_MS), () => this.next(c));
  }

  /** Issues a put; true if it now waits for an answer. */
  private put(c: Client, node: SimNode, key: string): boolean {
    const value = `c${c.id}-${c.seq}`;
    const op: KvOperation = { client: c.id, kind: 'put', key, value, call: this.stamp(), ret: undefined };
    c.pending = { op, node: node.id, seq: c.seq };
    try {
      node.node!.propose(encodePut({ client: c.id, seq: c.seq, key, value }));
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      c.pending = undefined; // refused before reaching any log: it did not happen
      return false;
    }
    this.history.push(op);
    node.drain();
    return true;
  }

  /** Issues a get; true if it now waits for an answer. */
  private get(c: Client, node: SimNode, key: string): boolean {
    const op: KvOperation = { client: c.id, kind: 'get', key, value: undefined, call: this.stamp(), ret: undefined };
    if (this.env.canary === 'stale-read') {
      // The canary: answer from this member's local state, whatever it has applied.
      op.value = node.kv.get(key);
      op.ret = this.stamp();
      this.history.push(op);
      return false;
    }
    const ctx = `g${c.id}-${c.seq}`;
    c.pending = { op, node: node.id, seq: c.seq, ctx };
    try {
      node.node!.readIndex(new TextEncoder().encode(ctx));
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      c.pending = undefined;
      return false;
    }
    this.env.checker.readIssued(ctx);
    this.history.push(op);
    node.drain();
    return true;
  }

  /** Completes `c`'s operation (`ret` undefined: indeterminate) and schedules its next one. */
  private finish(c: Client, value: string | undefined, completed = false): void {
    const p = c.pending!;
    if (completed) {
      p.op.ret = this.stamp();
      if (p.op.kind === 'get') p.op.value = value;
    }
    c.pending = undefined;
    this.thinkThenNext(c);
  }

  /** Member `id` applied an entry: acknowledge the put it carried, answer reads now due. */
  applied(id: bigint, result: KvApplyResult): void {
    if (result.kind === 'applied') {
      const c = this.clients[result.put.client - 1];
      const p = c?.pending;
      if (p !== undefined && p.node === id && p.op.kind === 'put' && p.seq === result.put.seq) this.finish(c!, undefined, true);
    }
    this.answerReads(id);
  }

  /** Member `id` installed a snapshot: reads waiting for an index it covers are due. */
  snapshotInstalled(id: bigint): void {
    this.answerReads(id);
  }

  /** A ReadIndex answer arrived on member `id`. Duplicates (the network copies) are ignored. */
  readState(id: bigint, ctx: string, index: number): void {
    for (const c of this.clients) {
      const p = c.pending;
      if (p !== undefined && p.ctx === ctx && p.node === id && p.readIndex === undefined) p.readIndex = index;
    }
    this.answerReads(id);
  }

  private answerReads(id: bigint): void {
    const node = this.env.nodes[Number(id) - 1]!;
    for (const c of this.clients) {
      const p = c.pending;
      if (p === undefined || p.node !== id || p.readIndex === undefined || node.applied < p.readIndex) continue;
      this.finish(c, node.kv.get(p.op.key), true);
    }
  }

  /** Member `id` crashed: its clients lose their connection; their operations are indeterminate. */
  crashed(id: bigint): void {
    for (const c of this.clients) if (c.pending?.node === id) this.finish(c, undefined);
  }
}
