/**
 * The shared client port: HTTP/1.1 and HTTP/2 non-gRPC requests reach the HTTP handler, garbage
 * hurts only its own connection, keepalive pings are tolerated, and close() cancels open calls.
 */

import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ClientListener, type HttpRequest, type HttpResponse } from '../../../../../core/server/grpc/client-listener';
import type { BidiStream } from '../../../../../core/server/grpc/grpc-method';
import { GrpcStatus } from '../../../../../core/server/grpc/grpc-status';
import { bidiCall, collect, type Fixture, rawDecode, rawEncode, startFixture, unaryCall, waitFor } from './grpc-test-helpers';

/** A tiny router standing in for /health, /version and the JSON gateway. */
function httpHandler(req: HttpRequest, res: HttpResponse): void {
  if (req.url === '/boom') throw new Error('handler bug');
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString(), version: req.httpVersion }));
  });
}

/** One HTTP/1.1 request; resolves status and body. */
function http1(port: number, method: string, path: string, body?: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a raw TCP connection, writes `bytes`, resolves when the server closes it. */
function rawSocket(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(bytes));
    const got: Buffer[] = [];
    sock.on('data', (c: Buffer) => got.push(c));
    sock.on('error', () => {});
    sock.on('close', () => resolve(Buffer.concat(got)));
  });
}

describe('ClientListener', () => {
  let f: Fixture;
  let held: BidiStream<Buffer, Buffer> | undefined;

  before(async () => {
    f = await startFixture(
      (s) => {
        s.unary('/t.Echo/Echo', rawDecode, rawEncode, async (b: Buffer) => b);
        s.bidi('/t.Echo/Stream', rawDecode, rawEncode, (st: BidiStream<Buffer, Buffer>) => {
          held = st;
          st.onMessage((m) => st.write(m));
        });
      },
      {},
      { http: httpHandler, sniffTimeoutMs: 200 },
      // grpc-go clients ping every 10 s with streams open; ping much faster here.
      { 'grpc.keepalive_time_ms': 50, 'grpc.keepalive_timeout_ms': 1000, 'grpc.keepalive_permit_without_calls': 1 },
    );
  });
  after(() => f.close());

  const httpCases = [
    { name: 'GET /health', method: 'GET', path: '/health', body: undefined },
    { name: 'POST /v3/kv/put with a JSON body', method: 'POST', path: '/v3/kv/put', body: '{"key":"Zm9v","value":"YmFy"}' },
  ];
  for (const c of httpCases) {
    it(`HTTP/1.1 ${c.name} reaches the HTTP handler on the gRPC port`, async () => {
      const r = await http1(f.listener.port, c.method, c.path, c.body);
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { method: c.method, url: c.path, body: c.body ?? '', version: '1.1' });
    });
  }

  it('HTTP/2 requests without a gRPC content type reach the HTTP handler', async () => {
    const session = http2.connect(f.listener.url);
    const req = session.request({ ':method': 'POST', ':path': '/v3/kv/range', 'content-type': 'application/json' });
    req.end('{}');
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    await new Promise((r) => req.on('end', r));
    session.close();
    assert.deepEqual(JSON.parse(body), { method: 'POST', url: '/v3/kv/range', body: '{}', version: '2.0' });
  });

  it('HTTP/1.1 with a gRPC content type gets 415, not a crash', async () => {
    const r = await http1(f.listener.port, 'POST', '/t.Echo/Echo', 'xx', { 'content-type': 'application/grpc' });
    assert.equal(r.status, 415);
  });

  it('a throwing HTTP handler answers 500', async () => {
    const r = await http1(f.listener.port, 'GET', '/boom');
    assert.equal(r.status, 500);
  });

  const garbageCases = [
    { name: 'random bytes', bytes: Buffer.from([0x16, 0x03, 0x01, 0xff, 0x00, 0x13, 0x37, 0x0a, 0x0d, 0x0a, 0x0d, 0x0a]) },
    { name: 'HTTP/2 preface then garbage', bytes: Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.alloc(64, 0xff)]) },
    { name: 'a truncated preface (then silence)', bytes: Buffer.from('PRI * HTTP/2') },
  ];
  for (const c of garbageCases) {
    it(`garbage (${c.name}) closes only its own connection`, async () => {
      const stream = bidiCall(f.client, '/t.Echo/Stream');
      const done = collect(stream);
      stream.write(Buffer.from('before'));
      await rawSocket(f.listener.port, c.bytes); // resolves when the server closed it
      stream.write(Buffer.from('after'));
      const r = await unaryCall(f.client, '/t.Echo/Echo', Buffer.from('unary'));
      assert.equal(r.response?.toString(), 'unary');
      await waitFor(() => held !== undefined, 5000, 'stream');
      stream.end();
      (held as BidiStream<Buffer, Buffer>).end();
      const got = await done;
      assert.deepEqual(got.messages.map(String), ['before', 'after']);
    });
  }

  it('survives frequent client keepalive pings on a long-open stream (no GOAWAY)', async () => {
    const stream = bidiCall(f.client, '/t.Echo/Stream');
    const done = collect(stream);
    // 30 pings' worth at 50 ms; grpc-js's own server would send too_many_pings GOAWAY here.
    for (let i = 0; i < 6; i++) {
      stream.write(Buffer.from(`tick-${i}`));
      await new Promise((r) => setTimeout(r, 250));
    }
    stream.end();
    (held as BidiStream<Buffer, Buffer>).end();
    const r = await done;
    assert.equal(r.code, 0, r.details);
    assert.equal(r.messages.length, 6);
  });
});

describe('ClientListener shutdown and server pings', () => {
  it('server keepalive pings are answered and keep the connection', async () => {
    const f = await startFixture((s) => s.unary('/t.E/E', rawDecode, rawEncode, async (b: Buffer) => b), {}, { keepaliveIntervalMs: 20, keepaliveTimeoutMs: 500 });
    try {
      assert.equal((await unaryCall(f.client, '/t.E/E', Buffer.from('1'))).code, 0);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await unaryCall(f.client, '/t.E/E', Buffer.from('2'))).code, 0);
      assert.equal(f.listener.connectionCount, 1);
    } finally {
      await f.close();
    }
  });

  it('close() cancels open streams with UNAVAILABLE, refuses new connections and resolves', async () => {
    const f = await startFixture((s) =>
      s.bidi('/t.W/Watch', rawDecode, rawEncode, (st: BidiStream<Buffer, Buffer>) => st.onMessage((m) => st.write(m))),
    );
    const streams = Array.from({ length: 3 }, () => bidiCall(f.client, '/t.W/Watch'));
    const results = streams.map((s) => collect(s));
    streams.forEach((s) => s.write(Buffer.from('x')));
    await waitFor(() => f.server.activeCalls === 3, 5000, 'streams open');
    const port = f.listener.port;
    await f.listener.close();
    for (const r of results) {
      const got = await r;
      assert.equal(got.code, GrpcStatus.UNAVAILABLE);
      assert.equal(got.details, 'grpc: the server has been stopped');
    }
    assert.equal(f.server.activeCalls, 0);
    assert.equal(f.listener.connectionCount, 0);
    await assert.rejects(http1(port, 'GET', '/health'));
    f.client.close();
  });

  it('close() lets an in-flight HTTP/1.1 keep-alive request finish, then closes its connection', async () => {
    let started = false;
    const f = await startFixture(() => {}, {}, {
      http: (_req, res) => {
        started = true;
        setTimeout(() => res.end('late but fine'), 100);
      },
    });
    const agent = new http.Agent({ keepAlive: true });
    const response = new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: f.listener.port, path: '/health', agent }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    await waitFor(() => started, 5000, 'request start');
    const t0 = Date.now();
    await f.listener.close();
    assert.equal(await response, 'late but fine');
    assert.ok(Date.now() - t0 < 1500, `close took ${Date.now() - t0} ms (grace is 2000)`);
    agent.destroy();
    f.client.close();
  });

  it('listen() rejects when the port is taken', async () => {
    const f = await startFixture(() => {});
    try {
      await assert.rejects(ClientListener.listen({ host: '127.0.0.1', port: f.listener.port, grpc: f.server }));
    } finally {
      await f.close();
    }
  });

  it('a grpc-js client on a closed server sees UNAVAILABLE', async () => {
    const f = await startFixture((s) => s.unary('/t.E/E', rawDecode, rawEncode, async (b: Buffer) => b));
    await f.listener.close();
    const r = await unaryCall(f.client, '/t.E/E', Buffer.from('x'), new grpc.Metadata(), { deadline: Date.now() + 2000 });
    assert.ok(r.code === GrpcStatus.UNAVAILABLE || r.code === GrpcStatus.DEADLINE_EXCEEDED, `code ${r.code}`);
    f.client.close();
  });
});
