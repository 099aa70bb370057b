/**
 * The Snappy inflater for snappy-compressed ZooKeeper snapshots (zkproxy/migrate/snappy.ts):
 * every element kind of a raw block built by hand from the format description, snappy-java's
 * stream framing (blocks, a second stream appended), and damaged input refused with a
 * SnappyFormatError rather than wrong bytes. (A real ZooKeeper 3.8's snappy snapshot is read in
 * test/interop/zk-migrate-offline.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SnappyFormatError, inflateRawBlock, inflateSnappyStream, isSnappyStream } from '../../../../zkproxy/migrate/snappy';
import { SNAPPY_HEADER as HEADER, snappyFrame as blockFrame, snappyLiteral as literal, snappyVarint as varint } from './zk-data-writer';

test('every element kind: literals short and long, copies with 1-, 2- and 4-byte offsets, a run', () => {
  const long = Buffer.alloc(300, 7);
  const block = Buffer.concat([
    varint(3 + 6 + 300 + 5 + 10 + 4),
    literal(Buffer.from('abc')),
    Buffer.from([((6 - 4) << 2) | 1, 3]), // copy 6 from 3 back: "abcabc"
    literal(long),
    Buffer.from([((5 - 1) << 2) | 2, 0x35, 0x01]), // copy 5 from 309 back (2-byte offset): "abcab"
    Buffer.from([((10 - 1) << 2) | 3, 1, 0, 0, 0]), // copy 10 from 1 back (4-byte offset): a run of "b"
    Buffer.from([((4 - 4) << 2) | 1, 4]), // copy 4 from 4 back: "bbbb"
  ]);
  const out = inflateRawBlock(block);
  assert.equal(out.toString('latin1'), `abcabcabc${'\x07'.repeat(300)}abcab${'b'.repeat(10)}bbbb`);
});

test('a snappy-java stream: blocks in order, and a second stream appended', () => {
  const a = Buffer.concat([varint(5), literal(Buffer.from('hello'))]);
  const b = Buffer.concat([varint(6), literal(Buffer.from(' world'))]);
  const c = Buffer.concat([varint(1), literal(Buffer.from('!'))]);
  const stream = Buffer.concat([HEADER, blockFrame(a), blockFrame(b), HEADER, blockFrame(c)]);
  assert.equal(isSnappyStream(stream), true);
  assert.equal(inflateSnappyStream(stream).toString(), 'hello world!');
  assert.equal(inflateSnappyStream(HEADER).length, 0, 'an empty stream');
});

test('damaged input is refused, never inflated to wrong bytes', () => {
  const good = Buffer.concat([varint(6), literal(Buffer.from('abc')), Buffer.from([((3 - 1) << 2) | 2, 3, 0])]);
  assert.equal(inflateRawBlock(good).toString(), 'abcabc');
  const refused = (b: Buffer, msg: RegExp, what: string): void => assert.throws(() => inflateRawBlock(b), (e: unknown) => e instanceof SnappyFormatError && msg.test(e.message), what);
  refused(good.subarray(0, good.length - 1), /copy cut short/, 'a copy cut short');
  refused(Buffer.concat([varint(6), literal(Buffer.from('abc')), Buffer.from([((3 - 1) << 2) | 2, 4, 0])]), /outside the output/, 'an offset before the start');
  refused(Buffer.concat([varint(3), Buffer.from([0x01 | (0 << 2), 0])]), /outside the output/, 'offset 0');
  refused(Buffer.concat([varint(7), literal(Buffer.from('abc'))]), /inflates to 3 bytes, not the 7/, 'fewer bytes than announced');
  refused(Buffer.concat([varint(2), literal(Buffer.from('abc'))]), /runs past/, 'more bytes than announced');
  refused(Buffer.concat([varint(5), Buffer.from([(4 << 2)]), Buffer.from('ab')]), /runs past/, 'a literal cut short');
  refused(Buffer.from([0x80, 0x80]), /cut short/, 'a length cut short');
  refused(Buffer.concat([varint(1 << 30), literal(Buffer.from('a'))]), /announces/, 'an absurd length');
  const stream = Buffer.concat([HEADER, blockFrame(good)]);
  assert.throws(() => inflateSnappyStream(stream.subarray(0, stream.length - 2)), /cut short/);
  assert.throws(() => inflateSnappyStream(stream.subarray(0, HEADER.length + 2)), /block length cut short/);
  assert.throws(() => inflateSnappyStream(Buffer.from('ZKSN....')), /not a snappy-java stream/);
});
