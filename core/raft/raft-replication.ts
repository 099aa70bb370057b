/**
 * Log replication (Raft thesis §3.5, §3.6, §5): the leader's appends, heartbeats and
 * snapshots, and the follower's handling of them.
 */
import { assert } from '../util/assert';
import { toHex } from '../util/bigint';
import { restoreConfState } from './confchange/restore';
import { payloadsSize } from './entry-size';
import { CompactedError, SnapshotTemporarilyUnavailableError, UnavailableError } from './errors';
import type { Raft } from './raft';
import { switchToConfig } from './raft-membership';
import type { Progress } from './tracker/progress';
import { ProgressState } from './tracker/progress';
import { type Entry, type Message, MessageType, NONE, StateType, isEmptySnapshot, newMessage } from './types';

/**
 * Appends entries proposed to this leader, stamping term and index. Returns false (appending
 * nothing) when the uncommitted-size quota would be exceeded. The leader counts its own copy
 * at once: it may persist in parallel with sending (thesis §10.2.1); the Ready contract makes
 * the driver persist before it applies or acknowledges.
 */
export function appendEntry(r: Raft, es: Entry[]): boolean {
  let li = r.raftLog.lastIndex();
  const stamped = es.map((e, i) => ({ ...e, term: r.term, index: li + 1 + i }));
  if (!r.increaseUncommittedSize(stamped)) {
    r.logger.warn(`${r.hexId()} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`);
    return false;
  }
  li = r.raftLog.append(stamped);
  const self = r.trk.progress.get(r.id);
  assert(self !== undefined, 'leader appending without its own progress');
  self.maybeUpdate(li);
  // Whatever maybeCommit returns, the caller broadcasts the new entries next.
  maybeCommit(r);
  return true;
}

/**
 * Advances the commit index to what a quorum has acknowledged, if that entry is from the
 * current term (thesis §3.6.2). Returns true if it moved.
 */
export function maybeCommit(r: Raft): boolean {
  return r.raftLog.maybeCommit(r.trk.committed(), r.term);
}

/** Sends an append (possibly empty, to carry the commit index) to `to` unless paused. */
export function sendAppend(r: Raft, to: bigint): void {
  maybeSendAppend(r, to, true);
}

/**
 * Sends entries from `next` to peer `to`, or a snapshot if they were compacted away. With
 * `sendIfEmpty` false, nothing is sent when there are no new entries. Returns whether a
 * message was sent.
 */
export function maybeSendAppend(r: Raft, to: bigint, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to);
  assert(pr !== undefined, `no progress for ${toHex(to)}`);
  if (pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  let prevTerm: number;
  try {
    prevTerm = r.raftLog.term(prevIndex);
  } catch (e) {
    if (e instanceof CompactedError || e instanceof UnavailableError) return maybeSendSnapshot(r, to, pr);
    throw e;
  }
  let ents: Entry[] = [];
  // With a full inflights ring in Replicate, send only empty appends: if every in-flight
  // message was lost, an empty one still gets an answer that frees the ring.
  if (pr.state !== ProgressState.Replicate || !pr.inflights.full()) {
    try {
      ents = r.raftLog.entries(pr.next, r.maxMsgSize);
    } catch (e) {
      if (e instanceof CompactedError) return maybeSendSnapshot(r, to, pr);
      throw e;
    }
  }
  if (ents.length === 0 && !sendIfEmpty) return false;
  r.send(
    newMessage({ type: MessageType.MsgApp, to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: r.raftLog.committed }),
  );
  pr.sentEntries(ents.length, payloadsSize(ents));
  pr.sentCommitIndex(r.raftLog.committed);
  return true;
}

function maybeSendSnapshot(r: Raft, to: bigint, pr: Progress): boolean {
  if (!pr.recentActive) {
    r.logger.debug(`ignore sending snapshot to ${toHex(to)} since it is not recently active`);
    return false;
  }
  let snapshot;
  try {
    snapshot = r.raftLog.snapshot();
  } catch (e) {
    if (e instanceof SnapshotTemporarilyUnavailableError) {
      r.logger.debug(`${r.hexId()} failed to send snapshot to ${toHex(to)} because snapshot is temporarily unavailable`);
      return false;
    }
    throw e;
  }
  assert(!isEmptySnapshot(snapshot), 'need non-empty snapshot');
  const { index, term } = snapshot.metadata;
  r.logger.debug(
    `${r.hexId()} [firstindex: ${r.raftLog.firstIndex()}, commit: ${r.raftLog.committed}] sent snapshot[index: ${index}, term: ${term}] to ${toHex(to)} [${pr.toString()}]`,
  );
  pr.becomeSnapshot(index);
  r.send(newMessage({ type: MessageType.MsgSnap, to, snapshot }));
  return true;
}

/** Sends appends (or commit updates) to every other member. */
export function bcastAppend(r: Raft): void {
  r.trk.visit((id) => {
    if (id !== r.id) sendAppend(r, id);
  });
}

/**
 * Heartbeats to every other member, carrying the context of the newest pending read so that
 * the answers also confirm leadership for ReadIndex (thesis §6.4).
 */
export function bcastHeartbeat(r: Raft): void {
  bcastHeartbeatWithCtx(r, r.readOnly.lastPendingRequestCtx());
}

/** Heartbeats to every other member carrying `ctx` (a ReadIndex request context), if any. */
export function bcastHeartbeatWithCtx(r: Raft, ctx: Uint8Array | undefined): void {
  r.trk.visit((id) => {
    if (id !== r.id) sendHeartbeat(r, id, ctx);
  });
}

function sendHeartbeat(r: Raft, to: bigint, ctx: Uint8Array | undefined): void {
  // Never tell a follower to commit past what it is known to hold: it might not have those
  // entries, and commitTo would find them out of range.
  const pr = r.trk.progress.get(to)!;
  const commit = Math.min(pr.match, r.raftLog.committed);
  pr.sentCommitIndex(commit);
  const m = newMessage({ type: MessageType.MsgHeartbeat, to, commit });
  if (ctx) m.context = ctx;
  r.send(m);
}

/** Follower: MsgApp from the leader (thesis §3.5). */
export function handleAppendEntries(r: Raft, m: Message): void {
  if (m.index < r.raftLog.committed) {
    // Everything up to our commit index is settled; say so, so the leader skips ahead.
    r.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: r.raftLog.committed }));
    return;
  }
  const lastNew = r.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: lastNew }));
    return;
  }
  // Mismatch at m.index. Hint the leader at the largest (index, term) at which we might match:
  // the last entry at or below m.index whose term is ≤ m.logTerm. That skips our whole
  // divergent tail of higher terms in one round trip (etcd-io/raft fast backoff).
  const hintIndex = Math.min(m.index, r.raftLog.lastIndex());
  const hint = r.raftLog.findConflictByTerm(hintIndex, m.logTerm);
  r.logger.debug(
    `${r.hexId()} [logterm: ${r.raftLog.termOrZero(m.index)}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${toHex(m.from)}`,
  );
  r.send(
    newMessage({ type: MessageType.MsgAppResp, to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }),
  );
}

/** Follower: MsgHeartbeat. Its commit is never beyond our match (see sendHeartbeat). */
export function handleHeartbeat(r: Raft, m: Message): void {
  r.raftLog.commitTo(m.commit);
  r.send(newMessage({ type: MessageType.MsgHeartbeatResp, to: m.from, context: m.context }));
}

/** Follower: MsgSnap. Answers with our new last index, or our commit if the snapshot was not needed. */
export function handleSnapshot(r: Raft, m: Message): void {
  const s = m.snapshot;
  assert(s !== undefined, 'MsgSnap without a snapshot');
  const { index, term } = s.metadata;
  if (restoreSnapshot(r, m)) {
    r.logger.info(`${r.hexId()} [commit: ${r.raftLog.committed}] restored snapshot [index: ${index}, term: ${term}]`);
    r.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: r.raftLog.lastIndex() }));
  } else {
    r.logger.info(`${r.hexId()} [commit: ${r.raftLog.committed}] ignored snapshot [index: ${index}, term: ${term}]`);
    r.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: r.raftLog.committed }));
  }
}

/**
 * Installs the snapshot of `m` if it is newer than our commit index and includes us. If our
 * log already has the snapshot's last entry, we just fast-forward commit instead (keeping the
 * log). Returns true if the log was replaced.
 */
function restoreSnapshot(r: Raft, m: Message): boolean {
  const s = m.snapshot!;
  if (s.metadata.index <= r.raftLog.committed) return false;
  if (r.state !== StateType.Follower) {
    // Defense in depth: only followers restore. Never expected.
    r.logger.warn(`${r.hexId()} attempted to restore snapshot as leader; should never happen`);
    r.becomeFollower(r.term + 1, NONE);
    return false;
  }
  const cs = s.metadata.confState;
  const member = [cs.voters, cs.learners, cs.votersOutgoing].some((ids) => ids.includes(r.id));
  if (!member) {
    r.logger.warn(`${r.hexId()} attempted to restore snapshot but it is not in the ConfState; should never happen`);
    return false;
  }
  if (r.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
    r.logger.info(`${r.hexId()} fast-forwarded commit to snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
    r.raftLog.commitTo(s.metadata.index);
    return false;
  }
  r.raftLog.restore(s);
  const restored = restoreConfState(cs, r.raftLog.lastIndex(), r.trk.maxInflight, r.trk.maxInflightBytes);
  switchToConfig(r, restored.config, restored.progress);
  return true;
}
