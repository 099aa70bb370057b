/**
 * The `Ready`: everything a node needs the application to do, handed out by `RawNode.ready()`
 * and acknowledged with `RawNode.advance(rd)` (etcd-io/raft `Ready`).
 */
import type { Entry, HardState, Message, ReadState, Snapshot, SoftState } from './types';

/**
 * Work for the application. The processing contract, in this order:
 *
 * 1. **Persist.** Write `snapshot` (if set), then `entries`, then `hardState` (if set) to
 *    durable storage, and fsync when `mustSync` is true. Writing an entry at index i discards
 *    every previously persisted entry at index ≥ i (a new leader overwrote an uncommitted
 *    tail). Then make them visible through the node's `RaftStorage` (for
 *    `MemoryRaftStorage`: `applySnapshot`, `append`, `setHardState`).
 *
 * 2. **Send `messages`** — only after step 1 is durable. Votes, vote responses and append
 *    acknowledgements promise that the sender's state is on disk; sending them earlier can
 *    elect two leaders or lose committed entries after a crash. One exception (Raft thesis
 *    §10.2.1): while this node is **leader** (per the most recent `softState`), it may send its
 *    messages before or while persisting its own entries. A leader's messages (appends,
 *    heartbeats, snapshots, TimeoutNow, ReadIndex answers) promise nothing about its own disk,
 *    and the entries they carry can only be acknowledged by followers — and then advertised as
 *    committed — in a later Ready, after this one's persistence finished. After sending a MsgSnap, call
 *    `reportSnapshot(to, 'finish'|'failure')` when the transfer ends; call
 *    `reportUnreachable(to)` when a message cannot be delivered.
 *
 * 3. **Apply** the `snapshot`, then `committedEntries` in order, to the state machine. Call
 *    `applyConfChange` for each ConfChange/ConfChangeV2 entry. **`committedEntries` may contain
 *    entries that are also in `entries` of the same Ready** — with a single voter, an entry
 *    commits as soon as the leader appends it — so the driver must finish step 1 (including
 *    the fsync) before applying them or answering a client (etcd issue #14370).
 *
 * 4. **Serve `readStates`**: a read with context `requestCtx` is linearizable once the applied
 *    index reaches `index`.
 *
 * 5. **Call `advance(rd)`** with this same object. `ready()` must not be called again before
 *    that; `step`, `tick`, `propose` etc. may be called in between (their effects go to the
 *    next Ready).
 */
export interface Ready {
  /** Set when the leader or role changed since the previous Ready. Never persisted. */
  softState?: SoftState;
  /** Set when term, vote or commit changed; persist it (step 1). */
  hardState?: HardState;
  /** Answered ReadIndex requests (step 4). */
  readStates: ReadState[];
  /** Entries to persist before sending messages (step 1). */
  entries: Entry[];
  /** A snapshot to persist and apply (steps 1 and 3). */
  snapshot?: Snapshot;
  /** Entries to apply, in index order (step 3); may overlap `entries`. */
  committedEntries: Entry[];
  /** Messages to send (step 2). */
  messages: Message[];
  /**
   * True when step 1 must fsync: there are new entries or a snapshot, or the term or vote
   * changed. A change of the commit index alone need not be synced (it can be recovered).
   */
  mustSync: boolean;
}

/**
 * Whether persisting (hs, nEntries) needs an fsync given the previously persisted `prev`
 * (etcd-io/raft MustSync, Raft thesis §3.8: currentTerm, votedFor and log[] are persistent).
 */
export function mustSync(hs: HardState, prev: HardState, nEntries: number): boolean {
  return nEntries !== 0 || hs.vote !== prev.vote || hs.term !== prev.term;
}

/** True when the Ready holds nothing at all (a driver may skip its persist/send steps). */
export function isEmptyReady(rd: Ready): boolean {
  return (
    rd.softState === undefined &&
    rd.hardState === undefined &&
    rd.snapshot === undefined &&
    rd.entries.length === 0 &&
    rd.committedEntries.length === 0 &&
    rd.messages.length === 0 &&
    rd.readStates.length === 0
  );
}
