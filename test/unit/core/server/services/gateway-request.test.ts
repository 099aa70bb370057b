/**
 * The JSON gateway's request parsing and error mapping: bodies to messages (empty, one object,
 * newline-delimited), unknown fields dropped at every depth as grpc-gateway does, malformed
 * input as InvalidArgument, and grpc-gateway v1's HTTP statuses and error shapes.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as pb from '../../../../../protocol/etcd/generated/rpc';
import { methodByHttpPath } from '../../../../../protocol/etcd';
import { GrpcStatus, GrpcStatusError } from '../../../../../core/server/grpc/grpc-status';
import { parseMessages, requestBytes } from '../../../../../core/server/services/gateway-request';
import { httpStatusOf, streamErrorBody, unaryErrorBody } from '../../../../../core/server/services/gateway-errors';

const txn = methodByHttpPath('/v3/kv/txn')!;
const range = methodByHttpPath('/v3/kv/range')!;

function invalidArgument(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof GrpcStatusError && err.code === GrpcStatus.INVALID_ARGUMENT);
}

describe('parseMessages', () => {
  const cases: Array<{ name: string; body: string; want: unknown[] }> = [
    { name: 'empty body is one empty message', body: '', want: [{}] },
    { name: 'blank body too', body: ' \n', want: [{}] },
    { name: 'one object', body: '{"key":"YQ=="}', want: [{ key: 'YQ==' }] },
    { name: 'one object over several lines', body: '{\n"key":\n"YQ=="\n}', want: [{ key: 'YQ==' }] },
    { name: 'newline-delimited objects', body: '{"a":1}\n\n{"b":2}\n', want: [{ a: 1 }, { b: 2 }] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseMessages(Buffer.from(c.body)), c.want));

  it('malformed JSON is InvalidArgument', () => {
    invalidArgument(() => parseMessages(Buffer.from('not json')));
    invalidArgument(() => parseMessages(Buffer.from('{"a":1}\n{oops')));
  });
});

describe('requestBytes', () => {
  it('drops unknown fields at every depth, keeps the rest', () => {
    const body = {
      compare: [{ key: 'YQ==', target: 'VALUE', value: 'Yg==', extra: true }],
      success: [{ request_put: { key: 'YQ==', value: 'Yw==', nope: 1 }, junk: {} }],
      unknownTop: 'x',
    };
    const msg = pb.TxnRequest.decode(requestBytes(txn, body));
    assert.equal(msg.compare.length, 1);
    assert.deepEqual(msg.compare[0]!.key, Buffer.from('a'));
    assert.equal(msg.compare[0]!.target, pb.Compare_CompareTarget.VALUE);
    const op = msg.success[0]!.request;
    assert.equal(op?.$case, 'requestPut');
    assert.deepEqual(op?.$case === 'requestPut' ? op.requestPut.value : undefined, Buffer.from('c'));
  });

  it('accepts lowerCamel names and ints as strings or numbers', () => {
    const msg = pb.RangeRequest.decode(requestBytes(range, { key: 'YQ==', rangeEnd: 'Yg==', limit: '5', revision: 3 }));
    assert.deepEqual([msg.rangeEnd, msg.limit, msg.revision], [Buffer.from('b'), 5n, 3n]);
  });

  it('wrong types and bad base64 are InvalidArgument', () => {
    invalidArgument(() => requestBytes(range, { key: '!!!' }));
    invalidArgument(() => requestBytes(range, { limit: 'ten' }));
    invalidArgument(() => requestBytes(range, []));
  });
});

describe('gateway errors', () => {
  // FailedPrecondition → 412 as etcd 3.4.23's gateway answers (etcd-random-diff), not etcd.md's 400.
  const statuses: Array<[number, number]> = [
    [GrpcStatus.OK, 200], [GrpcStatus.INVALID_ARGUMENT, 400], [GrpcStatus.OUT_OF_RANGE, 400], [GrpcStatus.FAILED_PRECONDITION, 412],
    [GrpcStatus.UNAUTHENTICATED, 401], [GrpcStatus.PERMISSION_DENIED, 403], [GrpcStatus.NOT_FOUND, 404], [GrpcStatus.CANCELLED, 408],
    [GrpcStatus.RESOURCE_EXHAUSTED, 429], [GrpcStatus.UNKNOWN, 500], [GrpcStatus.UNIMPLEMENTED, 501], [GrpcStatus.UNAVAILABLE, 503],
    [GrpcStatus.DEADLINE_EXCEEDED, 504],
  ];
  for (const [code, http] of statuses) it(`code ${code} → HTTP ${http}`, () => assert.equal(httpStatusOf(code), http));

  it('unary and stream bodies', () => {
    const s = new GrpcStatusError(GrpcStatus.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted');
    assert.equal(JSON.stringify(unaryErrorBody(s)), '{"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11}');
    assert.deepEqual(streamErrorBody(s), { error: { grpc_code: 11, http_code: 400, message: s.message, http_status: 'Bad Request' } });
  });
});
