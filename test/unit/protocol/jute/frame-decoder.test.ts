/** FrameDecoder: length-prefixed framing with a maximum (zk-protocol.md §1.1). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameDecoder, JuteDecodeError } from '../../../../protocol/jute';

function frame(payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeInt32BE(payload.length);
  return Buffer.concat([h, payload]);
}

test('frames split across chunks and joined in one chunk both decode', () => {
  const d = new FrameDecoder(100);
  const all = Buffer.concat([frame(Buffer.from('hello')), frame(Buffer.alloc(0)), frame(Buffer.from('x'))]);
  for (const byte of all) d.push(Buffer.from([byte]));
  assert.deepEqual(d.next(), Buffer.from('hello'));
  assert.deepEqual(d.next(), Buffer.alloc(0));
  assert.deepEqual(d.next(), Buffer.from('x'));
  assert.equal(d.next(), undefined);
  assert.equal(d.bufferedBytes(), 0);
});

test('an incomplete frame waits for more bytes', () => {
  const d = new FrameDecoder(100);
  d.push(frame(Buffer.from('abcdef')).subarray(0, 7));
  assert.equal(d.next(), undefined);
  assert.equal(d.bufferedBytes(), 7);
});

test('an oversize length is refused before the payload arrives', () => {
  const d = new FrameDecoder(10);
  const h = Buffer.alloc(4);
  h.writeInt32BE(11);
  d.push(h);
  assert.throws(() => d.next(), (e: unknown) => e instanceof JuteDecodeError && e.reason === 'too-long');
});

test('a negative length is refused', () => {
  const d = new FrameDecoder(10);
  d.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  assert.throws(() => d.next(), (e: unknown) => e instanceof JuteDecodeError && e.reason === 'negative-length');
});

test('peekInt sees a four-letter word without consuming it', () => {
  const d = new FrameDecoder(10);
  d.push(Buffer.from('ru'));
  assert.equal(d.peekInt(), undefined);
  d.push(Buffer.from('ok'));
  assert.equal(d.peekInt(), Buffer.from('ruok').readInt32BE(0));
  assert.equal(d.bufferedBytes(), 4);
});
