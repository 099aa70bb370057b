/**
 * JuteReader/JuteWriter: primitive encodings (BinaryInputArchive/BinaryOutputArchive,
 * zk-protocol.md §1.2) and the promise that malformed input is a typed JuteDecodeError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JuteDecodeError, JuteReader, JuteWriter, writeInt64BE } from '../../../../protocol/jute';

test('primitives round-trip with the wire layout of the Java archive', () => {
  const w = new JuteWriter(4);
  w.writeInt(-2).writeLong(0x694d5d2f465b6c07n).writeBool(true).writeBuffer(null).writeBuffer(Buffer.alloc(0));
  w.writeUString('zé').writeUString(null).writeVector(['a', 'b'], (x, s) => x.writeUString(s));
  const b = w.toBuffer();
  assert.equal(b.readInt32BE(0), -2);
  assert.equal(b.readBigInt64BE(4), 0x694d5d2f465b6c07n);
  assert.equal(b[12], 1);
  assert.equal(b.readInt32BE(13), -1, 'null buffer is length -1');
  assert.equal(b.readInt32BE(17), 0, 'empty buffer is length 0');
  const r = new JuteReader(b);
  assert.equal(r.readInt(), -2);
  assert.equal(r.readLong(), 0x694d5d2f465b6c07n);
  assert.equal(r.readBool(), true);
  assert.equal(r.readBuffer(), null);
  assert.deepEqual(r.readBuffer(), Buffer.alloc(0));
  assert.equal(r.readUString(), 'zé');
  assert.equal(r.readUString(), null);
  assert.deepEqual(r.readVector((x) => x.readString()), ['a', 'b']);
  r.expectEnd();
});

test('any non-zero byte reads as true', () => {
  assert.equal(new JuteReader(Buffer.from([7])).readBool(), true);
  assert.equal(new JuteReader(Buffer.from([0])).readBool(), false);
});

const bad: { name: string; bytes: number[]; read: (r: JuteReader) => unknown; reason: string }[] = [
  { name: 'truncated int', bytes: [0, 0, 1], read: (r) => r.readInt(), reason: 'truncated' },
  { name: 'truncated long', bytes: [0, 0, 0, 0, 1], read: (r) => r.readLong(), reason: 'truncated' },
  { name: 'empty bool', bytes: [], read: (r) => r.readBool(), reason: 'truncated' },
  { name: 'buffer longer than input', bytes: [0, 0, 0, 9, 1, 2], read: (r) => r.readBuffer(), reason: 'truncated' },
  { name: 'negative buffer length', bytes: [0xff, 0xff, 0xff, 0xfe], read: (r) => r.readBuffer(), reason: 'negative-length' },
  { name: 'string past the max', bytes: [0x7f, 0, 0, 0], read: (r) => r.readUString(), reason: 'too-long' },
  { name: 'vector count past input', bytes: [0, 0, 0x10, 0], read: (r) => r.readVector((x) => x.readInt(), 'v', 4), reason: 'truncated' },
];

for (const c of bad) {
  test(`malformed input is a typed error: ${c.name}`, () => {
    const r = new JuteReader(Buffer.from(c.bytes));
    assert.throws(() => c.read(r), (e: unknown) => e instanceof JuteDecodeError && e.reason === c.reason);
  });
}

test('expectEnd rejects trailing bytes', () => {
  const r = new JuteReader(Buffer.from([0, 0, 0, 1, 9]));
  r.readInt();
  assert.throws(() => r.expectEnd(), (e: unknown) => e instanceof JuteDecodeError && e.reason === 'trailing-bytes');
});

test('frames are built in place with their length prefix', () => {
  const w = new JuteWriter();
  w.startFrame().writeInt(5).writeLong(1n).endFrame();
  const b = w.toBuffer();
  assert.equal(b.readInt32BE(0), 12);
  assert.equal(b.length, 16);
});

test('writeUString writes exactly the UTF-8 bytes with their length, for any string', async () => {
  const fc = (await import('fast-check')).default;
  // ASCII strings take a JS loop, others (and long ones) the native encoder: the bytes must
  // not tell which. Mixed strings turn non-ASCII after an ASCII run the loop already copied;
  // tiny writers force the buffer to grow in the middle.
  const text = fc.oneof(
    fc.string({ unit: 'binary-ascii', maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    // Latin-1 and just past it: one byte as a char code, two in UTF-8.
    fc.string({ unit: fc.integer({ min: 0x60, max: 0x17f }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
    fc.tuple(fc.string({ unit: 'binary-ascii', maxLength: 60 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 4 })).map(([a, b]) => a + b),
    fc.string({ unit: 'binary-ascii', minLength: 250, maxLength: 270 }),
  );
  fc.assert(fc.property(fc.array(text, { maxLength: 6 }), fc.integer({ min: 1, max: 64 }), (strings, size) => {
    const w = new JuteWriter(size);
    for (const s of strings) w.writeUString(s);
    const expected = Buffer.concat(strings.flatMap((s) => {
      const bytes = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeInt32BE(bytes.length);
      return [len, bytes];
    }));
    assert.deepEqual(w.toBuffer(), expected);
  }), { numRuns: 500 });
});

test('writeInt64BE writes the bytes of writeBigInt64BE for every long, at any offset', async () => {
  const fc = (await import('fast-check')).default;
  // Around ±2^53 (the number path's edge), ±2^32 (the word split) and the whole int64 range;
  // bigints beyond it wrap like BigInt.asIntN(64).
  const edges = [0n, 1n, -1n, 2n ** 32n, -(2n ** 32n), 2n ** 53n, -(2n ** 53n), 2n ** 63n, -(2n ** 63n)];
  const near = fc.tuple(fc.constantFrom(...edges), fc.bigInt({ min: -3n, max: 3n })).map(([e, d]) => e + d);
  const long = fc.oneof(near, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }));
  fc.assert(fc.property(long, fc.integer({ min: 0, max: 8 }), (v, offset) => {
    const ours = Buffer.alloc(16, 0xee);
    const node = Buffer.alloc(16, 0xee);
    writeInt64BE(ours, v, offset);
    node.writeBigInt64BE(BigInt.asIntN(64, v), offset);
    assert.deepEqual(ours, node);
  }), { numRuns: 2000 });
});
