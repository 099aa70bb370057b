/**
 * The gRPC server end to end through the real @grpc/grpc-js client: unary, errors, unknown
 * methods, the receive limit, metadata and deadlines.
 */

import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GrpcStatus, GrpcStatusError } from '../../../../../core/server/grpc/grpc-status';
import type { CallContext } from '../../../../../core/server/grpc/grpc-method';
import { type Fixture, rawDecode, rawEncode, startFixture, unaryCall, waitFor } from './grpc-test-helpers';

describe('GrpcServer unary', () => {
  let f: Fixture;
  let lastCtx: CallContext | undefined;
  let lastPeer = '';
  const current = (): CallContext | undefined => lastCtx;
  const finished: Array<[string, number]> = [];

  before(async () => {
    f = await startFixture(
      (s) => {
        s.unary('/test.Echo/Echo', rawDecode, rawEncode, async (req: Buffer, ctx) => {
          lastCtx = ctx;
          lastPeer = ctx.peer; // valid while the call is open
          return req;
        });
        s.unary('/test.Echo/Sync', rawDecode, rawEncode, (req: Buffer) => Buffer.concat([req, req]));
        s.unary('/test.Echo/Fail', rawDecode, rawEncode, async (req: Buffer) => {
          const [code, ...rest] = req.toString('utf8').split(':');
          if (code === 'plain') throw new Error(rest.join(':'));
          throw new GrpcStatusError(Number(code), rest.join(':'));
        });
        s.unary('/test.Echo/Never', rawDecode, rawEncode, (_req: Buffer, ctx) => {
          lastCtx = ctx;
          return new Promise<Buffer>(() => {});
        });
        s.unary(
          '/test.Echo/BadDecode',
          () => {
            throw new Error('bad bytes');
          },
          rawEncode,
          async () => Buffer.alloc(0),
        );
      },
      { maxReceiveMessageBytes: 1024, onCallFinished: (path, _kind, code) => finished.push([path, code]) },
    );
  });
  after(() => f.close());

  it('echoes requests of several sizes', async () => {
    for (const size of [0, 1, 100, 1000, 1024]) {
      const body = Buffer.alloc(size, 7);
      const r = await unaryCall(f.client, '/test.Echo/Echo', body);
      assert.equal(r.code, 0, `size ${size}: ${r.details}`);
      assert.deepEqual(r.response, body);
    }
  });

  it('accepts a handler returning a value synchronously', async () => {
    const r = await unaryCall(f.client, '/test.Echo/Sync', Buffer.from('ab'));
    assert.deepEqual(r.response, Buffer.from('abab'));
  });

  it('runs 500 concurrent calls', async () => {
    const calls = Array.from({ length: 500 }, (_, i) => unaryCall(f.client, '/test.Echo/Echo', Buffer.from(`m${i}`)));
    const results = await Promise.all(calls);
    results.forEach((r, i) => assert.equal(r.response?.toString(), `m${i}`));
  });

  it('passes metadata, peer and deadline to the handler', async () => {
    const md = new grpc.Metadata();
    md.set('token', 'abc');
    md.set('hasleader', 'true');
    const deadline = Date.now() + 5000;
    await unaryCall(f.client, '/test.Echo/Echo', Buffer.from('x'), md, { deadline });
    assert.ok(lastCtx);
    assert.equal(lastCtx.get('token'), 'abc');
    assert.equal(lastCtx.get('hasleader'), 'true');
    assert.equal(lastCtx.get('authorization'), undefined);
    assert.equal(lastCtx.path, '/test.Echo/Echo');
    assert.match(lastPeer, /^127\.0\.0\.1:\d+$/);
    assert.ok(lastCtx.deadline !== undefined && Math.abs(lastCtx.deadline - deadline) < 1000);
    assert.equal(lastCtx.cancelled, false);
  });

  const errorCases: Array<{ name: string; body: string; code: number; details: string }> = [
    { name: 'etcd InvalidArgument', body: '3:etcdserver: key is not provided', code: 3, details: 'etcdserver: key is not provided' },
    { name: 'etcd Unavailable', body: '14:etcdserver: no leader', code: 14, details: 'etcdserver: no leader' },
    { name: 'OutOfRange compacted', body: '11:etcdserver: mvcc: required revision has been compacted', code: 11, details: 'etcdserver: mvcc: required revision has been compacted' },
    { name: 'percent and unicode', body: '9:100% sûr ✓\ttab', code: 9, details: '100% sûr ✓\ttab' },
    { name: 'empty message', body: '5:', code: 5, details: '' },
    { name: 'plain Error becomes UNKNOWN', body: 'plain:boom: it broke', code: 2, details: 'boom: it broke' },
  ];
  for (const c of errorCases) {
    it(`error: ${c.name}`, async () => {
      const r = await unaryCall(f.client, '/test.Echo/Fail', Buffer.from(c.body, 'utf8'));
      assert.equal(r.code, c.code);
      assert.equal(r.details, c.details);
    });
  }

  const unknownCases = [
    { name: 'unknown service', path: '/nope.Svc/Do', details: 'unknown service nope.Svc' },
    { name: 'unknown method', path: '/test.Echo/Nope', details: 'unknown method Nope for service test.Echo' },
  ];
  for (const c of unknownCases) {
    it(c.name, async () => {
      const r = await unaryCall(f.client, c.path, Buffer.from('x'));
      assert.equal(r.code, GrpcStatus.UNIMPLEMENTED);
      assert.equal(r.details, c.details);
    });
  }

  it('rejects a message over the receive limit with RESOURCE_EXHAUSTED, then keeps serving', async () => {
    const r = await unaryCall(f.client, '/test.Echo/Echo', Buffer.alloc(1025));
    assert.equal(r.code, GrpcStatus.RESOURCE_EXHAUSTED);
    assert.equal(r.details, 'grpc: received message larger than max (1025 vs. 1024)');
    const big = await unaryCall(f.client, '/test.Echo/Echo', Buffer.alloc(5 * 1024 * 1024));
    assert.equal(big.code, GrpcStatus.RESOURCE_EXHAUSTED);
    const ok = await unaryCall(f.client, '/test.Echo/Echo', Buffer.from('still fine'));
    assert.equal(ok.response?.toString(), 'still fine');
  });

  it('answers a decode failure with INTERNAL', async () => {
    const r = await unaryCall(f.client, '/test.Echo/BadDecode', Buffer.from('x'));
    assert.equal(r.code, GrpcStatus.INTERNAL);
    assert.equal(r.details, 'grpc: error unmarshalling request: bad bytes');
  });

  it('propagates a client cancel to the handler signal', async () => {
    lastCtx = undefined;
    const call = f.client.makeUnaryRequest('/test.Echo/Never', (b: Buffer) => b, (b: Buffer) => b, Buffer.from('x'), () => {});
    await waitFor(() => current()?.path === '/test.Echo/Never', 5000, 'handler start');
    const ctx = current() as CallContext;
    const signal = ctx.signal;
    assert.equal(signal.aborted, false);
    call.cancel();
    await waitFor(() => signal.aborted, 5000, 'abort');
    assert.equal(ctx.cancelled, true);
    assert.ok(signal.reason instanceof GrpcStatusError);
    assert.equal((signal.reason as GrpcStatusError).code, GrpcStatus.CANCELLED);
    await waitFor(() => f.server.activeCalls === 0, 5000, 'call cleanup');
  });

  it('ends a call whose deadline passes with DEADLINE_EXCEEDED and aborts the handler', async () => {
    lastCtx = undefined;
    // The client's own deadline also fires; either way the server side must abort.
    const r = await unaryCall(f.client, '/test.Echo/Never', Buffer.from('x'), new grpc.Metadata(), { deadline: Date.now() + 100 });
    assert.equal(r.code, GrpcStatus.DEADLINE_EXCEEDED);
    await waitFor(() => current()?.cancelled === true, 5000, 'server-side deadline');
  });

  it('reports each finished call once to onCallFinished', async () => {
    finished.length = 0;
    await unaryCall(f.client, '/test.Echo/Echo', Buffer.from('x'));
    await unaryCall(f.client, '/test.Echo/Fail', Buffer.from('7:no'));
    assert.deepEqual(finished, [
      ['/test.Echo/Echo', 0],
      ['/test.Echo/Fail', 7],
    ]);
  });
});
