/**
 * The znode value codec (zkproxy/mapping/node-codec.ts): a node's header and data round-trip,
 * and the decoded data owns its memory (the replica keeps it for the znode's life; a view into
 * the store's buffer or a slice of Node's shared pool would pin far more than the data).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNodeValue, encodeNodeValue } from '../../../../zkproxy/mapping/node-codec';

test('a node value round-trips, and its data is a copy with memory of its own', () => {
  const data = Buffer.from('some znode data');
  const encoded = encodeNodeValue({ kind: 'plain', version: 3, ctime: 11n, mtime: 12n, ttl: 0n, czxid: 0n, data });
  const decoded = decodeNodeValue(encoded);
  assert.ok(decoded);
  assert.equal(decoded.kind, 'plain');
  assert.equal(decoded.version, 3);
  assert.equal(decoded.mtime, 12n);
  assert.deepEqual(decoded.data, data);
  assert.equal(decoded.data!.byteOffset, 0);
  assert.equal(decoded.data!.buffer.byteLength, data.length, 'the data shares a larger buffer');
  encoded.fill(0);
  assert.deepEqual(decoded.data, data, 'the data is a view of the encoded value');
  const empty = decodeNodeValue(encodeNodeValue({ kind: 'plain', version: 0, ctime: 0n, mtime: 0n, ttl: 0n, czxid: 0n, data: null }));
  assert.equal(empty?.data, null);
});
