/**
 * CRC-32C (core/util/crc32c.ts): the published check value, and the sliced implementation
 * equal to the plain bytewise definition for every length, alignment and chaining split.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, crc32cUpdate } from '../../../../core/util/crc32c';

/** The definition, one bit at a time (independent of the tables under test). */
function reference(crc: number, data: Uint8Array): number {
  let c = ~crc >>> 0;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}

test('crc32c matches the published check value and known vectors', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43); // 32 bytes of ones
});

test('crc32cUpdate equals the bitwise definition at every length, offset and split', () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff;
  const buf = new Uint8Array(300);
  for (let i = 0; i < buf.length; i++) buf[i] = rnd();
  for (let len = 0; len <= 64; len++) {
    for (let off = 0; off < 8; off++) {
      const part = buf.subarray(off, off + len);
      assert.equal(crc32cUpdate(7, part), reference(7, part), `len ${len} offset ${off}`);
    }
  }
  for (let split = 0; split <= buf.length; split += 13) {
    const chained = crc32cUpdate(crc32cUpdate(0, buf.subarray(0, split)), buf.subarray(split));
    assert.equal(chained, reference(0, buf), `split at ${split}`);
  }
});
