/**
 * GrpcUnaryClient (zkproxy/backend/grpc-unary-client.ts) against node:http2 servers on
 * 127.0.0.1 that answer the way gRPC servers do, and the ways they fail: the message comes back
 * whole; the status and percent-encoded message of an error (in trailers or trailers-only) reach
 * the caller as grpc-js would report them; a dead endpoint is skipped; a silent server fails the
 * call at its deadline; an oversized or compressed response is refused; a dropped connection
 * fails its calls and the next call reconnects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { GrpcUnaryClient, UnaryCallError } from '../../../../zkproxy/backend/grpc-unary-client';
import { silentLogger } from '../../../../zkproxy/logger';

type Handler = (stream: http2.ServerHttp2Stream, body: Buffer, headers: http2.IncomingHttpHeaders) => void;

/** A node:http2 server on a free port; `handler` answers each call once its body is in. */
async function server(handler: Handler): Promise<{ endpoint: string; sessions: Set<http2.ServerHttp2Session>; close(): Promise<void> }> {
  const srv = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  srv.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  srv.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => handler(stream as http2.ServerHttp2Stream, Buffer.concat(chunks), headers));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    sessions,
    close: () => new Promise((resolve) => {
      for (const s of sessions) s.destroy();
      srv.close(() => resolve());
    }),
  };
}

function frame(msg: Buffer, compressed = 0): Buffer {
  const out = Buffer.alloc(5 + msg.length);
  out[0] = compressed;
  out.writeUInt32BE(msg.length, 1);
  msg.copy(out, 5);
  return out;
}

/** Answers with `reply(message)` and status 0, as a gRPC server does. */
const echo = (reply: (m: Buffer) => Buffer): Handler => (stream, body) => {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frame(reply(body.subarray(5))));
};

function client(endpoints: string[], maxResponseBytes = 1 << 20): GrpcUnaryClient {
  return new GrpcUnaryClient({ endpoints, maxResponseBytes, logger: silentLogger });
}

async function rejectsWith(p: Promise<unknown>, code: number, details?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UnaryCallError, `not a UnaryCallError: ${String(e)}`);
    assert.equal(e.code, code, `code ${e.code}: ${e.details}`);
    if (details) assert.match(e.details, details);
    return true;
  });
}

test('a call sends the framed message with gRPC headers and gets the reply message back', async () => {
  let seen: http2.IncomingHttpHeaders | undefined;
  const s = await server((stream, body, headers) => {
    seen = headers;
    echo((m) => Buffer.concat([Buffer.from('re:'), m]))(stream, body, headers);
  });
  const c = client([s.endpoint]);
  try {
    const big = Buffer.alloc(300_000, 7);
    assert.deepEqual(await c.call('/pkg.Svc/Do', Buffer.from('hi'), 2000), Buffer.from('re:hi'));
    const back = await c.call('/pkg.Svc/Do', big, 2000);
    assert.equal(back.length, big.length + 3, 'a message larger than a frame and a window comes back whole');
    assert.equal(seen?.[':path'], '/pkg.Svc/Do');
    assert.equal(seen?.['content-type'], 'application/grpc');
    assert.equal(seen?.te, 'trailers');
    assert.match(String(seen?.['grpc-timeout']), /^\d+m$/);
    assert.equal(s.sessions.size, 1, 'both calls share one connection');
  } finally {
    c.close();
    await s.close();
  }
});

test('error statuses arrive with their code and decoded message, in trailers or trailers-only', async () => {
  const s = await server((stream, body) => {
    if (body.subarray(5).toString() === 'only') {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '11', 'grpc-message': 'etcdserver: mvcc: required revision has been compacted' }, { endStream: true });
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '3', 'grpc-message': 'etcdserver: too many operations%20in txn request %E2%9C%93' }));
    stream.end();
  });
  const c = client([s.endpoint]);
  try {
    await rejectsWith(c.call('/x/Y', Buffer.from('only'), 2000), 11, /^etcdserver: mvcc: required revision has been compacted$/);
    await rejectsWith(c.call('/x/Y', Buffer.from('trailers'), 2000), 3, /^etcdserver: too many operations in txn request ✓$/);
  } finally {
    c.close();
    await s.close();
  }
});

test('a dead endpoint is skipped; a dropped connection fails its calls and the next call reconnects', async () => {
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = (dead.address() as net.AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  let hang = false;
  const s = await server((stream, body, headers) => {
    if (!hang) echo((m) => m)(stream, body, headers);
  });
  const c = client([`127.0.0.1:${deadPort}`, s.endpoint]);
  try {
    assert.deepEqual(await c.call('/a/B', Buffer.from('one'), 2000), Buffer.from('one'));
    hang = true;
    const inFlight = c.call('/a/B', Buffer.from('two'), 5000);
    await new Promise((r) => setTimeout(r, 100));
    for (const sess of s.sessions) sess.destroy();
    await rejectsWith(inFlight, 14);
    hang = false;
    assert.deepEqual(await c.call('/a/B', Buffer.from('three'), 2000), Buffer.from('three'));
  } finally {
    c.close();
    await s.close();
  }
  const none = client([`127.0.0.1:${deadPort}`]);
  await rejectsWith(none.call('/a/B', Buffer.from('x'), 2000), 14, /no etcd endpoint reachable/);
  none.close();
});

test('a silent server fails the call at its deadline; oversized and compressed replies are refused', async () => {
  const s = await server((stream, body, headers) => {
    const m = body.subarray(5).toString();
    if (m === 'silent') return;
    if (m === 'compressed') {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(frame(Buffer.from('zz'), 1));
      return;
    }
    echo(() => Buffer.alloc(4096))(stream, body, headers);
  });
  const c = client([s.endpoint], 1024);
  try {
    const started = performance.now();
    await rejectsWith(c.call('/a/B', Buffer.from('silent'), 300), 4, /Deadline exceeded/);
    assert.ok(performance.now() - started < 3000, 'the deadline was not kept');
    await rejectsWith(c.call('/a/B', Buffer.from('big'), 2000), 8, /larger than 1024 bytes/);
    await rejectsWith(c.call('/a/B', Buffer.from('compressed'), 2000), 13, /malformed or compressed/);
  } finally {
    c.close();
    await s.close();
  }
});

test('a server going away (GOAWAY) costs no call: the next one runs on a new connection', async () => {
  const s = await server((stream, body, headers) => {
    echo((m) => m)(stream, body, headers);
    // Answer, then tell the client this connection takes no more streams.
    stream.on('close', () => stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR));
  });
  const c = client([s.endpoint]);
  try {
    for (let i = 0; i < 5; i++) assert.deepEqual(await c.call('/a/B', Buffer.from(`m${i}`), 2000), Buffer.from(`m${i}`));
  } finally {
    c.close();
    await s.close();
  }
});

test('a bad endpoint is refused when the client is made', () => {
  assert.throws(() => client(['localhost']), /bad etcd endpoint 'localhost'/);
  assert.throws(() => client([]), /no etcd endpoints/);
});
