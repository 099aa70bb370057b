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
import { pooledBytes } from '../../../../core/util/bytes';

for (const [name, alloc] of [['plain', plainBytes], ['pooled', pooledBytes]] as const) {
  test(`${name}: finish and bytes return copies that outlive the writer's and the input's reuse`, () => {
    const w = new ByteWriter(16);
    w.bytes(Buffer.from('first'));
    const first = w.finish(alloc);
    assert.equal(first instanceof Buffer, name === 'pooled');
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
