/**
 * Streaming calls through the grpc-js client: bidi with half-close, server and client streams,
 * ending with a status, and cancellation. (Backpressure is tested with a raw
 * HTTP/2 client in grpc-raw.test.ts, where the reader's window is known.)
 */

import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BidiStream, CallContext, ServerStreamWriter } from '../../../../../core/server/grpc/grpc-method';
import { GrpcStatus, GrpcStatusError } from '../../../../../core/server/grpc/grpc-status';
import {
  bidiCall,
  clientStreamCall,
  collect,
  type Fixture,
  rawDecode,
  rawEncode,
  serverStreamCall,
  startFixture,
  waitFor,
} from './grpc-test-helpers';

describe('GrpcServer streams', () => {
  let f: Fixture;
  let openStream: BidiStream<Buffer, Buffer> | undefined;
  let openCtx: CallContext | undefined;
  let halfClosedSeen = 0;
  const ctxOf = (): CallContext | undefined => openCtx;
  const streamOf = (): BidiStream<Buffer, Buffer> | undefined => openStream;

  before(async () => {
    f = await startFixture((s) => {
      // Echo each message; on half-close send a final "bye" and end OK.
      s.bidi('/test.Stream/Echo', rawDecode, rawEncode, (stream: BidiStream<Buffer, Buffer>) => {
        stream.onMessage((m) => stream.write(m));
        stream.onHalfClose(() => {
          halfClosedSeen++;
          stream.write(Buffer.from('bye'));
          stream.end();
        });
      });
      // Keeps the stream open and exposes it to the test.
      s.bidi('/test.Stream/Hold', rawDecode, rawEncode, (stream: BidiStream<Buffer, Buffer>, ctx) => {
        openStream = stream;
        openCtx = ctx;
        stream.onMessage(() => {});
      });
      // Sends N messages (N in the request), then ends via the returned promise.
      s.serverStream('/test.Stream/Count', rawDecode, rawEncode, async (req: Buffer, out: ServerStreamWriter<Buffer>) => {
        const n = req.readUInt32BE(0);
        for (let i = 0; i < n; i++) {
          const b = Buffer.alloc(4);
          b.writeUInt32BE(i);
          if (!out.write(b)) await out.drain();
        }
      });
      // Sends two events then cancels like an etcd watch; or cancels before any message.
      s.serverStream('/test.Stream/Cancel', rawDecode, rawEncode, (req: Buffer, out) => {
        if (req.length > 0) {
          out.write(Buffer.from('e1'));
          out.write(Buffer.from('e2'));
        }
        out.end(new GrpcStatusError(GrpcStatus.CANCELLED, 'etcdserver: watch canceled'));
      });
      s.serverStream('/test.Stream/Throw', rawDecode, rawEncode, async (_req: Buffer, out) => {
        out.write(Buffer.from('one'));
        throw new GrpcStatusError(GrpcStatus.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted');
      });
      // Sums the lengths of all messages.
      s.clientStream('/test.Stream/Sum', rawDecode, rawEncode, (input) => {
        return new Promise<Uint8Array>((resolve) => {
          let total = 0;
          input.onMessage((m) => {
            total += m.length;
          });
          input.onHalfClose(() => resolve(Buffer.from(String(total))));
        });
      });
    });
  });
  after(() => f.close());

  it('bidi: 2000 messages each way, in order, then half-close and a final message', async () => {
    const call = bidiCall(f.client, '/test.Stream/Echo');
    const done = collect(call);
    const count = 2000;
    for (let i = 0; i < count; i++) call.write(Buffer.from(`msg-${i}`));
    call.end();
    const r = await done;
    assert.equal(r.code, 0, r.details);
    assert.equal(r.messages.length, count + 1);
    for (let i = 0; i < count; i++) assert.equal(r.messages[i].toString(), `msg-${i}`);
    assert.equal(r.messages[count].toString(), 'bye');
    assert.equal(halfClosedSeen, 1);
  });

  it('bidi: several streams at once on one connection', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, s) => {
        const call = bidiCall(f.client, '/test.Stream/Echo');
        const done = collect(call);
        for (let i = 0; i < 50; i++) call.write(Buffer.from(`${s}:${i}`));
        call.end();
        return done;
      }),
    );
    results.forEach((r, s) => {
      assert.equal(r.messages.length, 51);
      assert.equal(r.messages[49].toString(), `${s}:49`);
    });
  });

  it('server stream: 10000 messages then OK when the handler resolves', async () => {
    const req = Buffer.alloc(4);
    req.writeUInt32BE(10000);
    const r = await collect(serverStreamCall(f.client, '/test.Stream/Count', req));
    assert.equal(r.code, 0, r.details);
    assert.equal(r.messages.length, 10000);
    assert.equal(r.messages[9999].readUInt32BE(0), 9999);
  });

  const cancelCases = [
    { name: 'after messages (trailers)', req: Buffer.from('x'), messages: 2 },
    { name: 'before any message (Trailers-Only)', req: Buffer.alloc(0), messages: 0 },
  ];
  for (const c of cancelCases) {
    it(`server ends a stream with CANCELLED "etcdserver: watch canceled" ${c.name}`, async () => {
      const r = await collect(serverStreamCall(f.client, '/test.Stream/Cancel', c.req));
      assert.equal(r.messages.length, c.messages);
      assert.equal(r.code, GrpcStatus.CANCELLED);
      assert.equal(r.details, 'etcdserver: watch canceled');
    });
  }

  it('a streaming handler that rejects ends with its status after its messages', async () => {
    const r = await collect(serverStreamCall(f.client, '/test.Stream/Throw', Buffer.alloc(0)));
    assert.deepEqual(r.messages.map(String), ['one']);
    assert.equal(r.code, GrpcStatus.OUT_OF_RANGE);
    assert.equal(r.details, 'etcdserver: mvcc: required revision has been compacted');
  });

  it('client stream: sums 300 messages', async () => {
    const { stream, result } = clientStreamCall(f.client, '/test.Stream/Sum');
    for (let i = 0; i < 300; i++) stream.write(Buffer.alloc(10));
    stream.end();
    const r = await result;
    assert.equal(r.code, 0, r.details);
    assert.equal(r.response?.toString(), '3000');
  });

  it('bidi: a client cancel aborts the handler signal and frees the call', async () => {
    openCtx = undefined;
    const call = bidiCall(f.client, '/test.Stream/Hold');
    call.on('error', () => {});
    call.write(Buffer.from('hello'));
    await waitFor(() => ctxOf() !== undefined, 5000, 'stream open');
    const ctx = ctxOf() as CallContext;
    const signal = ctx.signal;
    call.cancel();
    await waitFor(() => signal.aborted, 5000, 'abort');
    assert.equal(streamOf()?.ended, true);
    assert.equal(streamOf()?.write(Buffer.from('late')), false);
    await waitFor(() => f.server.activeCalls === 0, 5000, 'cleanup');
  });

  it('bidi: server keeps sending after the client half-closed, then ends', async () => {
    openCtx = undefined;
    const call = bidiCall(f.client, '/test.Stream/Hold');
    const done = collect(call);
    call.write(Buffer.from('a'));
    call.end();
    await waitFor(() => ctxOf() !== undefined, 5000, 'stream open');
    const stream = streamOf() as BidiStream<Buffer, Buffer>;
    for (let i = 0; i < 5; i++) stream.write(Buffer.from(`late-${i}`));
    stream.end();
    const r = await done;
    assert.equal(r.code, 0);
    assert.deepEqual(r.messages.map(String), ['late-0', 'late-1', 'late-2', 'late-3', 'late-4']);
  });
});
