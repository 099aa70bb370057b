/**
 * ByteWriter.finish and ByteReader.bytes hand out copies from the given allocator: with Node's
 * pooled Buffers (bytes.ts `pooledBytes`) as with plain Uint8Arrays, a result never changes when
 * the writer is reused or the reader's input is overwritten (the pool shares slabs, so a view
 * instead of a copy would show exactly that).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteWriter } from '../../../../core/util/byte-writer';
import { ByteReader } from '../../../../core/util/byte-reader';
import { plainBytes } from '../../../../core/util/byte-alloc';
import { logEntryBytes, pooledBytes } from '../../../../core/util/bytes';

for (const [name, alloc] of [['plain', plainBytes], ['pooled', pooledBytes], ['log-entry', logEntryBytes]] as const) {
  test(`${name}: finish and bytes return copies that outlive the writer's and the input's reuse`, () => {
    const w = new ByteWriter(16);
    w.bytes(Buffer.from('first'));
    const first = w.finish(alloc);
    assert.equal(first instanceof Buffer, name !== 'plain');
    w.reset();
    w.bytes(Buffer.from('other'));
    assert.deepEqual(Buffer.from(first), Buffer.from([5, ...Buffer.from('first')]), 'finish returned a view of the scratch');
    assert.deepEqual(Buffer.from(w.written()), Buffer.from([5, ...Buffer.from('other')]));

    const input = Buffer.from(first);
    const r = new ByteReader(input, alloc);
    const got = r.bytes();
    input.fill(0);
    assert.equal(Buffer.from(got).toString(), 'first', 'bytes returned a view of the input');
  });
}

test('log-entry slabs hand out disjoint arrays of the asked size, and big ones their own memory', () => {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 600; i++) {
    const a = logEntryBytes(100 + (i % 300));
    assert.equal(a.length, 100 + (i % 300));
    a.fill(i % 251);
    parts.push(a);
  }
  parts.forEach((a, i) => assert.ok(a.every((b) => b === i % 251), `array ${i} was overwritten by a later one`));
  const slabs = new Set(parts.map((a) => a.buffer));
  assert.ok(slabs.size > 1 && slabs.size < 20, `${slabs.size} slabs for 600 entries`);
  const big = logEntryBytes(1 << 20);
  assert.equal(big.byteOffset, 0);
  assert.equal(big.buffer.byteLength, 1 << 20);
});

test('bytesView reads the same string as bytes, without a copy', () => {
  const w = new ByteWriter(16);
  w.bytes(Buffer.from('abc'));
  w.bytes(Buffer.from('de'));
  const input = w.finish(pooledBytes);
  const r = new ByteReader(input);
  const view = r.bytesView();
  assert.equal(Buffer.from(view).toString(), 'abc');
  assert.equal(view.buffer, input.buffer, 'a view shares the input');
  assert.equal(Buffer.from(r.bytes()).toString(), 'de');
  r.end();
  assert.throws(() => new ByteReader(Uint8Array.of(5, 1)).bytesView(), /truncated byte string/);
});
