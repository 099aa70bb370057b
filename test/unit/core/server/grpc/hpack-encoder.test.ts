/**
 * The literal re-encoder: what it writes decodes to the same list (sensitivity kept) against
 * any decoder state and leaves that state unchanged; integers match RFC 7541 C.1.
 */

import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HpackDecoder } from '../../../../../core/server/grpc/hpack-decoder';
import { encodeLiteralHeaderBlock, integerLength, writeInteger } from '../../../../../core/server/grpc/hpack-encoder';
import { type HpackField, hpackField } from '../../../../../core/server/grpc/hpack-field';

const view = (fields: HpackField[]): Array<[string, string, boolean]> => fields.map((f) => [f.name.toString('latin1'), f.value.toString('latin1'), f.sensitive]);

describe('hpack literal encoder', () => {
  it('writes integers as RFC 7541 C.1 does', () => {
    const cases: Array<[number, number, string]> = [
      [10, 5, '0a'], // C.1.1
      [1337, 5, '1f9a0a'], // C.1.2
      [42, 8, '2a'], // C.1.3
      [31, 5, '1f00'], // exactly the prefix maximum
      [127, 7, '7f00'],
      [2 ** 21, 7, '7f81ff7f'],
    ];
    for (const [value, prefix, hex] of cases) {
      const out = Buffer.alloc(8);
      const end = writeInteger(out, 0, value, prefix, 0);
      assert.equal(out.subarray(0, end).toString('hex'), hex, `${value}/${prefix}`);
      assert.equal(integerLength(value, prefix), end);
    }
  });

  it('round-trips through a decoder in any table state, leaving the table as it was', () => {
    const fields: HpackField[] = [
      hpackField(':method', 'POST'),
      hpackField(':authority', '127.0.0.1:2379'),
      hpackField('authorization', 'token', true),
      hpackField('empty', ''),
      hpackField('x-long', 'v'.repeat(300)), // multi-octet length
      { name: Buffer.from('bin'), value: Buffer.from([0, 0xff, 0x80, 0x0a]), sensitive: false },
    ];
    const d = new HpackDecoder({ maxTableSize: 256 });
    d.decode(Buffer.from('400178017982', 'hex')); // table: x: y
    const before = [d.table.length, d.table.size];
    const block = encodeLiteralHeaderBlock(fields);
    assert.deepEqual(view(d.decode(block)), view(fields));
    assert.deepEqual([d.table.length, d.table.size], before);
    assert.equal(block[0] & 0xf0, 0x00, 'without indexing');
    assert.equal(encodeLiteralHeaderBlock([fields[2]])[0], 0x10, 'never indexed');
    assert.equal(encodeLiteralHeaderBlock([]).length, 0);
  });
});
