/**
 * The gRPC wire seen from a raw node:http2 client, where frames, flags and windows are under the
 * test's control: reassembly across DATA frames, several messages per frame, compression flags,
 * the receive limit, response shape, and send backpressure.
 */

import * as assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { ClientListener } from '../../../../../core/server/grpc/client-listener';
import { encodeFrame } from '../../../../../core/server/grpc/grpc-frame';
import type { BidiStream } from '../../../../../core/server/grpc/grpc-method';
import { GrpcServer } from '../../../../../core/server/grpc/grpc-server';
import { GrpcStatus } from '../../../../../core/server/grpc/grpc-status';
import { rawDecode, rawEncode, waitFor } from './grpc-test-helpers';

/** What a raw request saw: response headers, DATA bytes, trailers. */
interface RawResult {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
}

const GRPC_HEADERS = { ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' };

/** Sends `pieces` as separate DATA frames (a turn of the event loop between them), then ends. */
function rawCall(session: http2.ClientHttp2Session, path: string, pieces: Buffer[], extra: http2.OutgoingHttpHeaders = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ...GRPC_HEADERS, ':path': path, ...extra });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      headers = h;
    });
    req.on('trailers', (t) => {
      trailers = t;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('close', () => resolve({ headers, body: Buffer.concat(chunks), trailers }));
    void (async () => {
      for (const piece of pieces) {
        if (req.destroyed || req.closed) return;
        req.write(piece);
        await new Promise((r) => setImmediate(r));
      }
      if (!req.destroyed && !req.closed) req.end();
    })();
  });
}

/** The status of a raw result, from trailers or a Trailers-Only header block. */
function statusOf(r: RawResult): { code: number; message: string } {
  const source = r.trailers['grpc-status'] !== undefined ? r.trailers : r.headers;
  return { code: Number(source['grpc-status']), message: decodeURIComponent(String(source['grpc-message'] ?? '')) };
}

/** Splits a buffer into pieces of `size` bytes. */
function split(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

describe('gRPC over a raw HTTP/2 client', () => {
  let server: GrpcServer;
  let listener: ClientListener;
  let session: http2.ClientHttp2Session;
  let held: BidiStream<Buffer, Buffer> | undefined;
  const heldStream = (): BidiStream<Buffer, Buffer> | undefined => held;

  before(async () => {
    server = new GrpcServer({ maxReceiveMessageBytes: 64 * 1024 });
    server.unary('/raw.T/Echo', rawDecode, rawEncode, async (b: Buffer) => b);
    server.bidi('/raw.T/Stream', rawDecode, rawEncode, (s: BidiStream<Buffer, Buffer>) => {
      s.onMessage((m) => s.write(m));
      s.onHalfClose(() => s.end());
    });
    server.bidi('/raw.T/Hold', rawDecode, rawEncode, (s: BidiStream<Buffer, Buffer>) => {
      held = s;
      s.onMessage(() => {});
    });
    listener = await ClientListener.listen({ host: '127.0.0.1', port: 0, grpc: server });
    session = http2.connect(listener.url);
  });
  after(async () => {
    session.destroy();
    await listener.close();
  });

  it('unary response: 200, application/grpc, one framed message, grpc-status 0 in trailers', async () => {
    const r = await rawCall(session, '/raw.T/Echo', [encodeFrame(Buffer.from('hi'))]);
    assert.equal(r.headers[':status'], 200);
    assert.equal(r.headers['content-type'], 'application/grpc');
    assert.deepEqual(r.body, encodeFrame(Buffer.from('hi')));
    assert.equal(r.trailers['grpc-status'], '0');
  });

  const splitCases = [1, 2, 3, 5, 7, 1000];
  for (const size of splitCases) {
    it(`reassembles a 20000-byte message sent in DATA frames of ${size} byte(s)`, async () => {
      const payload = Buffer.alloc(size === 1 ? 2000 : 20000);
      for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
      const r = await rawCall(session, '/raw.T/Echo', split(encodeFrame(payload), size));
      assert.equal(statusOf(r).code, 0, statusOf(r).message);
      assert.deepEqual(r.body.subarray(5), payload);
    });
  }

  it('splits several messages from one DATA frame (bidi), including empty ones', async () => {
    const msgs = ['a', '', 'bcd', '', 'efghij'].map((s) => Buffer.from(s));
    const oneFrame = Buffer.concat(msgs.map(encodeFrame));
    const r = await rawCall(session, '/raw.T/Stream', [oneFrame]);
    assert.equal(statusOf(r).code, 0);
    assert.deepEqual(r.body, oneFrame);
  });

  const flagCases = [
    { name: 'compressed flag, no grpc-encoding', flag: 1, extra: {}, code: GrpcStatus.INTERNAL, message: 'grpc: compressed flag set with identity or empty encoding' },
    { name: 'compressed flag, identity', flag: 1, extra: { 'grpc-encoding': 'identity' }, code: GrpcStatus.INTERNAL, message: 'grpc: compressed flag set with identity or empty encoding' },
    { name: 'compressed flag, gzip', flag: 1, extra: { 'grpc-encoding': 'gzip' }, code: GrpcStatus.UNIMPLEMENTED, message: 'grpc: Decompressor is not installed for grpc-encoding "gzip"' },
    { name: 'unknown flag value', flag: 2, extra: {}, code: GrpcStatus.INTERNAL, message: 'grpc: received unexpected payload format 2' },
  ];
  for (const c of flagCases) {
    it(`rejects ${c.name}`, async () => {
      const frame = encodeFrame(Buffer.from('zz'));
      frame[0] = c.flag;
      const r = await rawCall(session, '/raw.T/Echo', [frame], c.extra);
      assert.deepEqual(statusOf(r), { code: c.code, message: c.message });
      assert.equal(r.body.length, 0);
    });
  }

  it('rejects an oversized message from its header alone, before the body arrives', async () => {
    const header = Buffer.from([0, 0, 0x10, 0, 0]); // declares 1 MiB against a 64 KiB limit
    const req = session.request({ ...GRPC_HEADERS, ':path': '/raw.T/Echo' });
    req.write(header);
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => req.on('response', resolve));
    assert.equal(headers['grpc-status'], String(GrpcStatus.RESOURCE_EXHAUSTED));
    assert.equal(headers['grpc-message'], 'grpc: received message larger than max (1048576 vs. 65536)');
    await new Promise((r) => req.on('close', r)); // the server reset the upload
    await waitFor(() => server.activeCalls === 0, 5000, 'cleanup');
  });

  it('treats a client that half-closes mid-message as INTERNAL', async () => {
    const r = await rawCall(session, '/raw.T/Echo', [encodeFrame(Buffer.from('abcdef')).subarray(0, 7)]);
    assert.equal(statusOf(r).code, GrpcStatus.INTERNAL);
  });

  it('answers a unary call with no request message with INTERNAL', async () => {
    const r = await rawCall(session, '/raw.T/Echo', []);
    assert.equal(statusOf(r).code, GrpcStatus.INTERNAL);
  });

  it('answers a non-POST gRPC request with 405 and INTERNAL', async () => {
    const r = await rawCall(session, '/raw.T/Echo', [], { ':method': 'GET' });
    assert.equal(r.headers[':status'], 405);
    assert.equal(statusOf(r).code, GrpcStatus.INTERNAL);
  });

  it('rejects a malformed grpc-timeout with INTERNAL', async () => {
    const r = await rawCall(session, '/raw.T/Echo', [encodeFrame(Buffer.from('x'))], { 'grpc-timeout': '12x' });
    assert.deepEqual(statusOf(r), { code: GrpcStatus.INTERNAL, message: 'malformed grpc-timeout: 12x' });
  });

  it('backpressure: write turns false and drain waits until the reader opens its window', async () => {
    held = undefined;
    // A dedicated connection whose stream window is the HTTP/2 default (64 KiB).
    const slow = http2.connect(listener.url);
    const req = slow.request({ ...GRPC_HEADERS, ':path': '/raw.T/Hold' });
    req.write(encodeFrame(Buffer.from('start')));
    req.pause();
    await waitFor(() => heldStream() !== undefined, 5000, 'stream open');
    const stream = heldStream() as BidiStream<Buffer, Buffer>;
    const chunk = Buffer.alloc(16 * 1024, 1);
    let writes = 0;
    let drained = false;
    // Bounded: at most 64 rounds of 16 KiB; the 64 KiB window must block long before.
    for (; writes < 64; writes++) {
      stream.write(chunk);
      const settled = await Promise.race([stream.drain().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))]);
      if (!settled) break;
    }
    assert.ok(writes < 64, 'the send side never blocked');
    assert.ok(stream.bufferedBytes > 0);
    const drain = stream.drain().then(() => {
      drained = true;
    });
    let received = 0;
    req.on('data', (c: Buffer) => {
      received += c.length;
    });
    req.resume();
    await drain;
    assert.equal(drained, true);
    stream.end();
    req.end(); // a real client half-closes once it has the status
    await new Promise((r) => req.on('close', r));
    assert.ok(received >= (writes + 1) * chunk.length);
    slow.destroy();
  });
});
