/**
 * The binary encoding of raft types for the peer transport and the durable log. Our own
 * compact format (not protobuf): every top-level value starts with a format version byte and a
 * kind byte, then fields in a fixed order — unsigned LEB128 varints for terms/indexes/counts,
 * 8-byte big-endian words for node ids, varint-length-prefixed byte strings.
 *
 * Decoding never trusts its input: lengths and counts are checked against the remaining bytes,
 * enum values against their ranges, trailing bytes are an error, and every failure is a
 * {@link DecodeError} (never a RangeError or an assertion), so a malformed peer message can be
 * logged and dropped rather than crash the process.
 *
 * Layouts (after the 2-byte header):
 *   Entry        type:u8 term:v index:v data:bytes
 *   HardState    term:v vote:u64 commit:v
 *   ConfState    voters:ids learners:ids votersOutgoing:ids learnersNext:ids autoLeave:bool
 *   Snapshot     index:v term:v confState data:bytes
 *   Message      type:u8 to:u64 from:u64 term:v logTerm:v index:v commit:v vote:u64 reject:bool
 *                rejectHint:v context:bytes entries:[Entry] hasSnap:bool [Snapshot] responses:[Message]
 *   ConfChange   id:u64 type:u8 nodeId:u64 context:bytes
 *   ConfChangeV2 transition:u8 changes:[type:u8 nodeId:u64] context:bytes
 */
import { ByteReader } from '../util/byte-reader';
import { ByteAlloc } from '../util/byte-alloc';
import { ByteWriter } from '../util/byte-writer';
import {
  type ConfChange,
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  type ConfChangeV2,
  type ConfState,
  EMPTY_BYTES,
  type Entry,
  EntryType,
  type HardState,
  MAX_MESSAGE_TYPE,
  type Message,
  type Snapshot,
} from './types';

/** The format version written by this code; decoders reject any other. */
export const CODEC_VERSION = 1;

/** Kind bytes of top-level values. */
export enum CodecKind {
  Entry = 1,
  HardState = 2,
  ConfState = 3,
  Snapshot = 4,
  Message = 5,
  ConfChange = 6,
  ConfChangeV2 = 7,
}

/** Responses nest messages; one level is all raftpb ever uses. */
const MAX_MESSAGE_DEPTH = 2;

function header(w: ByteWriter, kind: CodecKind): void {
  w.u8(CODEC_VERSION);
  w.u8(kind);
}

function readHeader(r: ByteReader, kind: CodecKind): void {
  const version = r.u8();
  if (version !== CODEC_VERSION) r.fail(`unsupported codec version ${version}`);
  const k = r.u8();
  if (k !== kind) r.fail(`expected ${CodecKind[kind]} but found kind ${k}`);
}

function enumByte(r: ByteReader, max: number, what: string): number {
  const v = r.u8();
  if (v > max) r.fail(`bad ${what} ${v}`);
  return v;
}

function writeIds(w: ByteWriter, ids: readonly bigint[]): void {
  w.varint(ids.length);
  for (const id of ids) w.u64(id);
}

function readIds(r: ByteReader): bigint[] {
  const n = r.count(8);
  const ids: bigint[] = new Array<bigint>(n);
  for (let i = 0; i < n; i++) ids[i] = r.u64();
  return ids;
}

function writeEntry(w: ByteWriter, e: Entry): void {
  w.u8(e.type);
  w.varint(e.term);
  w.varint(e.index);
  w.bytes(e.data);
}

function readEntry(r: ByteReader): Entry {
  const type = enumByte(r, EntryType.ConfChangeV2, 'entry type') as EntryType;
  const term = r.varint();
  const index = r.varint();
  const data = r.bytes();
  return { type, term, index, data };
}

/** An entry's term and index; its data is checked for length but neither read nor copied. */
function readEntryHead(r: ByteReader): { term: number; index: number } {
  enumByte(r, EntryType.ConfChangeV2, 'entry type');
  const term = r.varint();
  const index = r.varint();
  r.bytesView();
  return { term, index };
}

function writeConfState(w: ByteWriter, cs: ConfState): void {
  writeIds(w, cs.voters);
  writeIds(w, cs.learners);
  writeIds(w, cs.votersOutgoing);
  writeIds(w, cs.learnersNext);
  w.bool(cs.autoLeave);
}

function readConfState(r: ByteReader): ConfState {
  const voters = readIds(r);
  const learners = readIds(r);
  const votersOutgoing = readIds(r);
  const learnersNext = readIds(r);
  const autoLeave = r.bool();
  return { voters, learners, votersOutgoing, learnersNext, autoLeave };
}

function writeSnapshot(w: ByteWriter, s: Snapshot): void {
  w.varint(s.metadata.index);
  w.varint(s.metadata.term);
  writeConfState(w, s.metadata.confState);
  w.bytes(s.data);
}

function readSnapshot(r: ByteReader): Snapshot {
  const index = r.varint();
  const term = r.varint();
  const confState = readConfState(r);
  const data = r.bytes();
  return { data, metadata: { index, term, confState } };
}

function writeMessage(w: ByteWriter, m: Message): void {
  w.u8(m.type);
  w.u64(m.to);
  w.u64(m.from);
  w.varint(m.term);
  w.varint(m.logTerm);
  w.varint(m.index);
  w.varint(m.commit);
  w.u64(m.vote);
  w.bool(m.reject);
  w.varint(m.rejectHint);
  w.bytes(m.context);
  w.varint(m.entries.length);
  for (const e of m.entries) writeEntry(w, e);
  w.bool(m.snapshot !== undefined);
  if (m.snapshot) writeSnapshot(w, m.snapshot);
  w.varint(m.responses.length);
  for (const resp of m.responses) writeMessage(w, resp);
}

function readMessage(r: ByteReader, depth: number): Message {
  if (depth > MAX_MESSAGE_DEPTH) r.fail('messages nested too deeply');
  const type = enumByte(r, MAX_MESSAGE_TYPE, 'message type');
  const to = r.u64();
  const from = r.u64();
  const term = r.varint();
  const logTerm = r.varint();
  const index = r.varint();
  const commit = r.varint();
  const vote = r.u64();
  const reject = r.bool();
  const rejectHint = r.varint();
  const context = r.bytes();
  const nEntries = r.count(4); // an entry takes at least 4 bytes
  const entries: Entry[] = new Array<Entry>(nEntries);
  for (let i = 0; i < nEntries; i++) entries[i] = readEntry(r);
  const m: Message = { type, to, from, term, logTerm, index, entries, commit, vote, reject, rejectHint, context, responses: [] };
  if (r.bool()) m.snapshot = readSnapshot(r);
  const nResponses = r.count(35); // a message body takes at least 35 bytes
  for (let i = 0; i < nResponses; i++) m.responses.push(readMessage(r, depth + 1));
  return m;
}

/** Reused by every encoding (synchronous, never nested): only the exact-size result is allocated. */
const scratch = new ByteWriter(4096);

function encode(kind: CodecKind, body: (w: ByteWriter) => void, alloc?: ByteAlloc): Uint8Array {
  return encodeScratch(kind, body).finish(alloc);
}

/** Encodes into the shared scratch writer and returns it (its bytes live until the next encoding). */
function encodeScratch(kind: CodecKind, body: (w: ByteWriter) => void): ByteWriter {
  const w = scratch;
  w.reset();
  header(w, kind);
  body(w);
  return w;
}

function decode<T>(buf: Uint8Array, kind: CodecKind, body: (r: ByteReader) => T, alloc?: ByteAlloc): T {
  const r = new ByteReader(buf, alloc);
  readHeader(r, kind);
  const v = body(r);
  r.end();
  return v;
}

/** Encodes a message for the peer transport (`alloc` makes the result). */
export function encodeMessage(m: Message, alloc?: ByteAlloc): Uint8Array {
  return encode(CodecKind.Message, (w) => writeMessage(w, m), alloc);
}

/** Decodes a message; throws `DecodeError` on any malformation. `alloc` makes the entries' data. */
export function decodeMessage(buf: Uint8Array, alloc?: ByteAlloc): Message {
  return decode(buf, CodecKind.Message, (r) => readMessage(r, 1), alloc);
}

/** Encodes one log entry (for the durable log; `alloc` makes the result). */
export function encodeEntry(e: Entry, alloc?: ByteAlloc): Uint8Array {
  return encode(CodecKind.Entry, (w) => writeEntry(w, e), alloc);
}

/**
 * Encodes one log entry into the codec's scratch buffer and returns a view of it, valid only
 * until the next encoding by this codec: for a caller that copies it at once (a WAL record).
 */
export function encodeEntryTransient(e: Entry): Uint8Array {
  return encodeScratch(CodecKind.Entry, (w) => writeEntry(w, e)).written();
}

/** Decodes one log entry; throws `DecodeError`. `alloc` makes its data. */
export function decodeEntry(buf: Uint8Array, alloc?: ByteAlloc): Entry {
  return decode(buf, CodecKind.Entry, readEntry, alloc);
}

/**
 * The term and index of an encoded entry, checked as {@link decodeEntry} checks the whole entry
 * (throws `DecodeError` where it would) but without copying the data: a WAL replay reads every
 * entry's position this way and decodes in full only the entries no snapshot marker dropped.
 */
export function decodeEntryHead(buf: Uint8Array): { term: number; index: number } {
  return decode(buf, CodecKind.Entry, readEntryHead);
}

/** Encodes a hard state (for the durable log). */
export function encodeHardState(hs: HardState): Uint8Array {
  return encode(CodecKind.HardState, (w) => {
    w.varint(hs.term);
    w.u64(hs.vote);
    w.varint(hs.commit);
  });
}

/** Decodes a hard state; throws `DecodeError`. */
export function decodeHardState(buf: Uint8Array): HardState {
  return decode(buf, CodecKind.HardState, (r) => {
    const term = r.varint();
    const vote = r.u64();
    const commit = r.varint();
    return { term, vote, commit };
  });
}

/** Encodes a ConfState (for storing the configuration next to the state machine). */
export function encodeConfState(cs: ConfState): Uint8Array {
  return encode(CodecKind.ConfState, (w) => writeConfState(w, cs));
}

/** Decodes a ConfState; throws `DecodeError`. */
export function decodeConfState(buf: Uint8Array): ConfState {
  return decode(buf, CodecKind.ConfState, readConfState);
}

/** Encodes a snapshot's metadata and data (for MsgSnap and the snapshot file). */
export function encodeSnapshot(s: Snapshot): Uint8Array {
  return encode(CodecKind.Snapshot, (w) => writeSnapshot(w, s));
}

/** Decodes a snapshot; throws `DecodeError`. */
export function decodeSnapshot(buf: Uint8Array): Snapshot {
  return decode(buf, CodecKind.Snapshot, readSnapshot);
}

/** Encodes a v1 conf change as the data of an `EntryType.ConfChange` entry. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encode(CodecKind.ConfChange, (w) => {
    w.u64(cc.id);
    w.u8(cc.type);
    w.u64(cc.nodeId);
    w.bytes(cc.context);
  });
}

/** Decodes the data of an `EntryType.ConfChange` entry; throws `DecodeError`. */
export function decodeConfChange(buf: Uint8Array): ConfChange {
  return decode(buf, CodecKind.ConfChange, (r) => {
    const id = r.u64();
    const type = enumByte(r, ConfChangeType.AddLearnerNode, 'conf change type') as ConfChangeType;
    const nodeId = r.u64();
    const context = r.bytes();
    return { id, type, nodeId, context };
  });
}

/** Encodes a v2 conf change as the data of an `EntryType.ConfChangeV2` entry. */
export function encodeConfChangeV2(cc: ConfChangeV2): Uint8Array {
  return encode(CodecKind.ConfChangeV2, (w) => {
    w.u8(cc.transition);
    w.varint(cc.changes.length);
    for (const c of cc.changes) {
      w.u8(c.type);
      w.u64(c.nodeId);
    }
    w.bytes(cc.context);
  });
}

/**
 * Decodes the data of an `EntryType.ConfChangeV2` entry; throws `DecodeError`. Empty data is
 * the empty change ("leave joint"), as an empty protobuf message would be in etcd.
 */
export function decodeConfChangeV2(buf: Uint8Array): ConfChangeV2 {
  if (buf.length === 0) return { transition: ConfChangeTransition.Auto, changes: [], context: EMPTY_BYTES };
  return decode(buf, CodecKind.ConfChangeV2, (r) => {
    const transition = enumByte(r, ConfChangeTransition.JointExplicit, 'transition') as ConfChangeTransition;
    const n = r.count(9);
    const changes: ConfChangeSingle[] = [];
    for (let i = 0; i < n; i++) {
      const type = enumByte(r, ConfChangeType.AddLearnerNode, 'conf change type') as ConfChangeType;
      changes.push({ type, nodeId: r.u64() });
    }
    const context = r.bytes();
    return { transition, changes, context };
  });
}
