/**
 * The `:authority` filter on the real client port (ClientListener over 127.0.0.1): a URL
 * authority, which node:http2 alone resets with PROTOCOL_ERROR, now reaches the handler reduced
 * to host:port, on the first and later calls of a connection; the peer address survives the
 * wrapping; malformed header blocks close only their own connection (node's own GOAWAY before
 * any rewrite, a plain close after one).
 */

import * as assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { CallContext } from '../../../../../core/server/grpc/grpc-method';
import { HTTP2_PREFACE } from '../../../../../core/server/grpc/protocol-sniffer';
import { type Fixture, startFixture, unaryCall } from './grpc-test-helpers';

interface Seen {
  authority: string;
  peer: string;
}

interface H2Result {
  grpcStatus?: string;
  seen?: Seen;
  error?: string;
}

/** `count` sequential gRPC calls on one node:http2 connection with the given `:authority`. */
async function callsWithAuthority(port: number, authority: string, count: number): Promise<{ results: H2Result[]; localPort: number }> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  const localPort = session.socket.localPort ?? 0;
  const results: H2Result[] = [];
  try {
    for (let k = 0; k < count; k++) results.push(await oneCall(session, authority));
  } finally {
    session.destroy();
  }
  return { results, localPort };
}

function oneCall(session: http2.ClientHttp2Session, authority: string): Promise<H2Result> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ error: 'timeout' }), 5000);
    const req = session.request({
      ':method': 'POST',
      ':path': '/t.Who/Who',
      ':authority': authority,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('trailers', (t) => (grpcStatus = String(t['grpc-status'])));
    req.on('error', (err: Error) => {
      clearTimeout(timer);
      resolve({ error: err.message });
    });
    req.on('close', () => {
      clearTimeout(timer);
      if (req.rstCode !== undefined && req.rstCode !== 0) resolve({ error: `rst ${req.rstCode}` });
      const body = Buffer.concat(chunks);
      resolve({ grpcStatus, seen: body.length > 5 ? (JSON.parse(body.subarray(5).toString()) as Seen) : undefined });
    });
    req.end(Buffer.from([0, 0, 0, 0, 0])); // one empty message
  });
}

/**
 * Writes `bytes` on a raw connection, acknowledging the server's first SETTINGS as a client
 * must (RFC 9113 §6.5.3); resolves with what the server sent once it closed the connection, or
 * once `enough` says so (then `closed` is false), or after `timeoutMs`.
 */
function rawUntilClosed(port: number, bytes: Buffer, enough: (got: Buffer) => boolean = () => false, timeoutMs = 5000): Promise<{ got: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const sock = net.connect(port, '127.0.0.1', () => sock.write(bytes));
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ got: Buffer.concat(got), closed: false });
    }, timeoutMs);
    sock.on('data', (c: Buffer) => {
      if (got.length === 0) sock.write(SETTINGS_ACK);
      got.push(c);
      if (!enough(Buffer.concat(got))) return;
      clearTimeout(timer);
      sock.destroy();
      resolve({ got: Buffer.concat(got), closed: false });
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ got: Buffer.concat(got), closed: true });
    });
  });
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}

/** A gRPC request header block of literals without indexing. */
function requestBlock(authority: string): Buffer {
  const lit = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
  return Buffer.concat([Buffer.from([0x83, 0x86]), lit(':path', '/t.Who/Who'), lit(':authority', authority), lit('content-type', 'application/grpc'), lit('te', 'trailers')]);
}

/** The GOAWAY error code in server output, or undefined. */
function goawayCode(bytes: Buffer): number | undefined {
  let pos = 0;
  while (pos + 9 <= bytes.length) {
    const len = bytes.readUIntBE(pos, 3);
    if (bytes[pos + 3] === 0x7 && pos + 9 + 8 <= bytes.length) return bytes.readUInt32BE(pos + 9 + 4);
    pos += 9 + len;
  }
  return undefined;
}

const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const SETTINGS = frame(0x4, 0, 0, Buffer.alloc(0));
const SETTINGS_ACK = frame(0x4, 0x1, 0, Buffer.alloc(0));
const MALFORMED_FIRST = Buffer.concat([HTTP2_PREFACE, SETTINGS, frame(0x1, END_HEADERS | END_STREAM, 1, Buffer.from([0x80]))]);

function register(withFilter: boolean, sniffTimeoutMs?: number) {
  return startFixture(
    (s) =>
      s.unary(
        '/t.Who/Who',
        (b: Buffer) => b,
        (v: Seen) => Buffer.from(JSON.stringify(v)),
        async (_req: Buffer, ctx: CallContext) => ({ authority: String(ctx.metadata[':authority']), peer: ctx.peer }),
      ),
    {},
    { normalizeAuthority: withFilter, sniffTimeoutMs },
  );
}

describe('client port with the :authority filter', () => {
  let f: Fixture;
  before(async () => {
    f = await register(true);
  });
  after(() => f.close());

  it('serves a URL authority reduced to host:port, on every call of a connection', async () => {
    const port = f.listener.port;
    const { results, localPort } = await callsWithAuthority(port, `http://127.0.0.1:${port}`, 3);
    for (const r of results) {
      assert.equal(r.error, undefined);
      assert.equal(r.grpcStatus, '0');
      assert.deepEqual(r.seen, { authority: `127.0.0.1:${port}`, peer: `127.0.0.1:${localPort}` });
    }
  });

  it('leaves a plain authority alone and keeps the peer address', async () => {
    const port = f.listener.port;
    const { results, localPort } = await callsWithAuthority(port, `localhost:${port}`, 2);
    for (const r of results) assert.deepEqual(r.seen, { authority: `localhost:${port}`, peer: `127.0.0.1:${localPort}` });
  });

  it('routes through the filter only connections whose first request needs it', async () => {
    const port = f.listener.port;
    const before = f.listener.filteredConnections;
    await callsWithAuthority(port, `localhost:${port}`, 1);
    await unaryCall(f.client, '/t.Who/Who', Buffer.alloc(0));
    assert.equal(f.listener.filteredConnections, before, 'plain authorities stay on the native path');
    await callsWithAuthority(port, `http://127.0.0.1:${port}`, 1);
    assert.equal(f.listener.filteredConnections, before + 1);
  });

  it('serves a client that waits for the server SETTINGS before its first request (grpc-go)', async () => {
    const port = f.listener.port;
    const got: Buffer[] = [];
    const sock = net.connect(port, '127.0.0.1', () => sock.write(Buffer.concat([HTTP2_PREFACE, SETTINGS])));
    sock.on('error', () => {});
    let sent = false;
    const answered = new Promise<Buffer>((resolve) => {
      const timer = setTimeout(() => resolve(Buffer.concat(got)), 5000);
      sock.on('data', (c: Buffer) => {
        got.push(c);
        const all = Buffer.concat(got);
        if (!sent && all.length >= 9) {
          // The server spoke first, as grpc-go requires: ACK it, then send the request.
          sent = true;
          const empty = Buffer.from([0, 0, 0, 0, 0]);
          sock.write(Buffer.concat([SETTINGS_ACK, frame(0x1, END_HEADERS, 1, requestBlock(`http://127.0.0.1:${port}`)), frame(0x0, END_STREAM, 1, empty)]));
        }
        if (all.includes(Buffer.from(`"authority":"127.0.0.1:${port}"`))) {
          clearTimeout(timer);
          resolve(all);
        }
      });
    });
    const out = await answered;
    sock.destroy();
    assert.ok(out.subarray(0, 9).equals(frame(0x4, 0, 0, Buffer.alloc(0))), 'our empty SETTINGS comes first');
    assert.ok(out.includes(Buffer.from(`"authority":"127.0.0.1:${port}"`)), 'the call was served with the reduced authority');
  });

  it('a client PING before any request is answered (native route)', async () => {
    const ping = frame(0x6, 0, 0, Buffer.from('0102030405060708', 'hex'));
    const r = await rawUntilClosed(f.listener.port, Buffer.concat([HTTP2_PREFACE, SETTINGS, ping]), (got) => got.includes(frame(0x6, 0x1, 0, Buffer.from('0102030405060708', 'hex'))));
    assert.ok(r.got.includes(frame(0x6, 0x1, 0, Buffer.from('0102030405060708', 'hex'))));
  });

  it('garbage after the preface is left to node at once (closed without waiting for the route)', async () => {
    const r = await rawUntilClosed(f.listener.port, Buffer.concat([HTTP2_PREFACE, Buffer.alloc(64, 0xff)]), () => false, 2000);
    assert.equal(r.closed, true);
  });

  it('a malformed block after a rewrite closes that connection only', async () => {
    const bytes = Buffer.concat([
      HTTP2_PREFACE,
      SETTINGS,
      frame(0x1, END_HEADERS | END_STREAM, 1, requestBlock(`http://127.0.0.1:${f.listener.port}`)),
      frame(0x1, END_HEADERS | END_STREAM, 3, Buffer.from([0x80])), // index 0: decoding error
    ]);
    const r = await rawUntilClosed(f.listener.port, bytes);
    assert.equal(r.closed, true);
    const ok = await unaryCall(f.client, '/t.Who/Who', Buffer.alloc(0));
    assert.equal(ok.code, 0);
  });

  it("a malformed block before any rewrite gets node's own GOAWAY COMPRESSION_ERROR, as without the filter", async () => {
    const r = await rawUntilClosed(f.listener.port, MALFORMED_FIRST, (got) => goawayCode(got) !== undefined);
    assert.equal(goawayCode(r.got), 0x9);
    const ok = await unaryCall(f.client, '/t.Who/Who', Buffer.alloc(0));
    assert.equal(ok.code, 0);
  });
});

describe('client port: a client that never acknowledges our SETTINGS', () => {
  let f: Fixture;
  before(async () => {
    f = await register(true, 300);
  });
  after(() => f.close());

  it('is handed to node natively after the bounded wait, as before the filter', async () => {
    const started = Date.now();
    const message = frame(0x0, END_STREAM, 1, Buffer.alloc(5)); // one empty gRPC message
    const bytes = Buffer.concat([HTTP2_PREFACE, SETTINGS, frame(0x1, END_HEADERS, 1, requestBlock('localhost:1')), message]);
    const got: Buffer[] = [];
    const sock = net.connect(f.listener.port, '127.0.0.1', () => sock.write(bytes));
    sock.on('error', () => {});
    const answered = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      sock.on('data', (c: Buffer) => {
        got.push(c);
        if (Buffer.concat(got).includes(Buffer.from('"authority":"localhost:1"'))) {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
    sock.destroy();
    assert.ok(answered, 'node served the request');
    assert.ok(Date.now() - started >= 250, 'only after the wait');
    assert.equal(f.listener.filteredConnections, 0);
  });
});

describe('client port without the filter (the control)', () => {
  let f: Fixture;
  before(async () => {
    f = await register(false);
  });
  after(() => f.close());

  it('node:http2 resets a stream with a URL authority (PROTOCOL_ERROR)', async () => {
    const port = f.listener.port;
    const { results } = await callsWithAuthority(port, `http://127.0.0.1:${port}`, 1);
    assert.match(results[0].error ?? '', /NGHTTP2_PROTOCOL_ERROR|rst 1/);
  });

  it('a malformed first block gets GOAWAY COMPRESSION_ERROR (what the filter must preserve)', async () => {
    const r = await rawUntilClosed(f.listener.port, MALFORMED_FIRST, (got) => goawayCode(got) !== undefined);
    assert.equal(goawayCode(r.got), 0x9);
  });
});
