/**
 * Pure wire helpers: grpc-message percent-encoding, content-type matching, grpc-timeout
 * parsing, status names, and protocol sniffing of a connection's first bytes.
 */

import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGrpcContentType, parseGrpcTimeout, statusTrailers, trailersOnlyHeaders } from '../../../../../core/server/grpc/grpc-headers';
import { decodeGrpcMessage, encodeGrpcMessage, GrpcStatus, GrpcStatusError, grpcStatusName } from '../../../../../core/server/grpc/grpc-status';
import { classifyPrefix, HTTP2_PREFACE } from '../../../../../core/server/grpc/protocol-sniffer';

describe('grpc-message encoding', () => {
  const cases = [
    { name: 'plain ASCII unchanged', text: 'etcdserver: key is not provided', wire: 'etcdserver: key is not provided' },
    { name: 'percent escaped', text: '100%', wire: '100%25' },
    { name: 'tab and newline', text: 'a\tb\nc', wire: 'a%09b%0Ac' },
    { name: 'UTF-8 bytes', text: 'sûr ✓', wire: 's%C3%BBr %E2%9C%93' },
    { name: 'empty', text: '', wire: '' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(encodeGrpcMessage(c.text), c.wire);
      assert.equal(decodeGrpcMessage(c.wire), c.text);
    });
  }
  it('keeps a malformed escape literally', () => {
    assert.equal(decodeGrpcMessage('50%zz%4'), '50%zz%4');
  });
});

describe('grpc headers', () => {
  const contentTypes: Array<[string | undefined, boolean]> = [
    ['application/grpc', true],
    ['application/grpc+proto', true],
    ['application/grpc;charset=utf-8', true],
    ['application/grpc-web', false],
    ['application/grpc-web+proto', false],
    ['application/json', false],
    ['application/grp', false],
    [undefined, false],
  ];
  for (const [ct, want] of contentTypes) {
    it(`content type ${String(ct)} is${want ? '' : ' not'} gRPC`, () => assert.equal(isGrpcContentType(ct), want));
  }

  const timeouts: Array<[string | undefined, number | undefined]> = [
    [undefined, undefined],
    ['1S', 1000],
    ['100m', 100],
    ['2M', 120_000],
    ['1H', 3_600_000],
    ['5000u', 5],
    ['99999999n', 99.999999],
    ['0m', 0],
    ['12345678S', 12_345_678_000],
  ];
  for (const [value, ms] of timeouts) {
    it(`grpc-timeout ${String(value)} = ${String(ms)} ms`, () => {
      const got = parseGrpcTimeout(value);
      if (ms === undefined) assert.equal(got, undefined);
      else assert.ok(Math.abs((got as number) - ms) < 1e-9, `got ${got}`);
    });
  }
  for (const bad of ['S', '1', '1s', '123456789S', '-1S', '1.5S', ' 1S']) {
    it(`grpc-timeout ${JSON.stringify(bad)} is malformed`, () => assert.ok(Number.isNaN(parseGrpcTimeout(bad))));
  }

  it('builds status trailers and Trailers-Only headers', () => {
    assert.deepEqual(statusTrailers(GrpcStatus.OK, ''), { 'grpc-status': '0' });
    assert.deepEqual(statusTrailers(GrpcStatus.CANCELLED, 'etcdserver: watch canceled'), {
      'grpc-status': '1',
      'grpc-message': 'etcdserver: watch canceled',
    });
    assert.deepEqual(trailersOnlyHeaders(GrpcStatus.NOT_FOUND, '50%'), {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': '5',
      'grpc-message': '50%25',
    });
  });
});

describe('GrpcStatusError', () => {
  it('maps thrown values to a status', () => {
    const own = new GrpcStatusError(GrpcStatus.NOT_FOUND, 'etcdserver: requested lease not found');
    assert.equal(GrpcStatusError.from(own), own);
    assert.deepEqual(
      [GrpcStatusError.from(new Error('x')).code, GrpcStatusError.from(new Error('x')).message],
      [GrpcStatus.UNKNOWN, 'x'],
    );
    assert.equal(GrpcStatusError.from('text').message, 'text');
  });
  it('names codes', () => {
    assert.equal(grpcStatusName(14), 'UNAVAILABLE');
    assert.equal(grpcStatusName(99), 'CODE(99)');
  });
});

describe('classifyPrefix', () => {
  const cases: Array<[string, Buffer, string | undefined]> = [
    ['full preface', HTTP2_PREFACE, 'http2'],
    ['preface plus frames', Buffer.concat([HTTP2_PREFACE, Buffer.alloc(9)]), 'http2'],
    ['partial preface', HTTP2_PREFACE.subarray(0, 10), undefined],
    ['empty', Buffer.alloc(0), undefined],
    ['HTTP/1 GET', Buffer.from('GET /health HTTP/1.1\r\n'), 'http1'],
    ['HTTP/1 POST', Buffer.from('POST /v3/kv/put HTTP/1.1\r\n'), 'http1'],
    ['PRI but not the preface', Buffer.from('PRI * HTTP/1.1\r\n'), 'http1'],
    ['TLS hello', Buffer.from([0x16, 0x03, 0x01]), 'http1'],
  ];
  for (const [name, bytes, want] of cases) {
    it(name, () => assert.equal(classifyPrefix(bytes), want));
  }
});
