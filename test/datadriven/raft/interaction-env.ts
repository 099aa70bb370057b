/**
 * The world of the raft interaction scripts (after etcd-io/raft `rafttest/interaction_env.go`):
 * a set of RawNodes over MemoryRaftStorage, a shared in-flight message queue, and an output
 * buffer that each command writes into. Nothing happens unless a command says so: Readies are
 * processed by `process-ready`/`stabilize`, messages move by `deliver-msgs`/`stabilize`.
 */
import { RawNode } from '../../../core/raft/raw-node';
import { MemoryRaftStorage } from '../../../core/raft/memory-raft-storage';
import type { RaftConfig } from '../../../core/raft/config';
import { decodeConfChange, decodeConfChangeV2 } from '../../../core/raft/codec';
import { describeMessage, describeReady } from '../../../core/raft/describe';
import { RaftError } from '../../../core/raft/errors';
import {
  type ConfState,
  EntryType,
  type Message,
  MessageType,
  type Snapshot,
  emptyConfState,
} from '../../../core/raft/types';
import type { Rand } from '../../../core/util/rand';
import { CaptureLogger } from './capture-logger';

/** A Rand that always answers 0: randomized election timeout = electionTick, deterministically. */
export const zeroRand: Rand = {
  intn: () => 0,
  uint64: () => 0n,
};

/** One node of the environment. */
export interface EnvNode {
  id: bigint;
  node: RawNode;
  storage: MemoryRaftStorage;
  config: RaftConfig;
  /** Highest index applied by the "application" (survives restarts, like etcd's consistent index). */
  applied: number;
  /** Configurations in force from each applied index on (for snapshots at compaction). */
  confStates: Array<{ index: number; cs: ConfState }>;
}

/** The interaction test world. */
export class InteractionEnv {
  nodes: EnvNode[] = [];
  messages: Message[] = [];
  isolated = new Set<bigint>();
  readonly logger: CaptureLogger;
  private out: string[] = [];
  private indent = 0;

  constructor() {
    this.logger = new CaptureLogger((line) => this.write(line));
  }

  /** Appends a line at the current indentation. */
  write(line: string): void {
    for (const l of line.split('\n')) this.out.push(`${'  '.repeat(this.indent)}${l}`);
  }

  /** Runs `fn` with output indented one level. */
  indented(fn: () => void): void {
    this.indent++;
    try {
      fn();
    } finally {
      this.indent--;
    }
  }

  /** Takes the accumulated output (and clears it). */
  takeOutput(): string {
    const s = this.out.join('\n');
    this.out = [];
    this.indent = 0;
    return s;
  }

  node(id: bigint): EnvNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Adds a node with the given storage and config overrides; ids are assigned 1, 2, 3... */
  addNode(storage: MemoryRaftStorage, overrides: Partial<RaftConfig>, initialCs: ConfState, snapIndex: number): EnvNode {
    const id = BigInt(this.nodes.length + 1);
    const config: RaftConfig = {
      id,
      electionTick: 3,
      heartbeatTick: 1,
      storage,
      maxSizePerMsg: Number.POSITIVE_INFINITY,
      maxUncommittedEntriesSize: 0,
      maxInflightMsgs: 256,
      checkQuorum: false,
      preVote: false,
      readOnlyOption: 'safe',
      rand: zeroRand,
      logger: this.logger,
      ...overrides,
    };
    const node = new RawNode(config);
    const n: EnvNode = { id, node, storage, config, applied: snapIndex, confStates: [{ index: snapIndex, cs: initialCs }] };
    this.nodes.push(n);
    return n;
  }

  /** Recreates a node from its storage, losing all volatile state (a crash and restart). */
  restart(id: bigint): void {
    const n = this.node(id);
    n.config = { ...n.config, applied: n.applied };
    n.node = new RawNode(n.config);
  }

  /** Processes one Ready of `id` by the book: persist, queue messages, apply, advance. */
  processReady(id: bigint): void {
    const n = this.node(id);
    const rd = n.node.ready();
    this.write(describeReady(rd));
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      n.applied = rd.snapshot.metadata.index;
      n.confStates.push({ index: rd.snapshot.metadata.index, cs: rd.snapshot.metadata.confState });
    }
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    this.messages.push(...rd.messages);
    for (const e of rd.committedEntries) {
      let cs: ConfState | undefined;
      if (e.type === EntryType.ConfChange) cs = n.node.applyConfChange(decodeConfChange(e.data));
      else if (e.type === EntryType.ConfChangeV2) cs = n.node.applyConfChange(decodeConfChangeV2(e.data));
      if (cs) n.confStates.push({ index: e.index, cs });
      n.applied = e.index;
    }
    n.node.advance(rd);
  }

  /**
   * Delivers queued messages addressed to `id` (in order). Those whose link is cut by `isolate`,
   * or addressed to a node in `drop`, are discarded. Returns the number handled.
   */
  deliverMsgs(id: bigint, drop: boolean): number {
    const mine = this.messages.filter((m) => m.to === id);
    if (mine.length === 0) return 0;
    this.messages = this.messages.filter((m) => m.to !== id);
    for (const m of mine) {
      const cut = this.isolated.has(m.from) || this.isolated.has(m.to);
      if (drop || cut) {
        this.write(`dropped: ${describeMessage(m)}`);
        continue;
      }
      this.write(describeMessage(m));
      try {
        this.node(id).node.step(m);
      } catch (e) {
        if (!(e instanceof RaftError)) throw e;
        this.write(`error: ${e.message}`);
      }
    }
    return mine.length;
  }

  /** Repeats process-ready and deliver-msgs over `ids` until nothing happens (bounded). */
  stabilize(ids: bigint[]): void {
    for (let round = 0; round < 1000; round++) {
      let done = true;
      for (const id of ids) {
        if (!this.node(id).node.hasReady()) continue;
        done = false;
        this.write(`> ${id} handling Ready`);
        this.indented(() => this.processReady(id));
      }
      for (const id of ids) {
        if (!this.messages.some((m) => m.to === id)) continue;
        done = false;
        this.write(`> ${id} receiving messages`);
        this.indented(() => this.deliverMsgs(id, false));
      }
      if (done) return;
    }
    throw new Error('stabilize did not converge in 1000 rounds');
  }

  /** The configuration in force at `index` on node `n` (for building a snapshot there). */
  confStateAt(n: EnvNode, index: number): ConfState {
    let cs = emptyConfState();
    for (const c of n.confStates) if (c.index <= index) cs = c.cs;
    return cs;
  }

  /** Makes a snapshot at `index` and compacts the log of `id` up to it. */
  compact(id: bigint, index: number): void {
    const n = this.node(id);
    // A snapshot is of applied state; compacting beyond it would skip applying entries.
    if (index > n.applied) throw new Error(`compact ${index} beyond applied index ${n.applied} of node ${id}`);
    const snap: Snapshot = n.storage.createSnapshot(index, this.confStateAt(n, index), new Uint8Array(0));
    n.storage.compact(snap.metadata.index);
  }

  /** Type of messages, for filters. */
  static typeOf(name: string): MessageType {
    const t = (MessageType as unknown as Record<string, MessageType>)[name];
    if (t === undefined) throw new Error(`unknown message type ${name}`);
    return t;
  }
}
