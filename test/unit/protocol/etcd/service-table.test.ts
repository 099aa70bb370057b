/**
 * The method table: gRPC paths, gateway paths (etcd.md §4.5, with /v3beta aliases), codecs and
 * streaming kinds (etcd.md §1.1) for every RPC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ETCD_METHODS, GATEWAY_ROUTES, methodByGrpcPath, methodByHttpPath, rpc, v3election } from '../../../../protocol/etcd';

const routes: { grpc: string; http: string[]; kind: string; request: unknown; response: unknown }[] = [
  { grpc: '/etcdserverpb.KV/Range', http: ['/v3/kv/range', '/v3beta/kv/range'], kind: 'unary', request: rpc.RangeRequest, response: rpc.RangeResponse },
  { grpc: '/etcdserverpb.KV/Compact', http: ['/v3/kv/compaction', '/v3beta/kv/compaction'], kind: 'unary', request: rpc.CompactionRequest, response: rpc.CompactionResponse },
  { grpc: '/etcdserverpb.Watch/Watch', http: ['/v3/watch', '/v3beta/watch'], kind: 'bidi', request: rpc.WatchRequest, response: rpc.WatchResponse },
  {
    grpc: '/etcdserverpb.Lease/LeaseRevoke',
    http: ['/v3/lease/revoke', '/v3/kv/lease/revoke', '/v3beta/lease/revoke', '/v3beta/kv/lease/revoke'],
    kind: 'unary',
    request: rpc.LeaseRevokeRequest,
    response: rpc.LeaseRevokeResponse,
  },
  { grpc: '/etcdserverpb.Lease/LeaseKeepAlive', http: ['/v3/lease/keepalive', '/v3beta/lease/keepalive'], kind: 'bidi', request: rpc.LeaseKeepAliveRequest, response: rpc.LeaseKeepAliveResponse },
  { grpc: '/etcdserverpb.Maintenance/Snapshot', http: ['/v3/maintenance/snapshot', '/v3beta/maintenance/snapshot'], kind: 'serverStream', request: rpc.SnapshotRequest, response: rpc.SnapshotResponse },
  {
    grpc: '/etcdserverpb.Maintenance/MoveLeader',
    http: ['/v3/maintenance/transfer-leadership', '/v3beta/maintenance/transfer-leadership'],
    kind: 'unary',
    request: rpc.MoveLeaderRequest,
    response: rpc.MoveLeaderResponse,
  },
  { grpc: '/etcdserverpb.Auth/UserChangePassword', http: ['/v3/auth/user/changepw', '/v3beta/auth/user/changepw'], kind: 'unary', request: rpc.AuthUserChangePasswordRequest, response: rpc.AuthUserChangePasswordResponse },
  { grpc: '/v3electionpb.Election/Observe', http: ['/v3/election/observe', '/v3beta/election/observe'], kind: 'serverStream', request: v3election.LeaderRequest, response: v3election.LeaderResponse },
  { grpc: '/grpc.health.v1.Health/Check', http: [], kind: 'unary', request: undefined, response: undefined },
];

for (const r of routes) {
  test(`method table: ${r.grpc}`, () => {
    const m = methodByGrpcPath(r.grpc);
    assert.ok(m !== undefined);
    assert.deepStrictEqual(m.httpPaths, r.http);
    assert.equal(m.kind, r.kind);
    if (r.request !== undefined) assert.equal(m.request, r.request);
    if (r.response !== undefined) assert.equal(m.response, r.response);
    for (const p of r.http) assert.equal(methodByHttpPath(p), m);
  });
}

test('every etcd, lock and election RPC has a gateway route; every route names a real RPC', () => {
  for (const m of ETCD_METHODS) {
    if (m.service === 'grpc.health.v1.Health') assert.equal(m.httpPaths.length, 0);
    else assert.ok(m.httpPaths.length >= 2, m.grpcPath);
  }
  for (const path of Object.keys(GATEWAY_ROUTES)) assert.ok(methodByGrpcPath(path) !== undefined, path);
});

test('no HTTP path is bound twice', () => {
  const all = ETCD_METHODS.flatMap((m) => m.httpPaths);
  assert.equal(new Set(all).size, all.length);
});

test('the etcd 3.5 API surface is complete', () => {
  const count = (svc: string): number => ETCD_METHODS.filter((m) => m.service === svc).length;
  assert.equal(count('etcdserverpb.KV'), 5);
  assert.equal(count('etcdserverpb.Watch'), 1);
  assert.equal(count('etcdserverpb.Lease'), 5);
  assert.equal(count('etcdserverpb.Cluster'), 5);
  assert.equal(count('etcdserverpb.Maintenance'), 8);
  assert.equal(count('etcdserverpb.Auth'), 17);
  assert.equal(count('v3lockpb.Lock'), 2);
  assert.equal(count('v3electionpb.Election'), 5);
  assert.equal(count('grpc.health.v1.Health'), 2);
});

test('unknown paths are not found', () => {
  assert.equal(methodByGrpcPath('/etcdserverpb.KV/RangeStream'), undefined);
  assert.equal(methodByHttpPath('/v3alpha/kv/range'), undefined);
});
