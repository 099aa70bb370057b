/**
 * H2AuthorityFilter on crafted client byte streams, fed whole and cut at every (or many) points:
 * untouched octets while nothing needs a rewrite; URL authorities reduced (also when later
 * blocks only reference them through the dynamic table); header blocks split over
 * CONTINUATIONs, padded, with priority; rewritten blocks split at the frame size limit; input
 * it cannot follow forwarded untouched before any rewrite, failing the connection after one.
 * What the server would see is checked by parsing the output with a fresh decoder, as nghttp2 would.
 */

import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { H2AuthorityFilter, type H2AuthorityFilterOptions } from '../../../../../core/server/grpc/h2-authority-filter';
import { H2Flag, H2FrameType } from '../../../../../core/server/grpc/h2-frame';
import { HpackDecoder } from '../../../../../core/server/grpc/hpack-decoder';
import { HTTP2_PREFACE } from '../../../../../core/server/grpc/protocol-sniffer';

type Pairs = Array<[string, string]>;

function frame(type: number, flags: number, streamId: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload.replace(/\s/g, ''), 'hex') : payload;
  const h = Buffer.alloc(9);
  h.writeUIntBE(body.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, body]);
}

const { HEADERS, CONTINUATION, DATA } = H2FrameType;
const { END_HEADERS, END_STREAM, PADDED, PRIORITY } = H2Flag;
const SETTINGS = frame(0x4, 0, 0, '000300000064'); // MAX_CONCURRENT_STREAMS 100
const WINDOW_UPDATE = frame(0x8, 0, 0, '00010000');
const PING = frame(0x6, 0, 0, '0102030405060708');

/** A literal field with a raw name and value; `kind`: 0x40 incremental, 0x00 without, 0x10 never. */
function literal(kind: number, name: string, value: string): string {
  const str = (s: string): string => {
    const b = Buffer.from(s, 'latin1');
    if (b.length > 126) throw new Error('test strings stay short');
    return Buffer.concat([Buffer.from([b.length]), b]).toString('hex');
  };
  return (kind === 0x40 ? '40' : kind === 0x10 ? '10' : '00') + str(name) + str(value);
}

/** As node would see it: frames in order, header blocks decoded by one fresh decoder. */
interface Parsed {
  /** Non-header frames as hex, and header lists as `stream:flags:[pairs]`. */
  events: string[];
  maxPayload: number;
}

function parseAsServer(bytes: Buffer): Parsed {
  assert.deepEqual(bytes.subarray(0, 24), HTTP2_PREFACE);
  const d = new HpackDecoder();
  const events: string[] = [];
  let maxPayload = 0;
  let pos = 24;
  let block: { stream: number; flags: number; parts: Buffer[] } | null = null;
  while (pos < bytes.length) {
    const len = bytes.readUIntBE(pos, 3);
    const type = bytes[pos + 3];
    const flags = bytes[pos + 4];
    const stream = bytes.readUInt32BE(pos + 5);
    let payload = bytes.subarray(pos + 9, pos + 9 + len);
    assert.equal(payload.length, len, 'truncated frame');
    maxPayload = Math.max(maxPayload, len);
    pos += 9 + len;
    if (type === HEADERS) {
      assert.equal(block, null);
      let start = 0;
      let pad = 0;
      if (flags & PADDED) {
        pad = payload[0];
        start = 1;
      }
      let prio = '';
      if (flags & PRIORITY) {
        prio = payload.subarray(start, start + 5).toString('hex');
        start += 5;
      }
      payload = payload.subarray(start, payload.length - pad);
      block = { stream, flags: flags & (END_STREAM | PRIORITY), parts: [payload] };
      if (prio !== '') events.push(`priority ${stream} ${prio}`);
    } else if (type === CONTINUATION) {
      assert.notEqual(block, null);
      assert.equal(stream, block!.stream);
      block!.parts.push(payload);
    } else {
      assert.equal(block, null, 'frame inside a header block');
      events.push(`${type}:${flags}:${stream}:${payload.toString('hex')}`);
      continue;
    }
    if (flags & END_HEADERS) {
      const fields = d.decode(Buffer.concat(block!.parts));
      events.push(`${block!.stream}:${block!.flags}:${JSON.stringify(fields.map((f) => [f.name.toString('latin1'), f.value.toString('latin1')]))}`);
      block = null;
    }
  }
  assert.equal(block, null, 'unterminated header block');
  return { events, maxPayload };
}

interface Run {
  output: Buffer;
  failed: string | null;
  mode: string;
  /** sink.data calls made after fail (must be none). */
  afterFail: number;
}

function feed(pieces: Buffer[], options?: H2AuthorityFilterOptions): Run {
  const out: Buffer[] = [];
  let failed: string | null = null;
  let afterFail = 0;
  const filter = new H2AuthorityFilter(
    {
      data: (c) => {
        if (failed !== null) afterFail++;
        out.push(Buffer.from(c));
      },
      fail: (r) => {
        assert.equal(failed, null, 'fail called twice');
        failed = r;
      },
    },
    options,
  );
  for (const p of pieces) filter.push(p);
  return { output: Buffer.concat(out), failed, mode: filter.mode, afterFail };
}

/** Every cut into two pieces, and three pieces with the second cut stepping by `step`. */
function* splits(input: Buffer, step = 7): Generator<Buffer[]> {
  yield [input];
  for (let i = 0; i <= input.length; i++) {
    yield [input.subarray(0, i), input.subarray(i)];
    for (let j = i + 1; j < input.length; j += step) yield [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
  }
  // One octet at a time.
  const singles: Buffer[] = [];
  for (let i = 0; i < input.length; i++) singles.push(input.subarray(i, i + 1));
  yield singles;
}

const expectHeaders = (stream: number, flags: number, pairs: Pairs): string => `${stream}:${flags}:${JSON.stringify(pairs)}`;

describe('H2AuthorityFilter: mirror mode', () => {
  // Plain gRPC-ish traffic: incremental indexing, dynamic references, Huffman, a size update.
  const b1 = '82 86 ' + literal(0x40, ':path', '/etcdserverpb.KV/Range') + literal(0x40, ':authority', '127.0.0.1:2379') + '41 8cf1e3c2e5f23a6ba0ab90f4ff';
  const b3 = '3f e1 1f 82 86 bf be';
  const input = Buffer.concat([
    HTTP2_PREFACE,
    SETTINGS,
    WINDOW_UPDATE,
    frame(HEADERS, END_HEADERS, 1, b1),
    frame(DATA, END_STREAM, 1, '0000000003 0a0161'),
    frame(HEADERS, END_HEADERS | END_STREAM, 3, '82 86 bf be'),
    PING,
    frame(HEADERS, END_HEADERS, 5, b3),
  ]);

  it('forwards exactly the input for every way of cutting it', () => {
    for (const pieces of splits(input)) {
      const r = feed(pieces);
      assert.equal(r.failed, null);
      assert.equal(r.mode, 'mirror');
      assert.ok(r.output.equals(input), `cut ${pieces.map((p) => p.length).join('+')}`);
    }
  });

  it('passes one chunk through as the same buffer (no copy on the fast path)', () => {
    const seen: Buffer[] = [];
    const filter = new H2AuthorityFilter({ data: (c) => seen.push(c), fail: () => assert.fail('failed') });
    filter.push(input);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].buffer, input.buffer);
  });
});

describe('H2AuthorityFilter: rewriting', () => {
  const url = 'http://127.0.0.1:2379';
  // Block 1 adds the URL authority to the table; block 2 references it (index 62 = 0xbe) and
  // adds a field; block 3 references both; the client table is then shrunk and a literal sent.
  const b1 = '83 86 ' + literal(0x00, ':path', '/etcdserverpb.Maintenance/Status') + literal(0x40, ':authority', url) + literal(0x00, 'te', 'trailers');
  const b2 = '83 86 ' + literal(0x00, ':path', '/p2') + 'be ' + literal(0x40, 'user-agent', 'grpc-go/1.26.0');
  const b3 = '83 86 ' + literal(0x00, ':path', '/p3') + 'bf be';
  const b4 = '20 83 86 ' + literal(0x10, ':authority', 'https://x.example:1/path') + literal(0x10, 'authorization', 'secret');
  const method = [':method', 'POST'] as [string, string];
  const scheme = [':scheme', 'http'] as [string, string];
  const expected = [
    expectHeaders(1, 0, [method, scheme, [':path', '/etcdserverpb.Maintenance/Status'], [':authority', '127.0.0.1:2379'], ['te', 'trailers']]),
    '0:1:1:0000000000',
    expectHeaders(3, 1, [method, scheme, [':path', '/p2'], [':authority', '127.0.0.1:2379'], ['user-agent', 'grpc-go/1.26.0']]),
    expectHeaders(5, 1, [method, scheme, [':path', '/p3'], [':authority', '127.0.0.1:2379'], ['user-agent', 'grpc-go/1.26.0']]),
    `6:0:0:${PING.subarray(9).toString('hex')}`,
    expectHeaders(7, 1, [method, scheme, [':authority', 'x.example:1'], ['authorization', 'secret']]),
  ];
  const input = Buffer.concat([
    HTTP2_PREFACE,
    frame(HEADERS, END_HEADERS, 1, b1),
    frame(DATA, END_STREAM, 1, '0000000000'),
    frame(HEADERS, END_HEADERS | END_STREAM, 3, b2),
    frame(HEADERS, END_HEADERS | END_STREAM, 5, b3),
    PING,
    frame(HEADERS, END_HEADERS | END_STREAM, 7, b4),
  ]);

  it('reduces URL authorities, also when referenced through the dynamic table, for every cut', () => {
    const whole = feed([input]);
    assert.equal(whole.mode, 'rewrite');
    assert.deepEqual(parseAsServer(whole.output).events, expected);
    for (const pieces of splits(input, 11)) {
      const r = feed(pieces);
      assert.equal(r.failed, null);
      assert.ok(r.output.equals(whole.output), `cut ${pieces.map((p) => p.length).join('+')}`);
    }
  });

  it('keeps never-indexed fields never indexed', () => {
    const out = feed([input]).output;
    // The last block re-encoded: both its fields stay "never indexed" (0x10, literal name).
    const neverIndexed = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x10, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);
    assert.ok(out.includes(neverIndexed(':authority', 'x.example:1')));
    assert.ok(out.includes(neverIndexed('authorization', 'secret')));
  });

  it('without the filter, the same stream would reach node with the URL authority', () => {
    // The control: decoding the raw input shows what nghttp2 rejects today.
    const events = parseAsServer(input).events;
    assert.match(events[0], /http:\/\/127\.0\.0\.1:2379/);
    assert.match(events[2], /http:\/\/127\.0\.0\.1:2379/);
  });

  it('joins HEADERS + CONTINUATIONs, drops padding, keeps priority and END_STREAM', () => {
    const block = Buffer.from((b1 + b2).replace(/\s/g, ''), 'hex'); // one long block
    const padded = Buffer.concat([Buffer.from([4]), Buffer.from('8000000310', 'hex'), block.subarray(0, 10), Buffer.alloc(4)]);
    const stream = Buffer.concat([
      HTTP2_PREFACE,
      frame(HEADERS, PADDED | PRIORITY | END_STREAM, 9, padded),
      frame(CONTINUATION, 0, 9, block.subarray(10, 30)),
      frame(CONTINUATION, 0, 9, Buffer.alloc(0)),
      frame(CONTINUATION, END_HEADERS, 9, block.subarray(30)),
      frame(DATA, 0, 9, '00'),
    ]);
    const pairs: Pairs = [method, scheme, [':path', '/etcdserverpb.Maintenance/Status'], [':authority', '127.0.0.1:2379'], ['te', 'trailers']];
    pairs.push(method, scheme, [':path', '/p2'], [':authority', '127.0.0.1:2379'], ['user-agent', 'grpc-go/1.26.0']);
    const want = ['priority 9 8000000310', expectHeaders(9, END_STREAM | PRIORITY, pairs), '0:0:9:00'];
    for (const pieces of splits(stream, 13)) {
      const r = feed(pieces);
      assert.equal(r.mode, 'rewrite');
      assert.deepEqual(parseAsServer(r.output).events, want, `cut ${pieces.map((p) => p.length).join('+')}`);
    }
  });

  it('splits a rewritten block into CONTINUATIONs at the frame size limit', () => {
    let big = literal(0x00, ':authority', url);
    const pairs: Pairs = [[':authority', '127.0.0.1:2379']];
    for (let k = 0; k < 40; k++) {
      big += literal(0x00, `x-h${k}`, 'v'.repeat(100));
      pairs.push([`x-h${k}`, 'v'.repeat(100)]);
    }
    const blockBytes = Buffer.from(big, 'hex');
    const frames: Buffer[] = [HTTP2_PREFACE];
    for (let at = 0; at < blockBytes.length; at += 1000) {
      const last = at + 1000 >= blockBytes.length;
      frames.push(frame(at === 0 ? HEADERS : CONTINUATION, last ? END_HEADERS : 0, 1, blockBytes.subarray(at, at + 1000)));
    }
    for (const withPriority of [false, true]) {
      if (withPriority) frames[1] = frame(HEADERS, PRIORITY, 1, Buffer.concat([Buffer.from('0000000020', 'hex'), blockBytes.subarray(0, 1000)]));
      const r = feed([Buffer.concat(frames)], { maxFrameSize: 1024 });
      const parsed = parseAsServer(r.output);
      assert.ok(parsed.maxPayload <= 1024, `payload ${parsed.maxPayload}`);
      assert.deepEqual(parsed.events.at(-1), expectHeaders(1, withPriority ? PRIORITY : 0, pairs));
    }
  });
});

describe('H2AuthorityFilter: input it cannot follow', () => {
  const urlBlock = literal(0x40, ':authority', 'http://h:1') + '83';
  const rewriteFirst = Buffer.concat([HTTP2_PREFACE, frame(HEADERS, END_HEADERS, 1, urlBlock)]);
  const bad: Array<[string, Buffer]> = [
    ['an HPACK decoding error', frame(HEADERS, END_HEADERS, 3, '80')],
    ['a HEADERS padding longer than its payload', frame(HEADERS, END_HEADERS | PADDED, 3, '0583')],
    ['a frame between HEADERS and CONTINUATION', Buffer.concat([frame(HEADERS, 0, 3, '83'), PING, frame(CONTINUATION, END_HEADERS, 3, '86')])],
    ['a CONTINUATION on another stream', Buffer.concat([frame(HEADERS, 0, 3, '83'), frame(CONTINUATION, END_HEADERS, 5, '86')])],
    ['a CONTINUATION without HEADERS', frame(CONTINUATION, END_HEADERS, 3, '83')],
    ['a PUSH_PROMISE from the client', frame(0x5, END_HEADERS, 3, '0000000283')],
    ['HEADERS on stream 0', frame(HEADERS, END_HEADERS, 0, '83')],
    ['a header frame above the frame size limit', frame(HEADERS, END_HEADERS, 3, Buffer.alloc(16_385, 0x83))],
    ['a header block above its bound', Buffer.concat(Array.from({ length: 20 }, (_, k) => frame(k === 0 ? HEADERS : CONTINUATION, k === 19 ? END_HEADERS : 0, 3, Buffer.alloc(16_000, 0x83))))],
  ];

  for (const [name, tail] of bad) {
    it(`${name}: forwarded untouched before any rewrite`, () => {
      const input = Buffer.concat([HTTP2_PREFACE, SETTINGS, frame(HEADERS, END_HEADERS, 1, '8386'), tail, PING]);
      for (const pieces of [[input], [input.subarray(0, 60), input.subarray(60)], [input.subarray(0, 45), input.subarray(45, 47), input.subarray(47)]]) {
        const r = feed(pieces);
        assert.equal(r.failed, null);
        assert.equal(r.mode, 'transparent');
        assert.ok(r.output.equals(input));
      }
    });

    it(`${name}: fails the connection after a rewrite`, () => {
      const input = Buffer.concat([rewriteFirst, tail, PING]);
      const r = feed([input.subarray(0, rewriteFirst.length + 3), input.subarray(rewriteFirst.length + 3)]);
      assert.equal(r.mode, 'failed');
      assert.match(r.failed ?? '', /h2 authority filter/);
      assert.equal(r.afterFail, 0);
      // What was forwarded before the failure is the rewritten first block only.
      assert.deepEqual(parseAsServer(r.output).events, [expectHeaders(1, 0, [[':authority', 'h:1'], [':method', 'POST']])]);
    });
  }

  it('a preface that is not HTTP/2 goes through untouched', () => {
    const input = Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\nrest of it');
    const r = feed([input.subarray(0, 5), input.subarray(5)]);
    assert.equal(r.mode, 'transparent');
    assert.ok(r.output.equals(input));
  });

  it('ignores everything after failing', () => {
    const input = Buffer.concat([rewriteFirst, frame(HEADERS, END_HEADERS, 3, '80')]);
    const out: Buffer[] = [];
    let fails = 0;
    const filter = new H2AuthorityFilter({ data: (c) => out.push(c), fail: () => fails++ });
    filter.push(input);
    filter.push(PING);
    filter.push(frame(HEADERS, END_HEADERS, 5, '83'));
    assert.equal(fails, 1);
    assert.equal(out.length, 0, 'the chunk that failed is dropped whole');
  });
});
