/**
 * The Raft wire and state types (after etcd-io/raft's `raftpb`). Field meanings and enum numbers
 * match raftpb so that anyone who knows etcd can read our messages and logs; the byte encoding is
 * our own (see `codec.ts`).
 *
 * All values here are treated as immutable once built: the log, the storage and the driver share
 * `Entry` objects and their `data` buffers without copying. Never mutate an entry or a message
 * after handing it to raft or receiving it from a `Ready`.
 */

/** The "no node" id: no leader known, no vote cast. Real node ids are never 0. */
export const NONE = 0n;

/** What an entry's `data` holds. Numbers as in raftpb.EntryType. */
export enum EntryType {
  /** Application data (empty data: the no-op a new leader appends). */
  Normal = 0,
  /** An encoded {@link ConfChange} (codec `encodeConfChange`). */
  ConfChange = 1,
  /** An encoded {@link ConfChangeV2} (codec `encodeConfChangeV2`). */
  ConfChangeV2 = 2,
}

/** One log entry. `index` ≥ 1 for real entries; `term` ≥ 1 once appended by a leader. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/**
 * The state that must be durable before messages that depend on it are sent: the current term,
 * the vote cast in that term, and the commit index (Raft thesis §3.8; commit is persisted for
 * faster restarts, it is not needed for safety).
 */
export interface HardState {
  term: number;
  vote: bigint;
  commit: number;
}

/**
 * A membership configuration as stored in snapshots and returned by `applyConfChange`.
 * `votersOutgoing` is non-empty only in a joint configuration (C_old of C_old,new).
 */
export interface ConfState {
  voters: bigint[];
  learners: bigint[];
  votersOutgoing: bigint[];
  learnersNext: bigint[];
  autoLeave: boolean;
}

/** Where a snapshot sits in the log and which configuration was in force at that index. */
export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

/** An application snapshot: opaque data covering the log up to and including `metadata.index`. */
export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

/** Message types, numbered as raftpb.MessageType. */
export enum MessageType {
  MsgHup = 0,
  MsgBeat = 1,
  MsgProp = 2,
  MsgApp = 3,
  MsgAppResp = 4,
  MsgVote = 5,
  MsgVoteResp = 6,
  MsgSnap = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResp = 9,
  MsgUnreachable = 10,
  MsgSnapStatus = 11,
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgPreVote = 17,
  MsgPreVoteResp = 18,
  MsgStorageAppend = 19,
  MsgStorageAppendResp = 20,
  MsgStorageApply = 21,
  MsgStorageApplyResp = 22,
  MsgForgetLeader = 23,
}

/** The highest {@link MessageType} value; the codec rejects anything above it. */
export const MAX_MESSAGE_TYPE = MessageType.MsgForgetLeader;

/**
 * A Raft message with raftpb's fields. `term` is 0 for local messages and for forwarded
 * MsgProp/MsgReadIndex. `snapshot` is set only on MsgSnap. `responses` is carried for wire
 * fidelity with raftpb (async storage writes) and is always empty in messages we produce.
 */
export interface Message {
  type: MessageType;
  to: bigint;
  from: bigint;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  vote: bigint;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: number;
  context: Uint8Array;
  responses: Message[];
}

/** Kinds of single membership change, numbered as raftpb.ConfChangeType. */
export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  UpdateNode = 2,
  AddLearnerNode = 3,
}

/**
 * A v1 configuration change: one node at a time, effective when applied (Raft thesis §4.1).
 * `id` is the application's request id (etcd uses it to match the proposal); `context` is opaque
 * (etcd: member JSON).
 */
export interface ConfChange {
  id: bigint;
  type: ConfChangeType;
  nodeId: bigint;
  context: Uint8Array;
}

/** How a {@link ConfChangeV2} uses joint consensus (raftpb.ConfChangeTransition). */
export enum ConfChangeTransition {
  /** Simple change if possible (one voter changes), otherwise joint with automatic leave. */
  Auto = 0,
  /** Always joint; raft proposes the leave itself once the joint config is applied. */
  JointImplicit = 1,
  /** Always joint; the application must propose an empty ConfChangeV2 to leave. */
  JointExplicit = 2,
}

/** One change inside a {@link ConfChangeV2}. A `nodeId` of 0 is ignored (etcd uses it to veto). */
export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: bigint;
}

/**
 * A v2 configuration change: any number of changes, entered through joint consensus when more
 * than one voter changes (Raft thesis §4.3). An empty `changes` list means "leave the joint
 * configuration".
 */
export interface ConfChangeV2 {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context: Uint8Array;
}

/** Either kind of configuration change. */
export type AnyConfChange = ConfChange | ConfChangeV2;

/**
 * The answer to a `readIndex(ctx)` request: once the local applied index reaches `index`, a read
 * served from the local state machine is linearizable (Raft thesis §6.4).
 */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/** A node's role, numbered as etcd-io/raft's StateType. */
export enum StateType {
  Follower = 0,
  Candidate = 1,
  Leader = 2,
  PreCandidate = 3,
}

/** Volatile state that the driver may want to observe (leader changes); never persisted. */
export interface SoftState {
  lead: bigint;
  raftState: StateType;
}

/** A shared zero-length byte array for entries and contexts without data; never written to. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Builds a message with every field defaulted, overridden by `fields`. */
export function newMessage(fields: Partial<Message> & { type: MessageType }): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    vote: NONE,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
    responses: [],
    ...fields,
  };
}

/** The all-zero hard state of a node that has never run. */
export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 };
}

/** True for the all-zero hard state. */
export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

/** True when both hard states are field-by-field equal. */
export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** An empty configuration (no voters). */
export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

/** The empty snapshot (index 0), as returned by storage that has never been snapshotted. */
export function emptySnapshot(): Snapshot {
  return { data: EMPTY_BYTES, metadata: { index: 0, term: 0, confState: emptyConfState() } };
}

/** True when the snapshot is the empty one (index 0). */
export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

/**
 * Local messages are generated inside a node (ticks, reports) and must never arrive from the
 * network; `RawNode.step` rejects them.
 */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum ||
    t === MessageType.MsgStorageAppend ||
    t === MessageType.MsgStorageAppendResp ||
    t === MessageType.MsgStorageApply ||
    t === MessageType.MsgStorageApplyResp
  );
}

/** Responses are only meaningful from a peer the leader tracks; others are dropped. */
export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppResp ||
    t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgPreVoteResp
  );
}

/** The response type for a (pre-)vote request. */
export function voteResponseType(t: MessageType): MessageType {
  if (t === MessageType.MsgVote) return MessageType.MsgVoteResp;
  if (t === MessageType.MsgPreVote) return MessageType.MsgPreVoteResp;
  throw new Error(`not a vote message: ${MessageType[t]}`);
}

/** True for a {@link ConfChangeV2} (it has a `changes` list), false for a v1 {@link ConfChange}. */
export function isConfChangeV2(cc: AnyConfChange): cc is ConfChangeV2 {
  return (cc as ConfChangeV2).changes !== undefined;
}

/** Converts either kind of conf change to v2 form (a v1 change is one simple change). */
export function asConfChangeV2(cc: AnyConfChange): ConfChangeV2 {
  if (isConfChangeV2(cc)) return cc;
  return {
    transition: ConfChangeTransition.Auto,
    changes: [{ type: cc.type, nodeId: cc.nodeId }],
    context: cc.context,
  };
}

/**
 * True when the change is the "leave joint configuration" change: transition Auto and no
 * changes (the context is ignored).
 */
export function isLeaveJoint(cc: ConfChangeV2): boolean {
  return cc.transition === ConfChangeTransition.Auto && cc.changes.length === 0;
}

/**
 * Whether the change must go through a joint configuration, and if so whether raft leaves it
 * automatically. Joint consensus is used for any explicit transition and for more than one
 * change (even where a simple change would do: using it liberally keeps the rule simple).
 * Returns undefined for a simple change.
 */
export function enterJoint(cc: ConfChangeV2): { autoLeave: boolean } | undefined {
  if (cc.transition === ConfChangeTransition.Auto && cc.changes.length <= 1) return undefined;
  return { autoLeave: cc.transition !== ConfChangeTransition.JointExplicit };
}

/** Orders bigint ids ascending (for deterministic iteration and output). */
export function compareIds(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The ids sorted ascending, as a new array. */
export function sortedIds(ids: Iterable<bigint>): bigint[] {
  return [...ids].sort(compareIds);
}
