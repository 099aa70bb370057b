import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeConfChange,
  decodeConfChangeV2,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  encodeConfChange,
  encodeConfChangeV2,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
} from '../../../../core/raft/codec';
import { DecodeError } from '../../../../core/raft/errors';
import { entrySize } from '../../../../core/raft/entry-size';
import { ConfChangeTransition, ConfChangeType, EntryType, MessageType, newMessage, type Snapshot } from '../../../../core/raft/types';

const snap: Snapshot = {
  data: new Uint8Array([1, 2, 3]),
  metadata: { index: 42, term: 7, confState: { voters: [1n, 0xffff_ffff_ffff_ffffn], learners: [3n], votersOutgoing: [1n], learnersNext: [], autoLeave: true } },
};

test('codec round-trips every kind', () => {
  const m = newMessage({
    type: MessageType.MsgApp,
    to: 0x8e9e05c52164694dn,
    from: 1n,
    term: 2 ** 40,
    logTerm: 3,
    index: Number.MAX_SAFE_INTEGER,
    entries: [
      { term: 3, index: 4, type: EntryType.Normal, data: new Uint8Array([9]) },
      { term: 3, index: 5, type: EntryType.ConfChangeV2, data: new Uint8Array(0) },
    ],
    commit: 3,
    reject: true,
    rejectHint: 77,
    context: new Uint8Array([5, 6]),
    snapshot: snap,
  });
  assert.deepEqual(decodeMessage(encodeMessage(m)), m);
  const e = { term: 1, index: 2, type: EntryType.ConfChange, data: new Uint8Array([1, 2]) };
  assert.deepEqual(decodeEntry(encodeEntry(e)), e);
  assert.equal(encodeEntry(e).length, entrySize(e) + 2, 'entrySize is the encoded size minus the 2-byte header');
  assert.deepEqual(decodeHardState(encodeHardState({ term: 5, vote: 3n, commit: 9 })), { term: 5, vote: 3n, commit: 9 });
  assert.deepEqual(decodeSnapshot(encodeSnapshot(snap)), snap);
  const cc = { id: 12345n, type: ConfChangeType.AddLearnerNode, nodeId: 7n, context: new Uint8Array([1]) };
  assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
  const v2 = { transition: ConfChangeTransition.JointExplicit, changes: [{ type: ConfChangeType.RemoveNode, nodeId: 2n }], context: new Uint8Array(0) };
  assert.deepEqual(decodeConfChangeV2(encodeConfChangeV2(v2)), v2);
});

test('codec rejects malformed input with DecodeError', () => {
  const good = encodeMessage(newMessage({ type: MessageType.MsgHeartbeat, to: 2n, from: 1n, term: 1, context: new Uint8Array([1, 2, 3]) }));
  const corrupt = (f: (b: Uint8Array) => void): Uint8Array => {
    const b = good.slice();
    f(b);
    return b;
  };
  const cases: Array<{ name: string; buf: Uint8Array; decode?: (b: Uint8Array) => unknown }> = [
    { name: 'empty', buf: new Uint8Array(0) },
    { name: 'unknown version', buf: corrupt((b) => (b[0] = 9)) },
    { name: 'wrong kind', buf: corrupt((b) => (b[1] = 1)) },
    { name: 'bad message type', buf: corrupt((b) => (b[2] = 200)) },
    { name: 'truncated', buf: good.slice(0, good.length - 3) },
    { name: 'trailing bytes', buf: new Uint8Array([...good, 0]) },
    { name: 'entry count larger than input', buf: encodeMessageWithCount(0x7fff_ffff) },
    { name: 'varint too long', buf: new Uint8Array([1, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), decode: decodeHardState },
    { name: 'bad boolean', buf: encodeSnapshotWithAutoLeave(7), decode: decodeSnapshot },
    { name: 'bad entry type', buf: new Uint8Array([1, 1, 5, 1, 1, 0]), decode: decodeEntry },
    { name: 'bad conf change type', buf: new Uint8Array([1, 6, ...new Uint8Array(8), 9, ...new Uint8Array(8), 0]), decode: decodeConfChange },
  ];
  for (const c of cases) {
    assert.throws(() => (c.decode ?? decodeMessage)(c.buf), DecodeError, c.name);
  }
});

/** A heartbeat whose entry count field claims `n` entries. */
function encodeMessageWithCount(n: number): Uint8Array {
  const b = encodeMessage(newMessage({ type: MessageType.MsgHeartbeat, to: 2n, from: 1n }));
  // Layout: 2 header + type 1 + to 8 + from 8 + 4 varints (1 each) + vote 8 + reject 1 + hint 1 + context len 1 = 35; count at 35.
  const head = b.slice(0, 35);
  const count: number[] = [];
  let v = n;
  while (v >= 0x80) {
    count.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  count.push(v);
  return new Uint8Array([...head, ...count, 0, 0]);
}

function encodeSnapshotWithAutoLeave(v: number): Uint8Array {
  const b = encodeSnapshot({ data: new Uint8Array(0), metadata: { index: 1, term: 1, confState: { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } });
  // header 2, index 1, term 1, four empty id lists 4, autoLeave at 8.
  b[8] = v;
  return b;
}

test('empty ConfChangeV2 data decodes as leave-joint', () => {
  const cc = decodeConfChangeV2(new Uint8Array(0));
  assert.equal(cc.changes.length, 0);
  assert.equal(cc.transition, ConfChangeTransition.Auto);
});
