/**
 * Round trips: every generated message type, filled with non-default values through its
 * descriptor, encodes and decodes back to itself; plus named, realistic messages of the kinds
 * the server and the raft log carry. Also checks create()/fromPartial() defaults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MESSAGE_TYPES, kv, raftInternal, rpc, v3election } from '../../../../protocol/etcd';
import { maxOneofArms, sampleMessage } from './sample-message';

for (const [typeName, info] of Object.entries(MESSAGE_TYPES)) {
  test(`every field round-trips: ${typeName}`, () => {
    for (let pick = 0; pick < maxOneofArms(typeName); pick++) {
      const sample = sampleMessage(typeName, 3, 0, pick);
      const bytes = info.codec.encode(sample);
      assert.deepStrictEqual(info.codec.decode(bytes), info.codec.fromPartial(sample));
      if (info.fields.length > 0) assert.ok(bytes.length > 0);
    }
  });
  test(`defaults: ${typeName}`, () => {
    assert.deepStrictEqual(info.codec.decode(Buffer.alloc(0)), info.codec.create());
    assert.deepStrictEqual(info.codec.fromPartial({}), info.codec.create());
    assert.equal(info.codec.encode(info.codec.create()).length, 0);
  });
}

const b = (s: string): Buffer => Buffer.from(s);
const header = { clusterId: 0xcdf818194e3a8c32n, memberId: 0x8e9e05c52164694dn, revision: 42n, raftTerm: 3n };

const named: { name: string; codec: { encode(m: never): Buffer; decode(x: Uint8Array): unknown; fromPartial(m: never): unknown }; value: unknown }[] = [
  {
    name: 'TxnRequest: lock acquire as the client recipe sends it',
    codec: rpc.TxnRequest,
    value: {
      compare: [{ result: rpc.Compare_CompareResult.EQUAL, target: rpc.Compare_CompareTarget.CREATE, key: b('lock/694d'), targetUnion: { $case: 'createRevision', createRevision: 0n } }],
      success: [{ request: { $case: 'requestPut', requestPut: { key: b('lock/694d'), lease: 0x694d5d2f465b6c07n } } }],
      failure: [{ request: { $case: 'requestRange', requestRange: { key: b('lock/694d') } } }],
    },
  },
  {
    name: 'TxnRequest with a nested txn',
    codec: rpc.TxnRequest,
    value: {
      success: [
        { request: { $case: 'requestTxn', requestTxn: { success: [{ request: { $case: 'requestDeleteRange', requestDeleteRange: { key: b('a'), rangeEnd: b('\0'), prevKv: true } } }] } } },
      ],
    },
  },
  {
    name: 'TxnResponse with every response kind',
    codec: rpc.TxnResponse,
    value: {
      header,
      succeeded: true,
      responses: [
        { response: { $case: 'responsePut', responsePut: { header } } },
        { response: { $case: 'responseRange', responseRange: { header, kvs: [{ key: b('k'), value: b('v'), createRevision: 2n, modRevision: 2n, version: 1n }], count: 1n } } },
        { response: { $case: 'responseDeleteRange', responseDeleteRange: { header, deleted: 1n } } },
        { response: { $case: 'responseTxn', responseTxn: { header, succeeded: false } } },
      ],
    },
  },
  {
    name: 'WatchResponse with a put and a delete event',
    codec: rpc.WatchResponse,
    value: {
      header,
      watchId: 0n,
      events: [
        { type: kv.Event_EventType.PUT, kv: { key: b('k'), value: b('v1'), createRevision: 5n, modRevision: 6n, version: 2n }, prevKv: { key: b('k'), value: b('v0'), createRevision: 5n, modRevision: 5n, version: 1n } },
        { type: kv.Event_EventType.DELETE, kv: { key: b('k'), modRevision: 7n } },
      ],
    },
  },
  {
    name: 'WatchResponse canceled by compaction (watch id -1 is legal)',
    codec: rpc.WatchResponse,
    value: { header, watchId: -1n, canceled: true, compactRevision: 9n, cancelReason: 'etcdserver: mvcc: required revision has been compacted' },
  },
  {
    name: 'MemberAddResponse with a learner',
    codec: rpc.MemberAddResponse,
    value: {
      header,
      member: { ID: 0xfd422379fda50e48n, peerURLs: ['http://127.0.0.1:2380'], isLearner: true },
      members: [{ ID: 1n, name: 'infra1', peerURLs: ['http://a:2380'], clientURLs: ['http://a:2379', 'http://b:2379'] }],
    },
  },
  {
    name: 'AuthRoleGetResponse with permissions',
    codec: rpc.AuthRoleGetResponse,
    value: { header, perm: [{ permType: 2, key: b('a'), rangeEnd: b('b') }, { permType: 0, key: b('x') }] },
  },
  {
    name: 'InternalRaftRequest carrying a txn with header',
    codec: raftInternal.InternalRaftRequest,
    value: { header: { ID: 0x1234567890abcdefn, username: 'root', authRevision: 4n }, txn: { compare: [{ key: b('k') }] } },
  },
  {
    name: 'InternalRaftRequest carrying lease checkpoints',
    codec: raftInternal.InternalRaftRequest,
    value: { ID: 9n, leaseCheckpoint: { checkpoints: [{ ID: 7n, remainingTTL: 30n }, { ID: 8n, remainingTTL: 1n }] } },
  },
  {
    name: 'InternalRaftRequest carrying member attributes',
    codec: raftInternal.InternalRaftRequest,
    value: { ID: 10n, clusterMemberAttrSet: { memberID: 0x8e9e05c52164694dn, memberAttributes: { name: 'm1', clientUrls: ['http://127.0.0.1:2379'] } } },
  },
  {
    name: 'InternalRaftRequest carrying authenticate with its simple token',
    codec: raftInternal.InternalRaftRequest,
    value: { ID: 11n, authenticate: { name: 'root', password: 'pw', simpleToken: 'abcdef.12' } },
  },
  {
    name: 'CampaignResponse',
    codec: v3election.CampaignResponse,
    value: { header, leader: { name: b('e'), key: b('e/694d'), rev: 12n, lease: 0x694dn } },
  },
];

for (const c of named) {
  test(`round trip: ${c.name}`, () => {
    const bytes = c.codec.encode(c.value as never);
    assert.deepStrictEqual(c.codec.decode(bytes), c.codec.fromPartial(c.value as never));
  });
}

test('decoded bytes fields are Buffers that view the input', () => {
  const input = rpc.PutRequest.encode({ key: b('key'), value: b('value') });
  const put = rpc.PutRequest.decode(input);
  assert.ok(Buffer.isBuffer(put.key) && Buffer.isBuffer(put.value));
  assert.equal(put.value.buffer, input.buffer, 'no copy');
  const fromU8 = rpc.PutRequest.decode(new Uint8Array(input));
  assert.ok(Buffer.isBuffer(fromU8.key), 'a plain Uint8Array input still yields Buffers');
});

test('encode accepts plain Uint8Array bytes and readonly arrays', () => {
  const keys: readonly Uint8Array[] = [new Uint8Array([1, 2]), new Uint8Array([3])];
  const r = rpc.LeaseTimeToLiveResponse.decode(rpc.LeaseTimeToLiveResponse.encode({ keys }));
  assert.deepStrictEqual(r.keys, [Buffer.from([1, 2]), Buffer.from([3])]);
});

test('encoding a large message grows the scratch buffer and stays correct', () => {
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  const small = rpc.PutRequest.encode({ key: b('a') });
  const put = rpc.PutRequest.decode(rpc.PutRequest.encode({ key: b('big'), value: big }));
  assert.ok(put.value.equals(big));
  assert.deepStrictEqual(rpc.PutRequest.encode({ key: b('a') }), small, 'later encodes are unaffected');
});
