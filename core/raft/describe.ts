/**
 * Human-readable renderings of raft values, for debug logs and the scripted interaction tests
 * (whose golden files depend on this exact format: change it only together with them).
 * Node ids are printed in hex as etcd prints them (identical to decimal below 10).
 */
import { toHex } from '../util/bigint';
import { decodeConfChange, decodeConfChangeV2 } from './codec';
import { DecodeError } from './errors';
import type { Ready } from './ready';
import {
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  type Snapshot,
  StateType,
  asConfChangeV2,
  isLeaveJoint,
} from './types';

const STATE_NAMES: Record<StateType, string> = {
  [StateType.Follower]: 'StateFollower',
  [StateType.Candidate]: 'StateCandidate',
  [StateType.Leader]: 'StateLeader',
  [StateType.PreCandidate]: 'StatePreCandidate',
};

/** `StateLeader` etc. */
export function describeState(s: StateType): string {
  return STATE_NAMES[s];
}

/** Bytes as a quoted string when printable ASCII, else as hex (`0x…`). */
export function describeBytes(b: Uint8Array): string {
  let printable = true;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e) {
      printable = false;
      break;
    }
  }
  if (printable) return JSON.stringify(String.fromCharCode(...b));
  let hex = '0x';
  for (let i = 0; i < b.length; i++) hex += b[i]!.toString(16).padStart(2, '0');
  return hex;
}

/** A conf change in the compact script syntax: `v2 l3 r1 u4` (voter, learner, remove, update). */
export function describeConfChangeSingles(changes: readonly ConfChangeSingle[]): string {
  const letter: Record<ConfChangeType, string> = {
    [ConfChangeType.AddNode]: 'v',
    [ConfChangeType.AddLearnerNode]: 'l',
    [ConfChangeType.RemoveNode]: 'r',
    [ConfChangeType.UpdateNode]: 'u',
  };
  return changes.map((c) => `${letter[c.type]}${toHex(c.nodeId)}`).join(' ');
}

function describeConfChangeV2(cc: ConfChangeV2): string {
  if (isLeaveJoint(cc)) return 'leave-joint';
  const body = describeConfChangeSingles(cc.changes);
  if (cc.transition === ConfChangeTransition.Auto) return body;
  const t = cc.transition === ConfChangeTransition.JointImplicit ? 'implicit' : 'explicit';
  return body === '' ? `transition=${t}` : `${body} transition=${t}`;
}

/** `term/index Type data`, with conf changes decoded. */
export function describeEntry(e: Entry): string {
  let data: string;
  try {
    if (e.type === EntryType.ConfChange) data = describeConfChangeV2(asConfChangeV2(decodeConfChange(e.data)));
    else if (e.type === EntryType.ConfChangeV2) data = describeConfChangeV2(decodeConfChangeV2(e.data));
    else data = describeBytes(e.data);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    data = `<undecodable ${describeBytes(e.data)}>`;
  }
  const type = e.type === EntryType.Normal ? 'EntryNormal' : e.type === EntryType.ConfChange ? 'EntryConfChange' : 'EntryConfChangeV2';
  return `${e.term}/${e.index} ${type} ${data}`;
}

/** `[e1, e2]`. */
export function describeEntries(ents: readonly Entry[]): string {
  return `[${ents.map(describeEntry).join(', ')}]`;
}

/** `Voters:[1 2] VotersOutgoing:[1] Learners:[3] LearnersNext:[] AutoLeave:false`. */
export function describeConfState(cs: ConfState): string {
  const ids = (l: readonly bigint[]): string => `[${l.map(toHex).join(' ')}]`;
  return `Voters:${ids(cs.voters)} VotersOutgoing:${ids(cs.votersOutgoing)} Learners:${ids(cs.learners)} LearnersNext:${ids(cs.learnersNext)} AutoLeave:${cs.autoLeave}`;
}

/** `Index:10 Term:2 ConfState:…`. */
export function describeSnapshot(s: Snapshot): string {
  return `Index:${s.metadata.index} Term:${s.metadata.term} ConfState:${describeConfState(s.metadata.confState)}`;
}

/** `Term:1 Vote:1 Commit:3`. */
export function describeHardState(hs: HardState): string {
  return `Term:${hs.term} Vote:${toHex(hs.vote)} Commit:${hs.commit}`;
}

/** One line per message: `1->2 MsgApp Term:1 Log:1/3 Commit:3 Entries:[…]`. */
export function describeMessage(m: Message): string {
  let s = `${toHex(m.from)}->${toHex(m.to)} ${MessageType[m.type]} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.vote !== 0n) s += ` Vote:${toHex(m.vote)}`;
  if (m.context.length > 0) s += ` Context:${describeBytes(m.context)}`;
  if (m.entries.length > 0) s += ` Entries:${describeEntries(m.entries)}`;
  if (m.snapshot && m.snapshot.metadata.index > 0) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  return s;
}

/** A multi-line rendering of a Ready (no blank lines). */
export function describeReady(rd: Ready): string {
  const lines: string[] = [`Ready MustSync=${rd.mustSync}:`];
  if (rd.softState) lines.push(`Lead:${toHex(rd.softState.lead)} State:${describeState(rd.softState.raftState)}`);
  if (rd.hardState) lines.push(`HardState ${describeHardState(rd.hardState)}`);
  if (rd.readStates.length > 0) {
    lines.push(`ReadStates: [${rd.readStates.map((r) => `{Index:${r.index} Ctx:${describeBytes(r.requestCtx)}}`).join(', ')}]`);
  }
  if (rd.entries.length > 0) lines.push('Entries:', ...rd.entries.map(describeEntry));
  if (rd.snapshot) lines.push(`Snapshot ${describeSnapshot(rd.snapshot)}`);
  if (rd.committedEntries.length > 0) lines.push('CommittedEntries:', ...rd.committedEntries.map(describeEntry));
  if (rd.messages.length > 0) lines.push('Messages:', ...rd.messages.map(describeMessage));
  return lines.join('\n');
}
