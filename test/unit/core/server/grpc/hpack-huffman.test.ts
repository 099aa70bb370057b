/**
 * The HPACK Huffman code: codes derived from the lengths match RFC 7541 Appendix B, every octet
 * round-trips, and the §5.2 decoding errors (EOS, long padding, zero padding) are detected.
 */

import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HpackError } from '../../../../../core/server/grpc/hpack-error';
import { huffmanCode, huffmanDecode, huffmanEncode, huffmanEncodedLength, HUFFMAN_EOS } from '../../../../../core/server/grpc/hpack-huffman';

const decode = (hex: string): string => {
  const b = Buffer.from(hex, 'hex');
  return huffmanDecode(b, 0, b.length).toString('latin1');
};

describe('hpack huffman', () => {
  it('derives the Appendix B codes', () => {
    // [symbol, code (hex, right-aligned), bits] from RFC 7541 Appendix B.
    const cases: Array<[number, number, number]> = [
      [0, 0x1ff8, 13],
      [1, 0x7fffd8, 23],
      [9, 0xffffea, 24],
      [10, 0x3ffffffc, 30],
      [22, 0x3ffffffe, 30],
      [32, 0x14, 6],
      [48, 0x0, 5],
      [58, 0x5c, 7],
      [92, 0x7fff0, 19],
      [97, 0x3, 5],
      [127, 0xffffffc, 28],
      [128, 0xfffe6, 20],
      [199, 0x1ffffec, 25],
      [203, 0x7ffffde, 27],
      [255, 0x3ffffee, 26],
      [HUFFMAN_EOS, 0x3fffffff, 30],
    ];
    for (const [sym, code, bits] of cases) assert.deepEqual(huffmanCode(sym), { code, bits }, `symbol ${sym}`);
  });

  it('is a complete prefix code (Kraft sum 1)', () => {
    let sum = 0;
    for (let s = 0; s <= HUFFMAN_EOS; s++) sum += 2 ** -huffmanCode(s).bits;
    assert.equal(sum, 1);
  });

  it('decodes the Appendix C strings', () => {
    const cases: Array<[string, string]> = [
      ['f1e3c2e5f23a6ba0ab90f4ff', 'www.example.com'],
      ['a8eb10649cbf', 'no-cache'],
      ['25a849e95ba97d7f', 'custom-key'],
      ['25a849e95bb8e8b4bf', 'custom-value'],
      ['6402', '302'],
      ['aec3771a4b', 'private'],
      ['d07abe941054d444a8200595040b8166e082a62d1bff', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['9d29ad171863c78f0b97c8e9ae82ae43d3', 'https://www.example.com'],
      ['9bd9ab', 'gzip'],
      ['', ''],
    ];
    for (const [hex, text] of cases) {
      assert.equal(decode(hex), text, hex);
      assert.equal(huffmanEncode(Buffer.from(text, 'latin1')).toString('hex'), hex, text);
    }
  });

  it('round-trips every octet value, alone and in sequence', () => {
    const all = Buffer.alloc(256);
    for (let b = 0; b < 256; b++) {
      all[b] = b;
      const one = Buffer.from([b]);
      const enc = huffmanEncode(one);
      assert.equal(enc.length, huffmanEncodedLength(one));
      assert.deepEqual(huffmanDecode(enc, 0, enc.length), one, `octet ${b}`);
    }
    const enc = huffmanEncode(all);
    assert.deepEqual(huffmanDecode(enc, 0, enc.length), all);
    // Decoding a sub-range ignores the octets around it.
    const framed = Buffer.concat([Buffer.from([0xaa]), enc, Buffer.from([0x00])]);
    assert.deepEqual(huffmanDecode(framed, 1, framed.length - 1), all);
  });

  it('rejects EOS in the data, padding over 7 bits and padding that is not all ones', () => {
    const bad: Array<[string, string]> = [
      ['ffffffff', 'EOS (30 ones) inside the string'],
      ['1fffffff', "'0' then EOS"],
      ['ff', 'eight bits of padding'],
      ['f1e3c2e5f23a6ba0ab90f4ffff', 'a whole octet of padding after the last symbol'],
      ['00', "'0' then three zero bits as padding"],
      ['f1e3c2e5f23a6ba0ab90f4fe', 'padding ending in a zero bit'],
    ];
    for (const [hex, why] of bad) {
      const b = Buffer.from(hex, 'hex');
      assert.throws(() => huffmanDecode(b, 0, b.length), HpackError, why);
    }
  });
});
