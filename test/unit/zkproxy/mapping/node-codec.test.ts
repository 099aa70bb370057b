/**
 * The znode value codec (zkproxy/mapping/node-codec.ts): a node's header and data round-trip,
 * byte for byte over all 256 byte values; the decoded data is a latin1 string (the replica keeps
 * it for the znode's life: a Buffer would cost an ArrayBuffer and a native backing store, a view
 * of the store's buffer would pin a pool slab) and survives the encoded bytes being reused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataBytes, dataLength, decodeNodeValue, encodeNodeValue } from '../../../../zkproxy/mapping/node-codec';

test('a node value round-trips; its data is a string of its own, exact for every byte value', () => {
  const data = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7 + 3) & 0xff));
  const encoded = encodeNodeValue({ kind: 'plain', version: 3, ctime: 11n, mtime: 12n, ttl: 0n, czxid: 0n, data });
  const decoded = decodeNodeValue(encoded);
  assert.ok(decoded);
  assert.equal(decoded.kind, 'plain');
  assert.equal(decoded.version, 3);
  assert.equal(decoded.ctime, 11n);
  assert.equal(decoded.mtime, 12n);
  assert.equal(typeof decoded.data, 'string');
  assert.equal(dataLength(decoded.data), data.length);
  assert.deepEqual(dataBytes(decoded.data), data);
  encoded.fill(0);
  assert.deepEqual(dataBytes(decoded.data), data, 'the data must not be a view of the encoded value');
  // Re-encoding replica data (a string) gives the same bytes as the original Buffer.
  const again = decodeNodeValue(encodeNodeValue({ kind: 'plain', version: 4, ctime: 11n, mtime: 13n, ttl: 0n, czxid: 0n, data: decoded.data }));
  assert.deepEqual(dataBytes(again!.data), data);
  const empty = decodeNodeValue(encodeNodeValue({ kind: 'plain', version: 0, ctime: 0n, mtime: 0n, ttl: 0n, czxid: 0n, data: null }));
  assert.equal(empty?.data, null);
  assert.equal(dataLength(null), 0);
  const zeroLength = decodeNodeValue(encodeNodeValue({ kind: 'plain', version: 0, ctime: 0n, mtime: 0n, ttl: 0n, czxid: 0n, data: Buffer.alloc(0) }));
  assert.equal(zeroLength?.data, '', 'empty data is not null data');
});
