/**
 * Peer framing: messages survive any chunking of the byte stream, and a length over the bound
 * is an error instead of an unbounded buffer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, FrameDecoder, FrameTooLargeError, MAX_PEER_FRAME_BYTES } from '../../../../core/server/peer-frame';
import { MessageType, newMessage, EntryType } from '../../../../core/raft/types';

const msgs = [
  newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 0xffff_ffff_ffff_ffffn, term: 3, commit: 9 }),
  newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 3, index: 4, logTerm: 3, entries: [{ term: 3, index: 5, type: EntryType.Normal, data: Buffer.alloc(70_000, 7) }] }),
  newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 4, logTerm: 3, index: 5 }),
];

for (const chunk of [1, 3, 4, 5, 1000, 1 << 20]) {
  test(`messages round-trip through chunks of ${chunk} bytes`, () => {
    const stream = Buffer.concat(msgs.map(encodeFrame));
    const d = new FrameDecoder();
    const out = [];
    for (let i = 0; i < stream.length; i += chunk) out.push(...d.push(stream.subarray(i, i + chunk)));
    assert.equal(out.length, msgs.length);
    out.forEach((m, i) => {
      assert.equal(m.type, msgs[i]!.type);
      assert.equal(m.to, msgs[i]!.to);
      assert.equal(m.entries.length, msgs[i]!.entries.length);
      assert.deepEqual(Buffer.from(m.entries[0]?.data ?? []), Buffer.from(msgs[i]!.entries[0]?.data ?? []));
    });
  });
}

test('a frame longer than the bound is refused', () => {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(MAX_PEER_FRAME_BYTES + 1);
  assert.throws(() => new FrameDecoder().push(head), FrameTooLargeError);
});
