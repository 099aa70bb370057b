/**
 * The JSON gateway encoding (etcd.md §4.5, §7.24): examples in the shapes etcd's grpc-gateway
 * produces and accepts, rejection of bad input with JsonGatewayError, and a JSON round trip of
 * every message type.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromGatewayJson, JsonGatewayError, MESSAGE_TYPES, rpc, toGatewayJson } from '../../../../protocol/etcd';
import { maxOneofArms, sampleMessage } from './sample-message';

const b = (s: string): Buffer => Buffer.from(s);

test('gateway input: the etcd.md put example', () => {
  const put = fromGatewayJson(rpc.PutRequest, JSON.parse('{"key":"Zm9v","value":"YmFy"}'));
  assert.deepStrictEqual(put, rpc.PutRequest.fromPartial({ key: b('foo'), value: b('bar') }));
});

test('gateway output: a put response header has string int64s and original names', () => {
  const json = toGatewayJson(rpc.PutResponse, { header: { clusterId: 14841639068965178418n, memberId: 10276657743932975437n, revision: 2n, raftTerm: 3n } });
  assert.equal(
    JSON.stringify(json),
    '{"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"2","raft_term":"3"}}',
  );
});

const outputs: { name: string; json: () => unknown; expected: unknown }[] = [
  {
    name: 'range response: kvs with base64 bytes, defaults left out',
    json: () =>
      toGatewayJson(rpc.RangeResponse, {
        header: { revision: 5n },
        kvs: [{ key: b('foo'), value: b('bar'), createRevision: 2n, modRevision: 5n, version: 3n, lease: 0n }],
        more: false,
        count: 1n,
      }),
    expected: { header: { revision: '5' }, kvs: [{ key: 'Zm9v', create_revision: '2', mod_revision: '5', version: '3', value: 'YmFy' }], count: '1' },
  },
  {
    name: 'empty response: header only, zero values omitted',
    json: () => toGatewayJson(rpc.DeleteRangeResponse, { header: { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n }, deleted: 0n, prevKvs: [] }),
    expected: { header: {} },
  },
  {
    name: 'enums as names; set oneof member written even when zero',
    json: () =>
      toGatewayJson(rpc.Compare, { result: rpc.Compare_CompareResult.NOT_EQUAL, target: rpc.Compare_CompareTarget.CREATE, key: b('k'), targetUnion: { $case: 'createRevision', createRevision: 0n } }),
    expected: { result: 'NOT_EQUAL', target: 'CREATE', key: 'aw==', create_revision: '0' },
  },
  {
    name: 'enum at its zero value is left out; unknown enum number stays a number',
    json: () => toGatewayJson(rpc.RangeRequest, { key: b('a'), sortOrder: rpc.RangeRequest_SortOrder.NONE, sortTarget: 7 as rpc.RangeRequest_SortTarget }),
    expected: { key: 'YQ==', sort_target: 7 },
  },
  {
    name: 'member list: ID, peerURLs, clientURLs, isLearner as in the .proto',
    json: () => toGatewayJson(rpc.MemberListResponse, { members: [{ ID: 0x8e9e05c52164694dn, name: 'infra1', peerURLs: ['http://127.0.0.1:2380'], clientURLs: [], isLearner: true }] }),
    expected: { members: [{ ID: '10276657743932975437', name: 'infra1', peerURLs: ['http://127.0.0.1:2380'], isLearner: true }] },
  },
  {
    name: 'lease grant: TTL and ID keep their capitals',
    json: () => toGatewayJson(rpc.LeaseGrantResponse, { ID: 7587862072190951943n, TTL: 60n }),
    expected: { ID: '7587862072190951943', TTL: '60' },
  },
  {
    name: 'txn response: oneof members under their .proto names',
    json: () => toGatewayJson(rpc.TxnResponse, { succeeded: true, responses: [{ response: { $case: 'responsePut', responsePut: {} } }] }),
    expected: { succeeded: true, responses: [{ response_put: {} }] },
  },
  {
    name: 'watch response: negative int64 and nested events',
    json: () => toGatewayJson(rpc.WatchResponse, { watchId: -1n, canceled: true, events: [{ type: 1, kv: { key: b('k'), modRevision: 9n } }] }),
    expected: { watch_id: '-1', canceled: true, events: [{ type: 'DELETE', kv: { key: 'aw==', mod_revision: '9' } }] },
  },
  {
    name: 'uint32 stays a JSON number',
    json: () => toGatewayJson(rpc.HashKVResponse, { hash: 4000000000, compactRevision: 3n }),
    expected: { hash: 4000000000, compact_revision: '3' },
  },
];

for (const c of outputs) {
  test(`gateway output: ${c.name}`, () => {
    assert.deepStrictEqual(c.json(), c.expected);
  });
}

const inputs: { name: string; json: string; parse: (j: unknown) => unknown; expected: unknown }[] = [
  {
    name: 'range with lowerCamel names and ints as numbers',
    json: '{"key":"YQ==","rangeEnd":"Yg==","limit":10,"revision":"300","sortOrder":"DESCEND","sortTarget":3,"keysOnly":true}',
    parse: (j) => fromGatewayJson(rpc.RangeRequest, j),
    expected: rpc.RangeRequest.fromPartial({ key: b('a'), rangeEnd: b('b'), limit: 10n, revision: 300n, sortOrder: 2, sortTarget: 3, keysOnly: true }),
  },
  {
    name: 'range with original names',
    json: '{"key":"YQ==","range_end":"AA==","min_mod_revision":"5","count_only":true}',
    parse: (j) => fromGatewayJson(rpc.RangeRequest, j),
    expected: rpc.RangeRequest.fromPartial({ key: b('a'), rangeEnd: Buffer.from([0]), minModRevision: 5n, countOnly: true }),
  },
  {
    name: 'txn with compare and ops in either naming',
    json:
      '{"compare":[{"target":"CREATE","key":"Zm9v","createRevision":"0"}],' +
      '"success":[{"requestPut":{"key":"Zm9v","value":"YmFy"}}],"failure":[{"request_range":{"key":"Zm9v"}}]}',
    parse: (j) => fromGatewayJson(rpc.TxnRequest, j),
    expected: rpc.TxnRequest.fromPartial({
      compare: [{ target: rpc.Compare_CompareTarget.CREATE, key: b('foo'), targetUnion: { $case: 'createRevision', createRevision: 0n } }],
      success: [{ request: { $case: 'requestPut', requestPut: { key: b('foo'), value: b('bar') } } }],
      failure: [{ request: { $case: 'requestRange', requestRange: { key: b('foo') } } }],
    }),
  },
  {
    name: 'watch create with filters as names and numbers',
    json: '{"create_request":{"key":"YQ==","start_revision":"4","filters":["NOPUT",1],"prev_kv":true}}',
    parse: (j) => fromGatewayJson(rpc.WatchRequest, j),
    expected: rpc.WatchRequest.fromPartial({ requestUnion: { $case: 'createRequest', createRequest: { key: b('a'), startRevision: 4n, filters: [0, 1], prevKv: true } } }),
  },
  {
    name: 'lease grant: TTL as a number, ID as a string',
    json: '{"TTL":60,"ID":"7587862072190951943"}',
    parse: (j) => fromGatewayJson(rpc.LeaseGrantRequest, j),
    expected: rpc.LeaseGrantRequest.fromPartial({ TTL: 60n, ID: 7587862072190951943n }),
  },
  {
    name: 'null fields are left at their defaults',
    json: '{"key":null,"value":"YmFy","lease":null}',
    parse: (j) => fromGatewayJson(rpc.PutRequest, j),
    expected: rpc.PutRequest.fromPartial({ value: b('bar') }),
  },
  {
    name: 'URL-safe and unpadded base64',
    json: '{"key":"-_8","value":"YmFy"}',
    parse: (j) => fromGatewayJson(rpc.PutRequest, j),
    expected: rpc.PutRequest.fromPartial({ key: Buffer.from([0xfb, 0xff]), value: b('bar') }),
  },
  {
    name: 'member add with peerURLs',
    json: '{"peerURLs":["http://10.0.0.1:2380"],"isLearner":true}',
    parse: (j) => fromGatewayJson(rpc.MemberAddRequest, j),
    expected: rpc.MemberAddRequest.fromPartial({ peerURLs: ['http://10.0.0.1:2380'], isLearner: true }),
  },
  {
    name: 'uint64 member id above 2^63 as a string',
    json: '{"ID":"18446744073709551615"}',
    parse: (j) => fromGatewayJson(rpc.MemberRemoveRequest, j),
    expected: rpc.MemberRemoveRequest.fromPartial({ ID: 2n ** 64n - 1n }),
  },
  {
    name: 'empty body object',
    json: '{}',
    parse: (j) => fromGatewayJson(rpc.StatusRequest, j),
    expected: rpc.StatusRequest.create(),
  },
];

for (const c of inputs) {
  test(`gateway input: ${c.name}`, () => {
    assert.deepStrictEqual(c.parse(JSON.parse(c.json)), c.expected);
  });
}

const bad: { name: string; json: string; parse: (j: unknown) => unknown; path: string }[] = [
  { name: 'unknown field', json: '{"key":"YQ==","nope":1}', parse: (j) => fromGatewayJson(rpc.PutRequest, j), path: '' },
  { name: 'not an object', json: '[1]', parse: (j) => fromGatewayJson(rpc.PutRequest, j), path: '' },
  { name: 'bytes not base64', json: '{"key":"not base64!"}', parse: (j) => fromGatewayJson(rpc.PutRequest, j), path: 'key' },
  { name: 'bytes as a number', json: '{"key":5}', parse: (j) => fromGatewayJson(rpc.PutRequest, j), path: 'key' },
  { name: 'int64 above 2^63-1', json: '{"lease":"9223372036854775808"}', parse: (j) => fromGatewayJson(rpc.PutRequest, j), path: 'lease' },
  { name: 'negative uint64', json: '{"ID":"-1"}', parse: (j) => fromGatewayJson(rpc.MemberRemoveRequest, j), path: 'ID' },
  { name: 'fractional int', json: '{"limit":1.5}', parse: (j) => fromGatewayJson(rpc.RangeRequest, j), path: 'limit' },
  { name: 'int as a non-numeric string', json: '{"limit":"ten"}', parse: (j) => fromGatewayJson(rpc.RangeRequest, j), path: 'limit' },
  { name: 'unknown enum name', json: '{"sort_order":"SIDEWAYS"}', parse: (j) => fromGatewayJson(rpc.RangeRequest, j), path: 'sort_order' },
  { name: 'bool as a string', json: '{"serializable":"true"}', parse: (j) => fromGatewayJson(rpc.RangeRequest, j), path: 'serializable' },
  { name: 'repeated field not an array', json: '{"compare":{}}', parse: (j) => fromGatewayJson(rpc.TxnRequest, j), path: 'compare' },
  {
    name: 'two members of one oneof',
    json: '{"request_put":{},"requestRange":{}}',
    parse: (j) => fromGatewayJson(rpc.RequestOp, j),
    path: '',
  },
  {
    name: 'nested error carries its path',
    json: '{"success":[{},{"request_put":{"lease":"x"}}]}',
    parse: (j) => fromGatewayJson(rpc.TxnRequest, j),
    path: 'success[1].request_put.lease',
  },
];

for (const c of bad) {
  test(`gateway input rejected: ${c.name}`, () => {
    assert.throws(
      () => c.parse(JSON.parse(c.json)),
      (e: unknown) => e instanceof JsonGatewayError && e.path === c.path,
    );
  });
}

for (const [typeName, info] of Object.entries(MESSAGE_TYPES)) {
  test(`JSON round trip: ${typeName}`, () => {
    for (let pick = 0; pick < maxOneofArms(typeName); pick++) {
      const sample = sampleMessage(typeName, 5, 0, pick);
      const text = JSON.stringify(toGatewayJson(info.codec, sample));
      assert.deepStrictEqual(fromGatewayJson(info.codec, JSON.parse(text)), info.codec.fromPartial(sample));
    }
  });
}
