/**
 * A minimal in-memory cluster of RawNodes for unit tests: synchronous message delivery, each
 * node's Ready processed by the book (persist to MemoryRaftStorage, send, apply, advance).
 * Every loop is bounded.
 */
import { SeededRand } from '../../../../core/util/rand';
import { MemoryRaftStorage } from '../../../../core/raft/memory-raft-storage';
import { RawNode } from '../../../../core/raft/raw-node';
import type { RaftConfig } from '../../../../core/raft/config';
import { type Entry, EntryType, type Message, type ReadState, type ConfChange, type ConfChangeV2 } from '../../../../core/raft/types';
import { decodeConfChange, decodeConfChangeV2 } from '../../../../core/raft/codec';

export interface TestNode {
  id: bigint;
  node: RawNode;
  storage: MemoryRaftStorage;
  applied: Entry[];
  readStates: ReadState[];
}

export class TestCluster {
  nodes = new Map<bigint, TestNode>();
  queue: Message[] = [];
  /** Links (from→to) that drop everything. */
  cut = new Set<string>();

  constructor(ids: bigint[], overrides: Partial<RaftConfig> = {}, seed = 1) {
    for (const id of ids) {
      const storage = MemoryRaftStorage.withPeers(ids);
      const node = new RawNode({
        id,
        electionTick: 10,
        heartbeatTick: 1,
        storage,
        maxSizePerMsg: Number.POSITIVE_INFINITY,
        maxUncommittedEntriesSize: 0,
        maxInflightMsgs: 256,
        checkQuorum: false,
        preVote: false,
        readOnlyOption: 'safe',
        rand: new SeededRand(seed + Number(id)),
        ...overrides,
      });
      this.nodes.set(id, { id, node, storage, applied: [], readStates: [] });
    }
  }

  get(id: bigint): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  isolate(id: bigint): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  recover(): void {
    this.cut.clear();
  }

  /** Processes one Ready of node `id` if it has one. Returns whether it did. */
  processReady(id: bigint): boolean {
    const n = this.get(id);
    if (!n.node.hasReady()) return false;
    const rd = n.node.ready();
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    for (const m of rd.messages) {
      if (!this.cut.has(`${m.from}->${m.to}`)) this.queue.push(m);
    }
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange) n.node.applyConfChange(decodeConfChange(e.data) as ConfChange);
      if (e.type === EntryType.ConfChangeV2) n.node.applyConfChange(decodeConfChangeV2(e.data) as ConfChangeV2);
      n.applied.push(e);
    }
    n.readStates.push(...rd.readStates);
    n.node.advance(rd);
    return true;
  }

  /** Delivers queued messages and processes Readies until quiet (bounded). */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const id of this.nodes.keys()) busy = this.processReady(id) || busy;
      const msgs = this.queue;
      this.queue = [];
      for (const m of msgs) {
        busy = true;
        const to = this.nodes.get(m.to);
        if (!to) continue;
        try {
          to.node.step(m);
        } catch {
          // Responses from removed peers etc.; a real driver logs these.
        }
      }
      if (!busy) return;
    }
    throw new Error('cluster did not stabilize');
  }

  tickAll(n: number): void {
    for (let i = 0; i < n; i++) for (const t of this.nodes.values()) t.node.tick();
  }

  leader(): bigint | undefined {
    for (const t of this.nodes.values()) if (t.node.status().raftState === 2) return t.id;
    return undefined;
  }

  /** Normal-entry payloads applied on node `id`, as strings. */
  appliedData(id: bigint): string[] {
    return this.get(id)
      .applied.filter((e) => e.type === EntryType.Normal && e.data.length > 0)
      .map((e) => new TextDecoder().decode(e.data));
  }
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
