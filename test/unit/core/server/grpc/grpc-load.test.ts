/**
 * The bench load generator (bench/lib) against our transport: counts, statuses, merging across
 * processes, the histogram, and argument parsing.
 */

import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEchoServer } from '../../../../../bench/lib/echo-server';
import { formatReport, runLoad } from '../../../../../bench/lib/grpc-load';
import { parseArgs } from '../../../../../bench/lib/grpc-load-args';
import { LatencyHistogram } from '../../../../../bench/lib/latency-histogram';
import { decodeStatus, encodeRequestHeaders, huffmanDigits, huffmanEncode } from '../../../../../bench/lib/hpack-lite';
import { ClientListener } from '../../../../../core/server/grpc/client-listener';
import { GrpcServer } from '../../../../../core/server/grpc/grpc-server';
import { GrpcStatus, GrpcStatusError } from '../../../../../core/server/grpc/grpc-status';

describe('grpc-load against the transport', () => {
  let listener: ClientListener;
  let target: string;

  before(async () => {
    listener = await startEchoServer({ echo: true, paths: ['/etcdserverpb.KV/Range', '/etcdserverpb.KV/Put'] });
    target = `127.0.0.1:${listener.port}`;
  });
  after(() => listener.close());

  it('issues exactly `total` calls over several connections, all OK', async () => {
    const r = await runLoad({ target, path: '/etcdserverpb.KV/Range', body: Buffer.from('0a0161', 'hex'), conns: 3, concurrency: 32, total: 3000 });
    assert.equal(r.calls, 3000);
    assert.deepEqual(r.statuses, { OK: 3000 });
    assert.equal(r.latency.count, 3000);
    assert.ok(r.latency.p50Ms > 0 && r.latency.p50Ms <= r.latency.p99Ms && r.latency.p99Ms <= r.latency.maxMs * 1.01);
    assert.ok(r.callsPerSecond > 0 && r.generatorCpuMs > 0);
    assert.match(formatReport(r), /calls 3000 in/);
  });

  it('uses a body function and counts statuses of failed calls', async () => {
    const seen: number[] = [];
    const r = await runLoad({
      target,
      path: '/etcdserverpb.KV/Nope',
      body: (i) => {
        seen.push(i);
        return Buffer.from([i & 0xff]);
      },
      concurrency: 4,
      total: 200,
    });
    assert.deepEqual(r.statuses, { UNIMPLEMENTED: 200 });
    assert.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i));
  });

  it('runs for a duration', async () => {
    const r = await runLoad({ target, path: '/etcdserverpb.KV/Put', body: Buffer.from('0a01611201 62'.replace(' ', ''), 'hex'), concurrency: 8, durationMs: 300 });
    assert.ok(r.calls > 0);
    assert.ok(r.elapsedMs >= 290 && r.elapsedMs < 5000, `elapsed ${r.elapsedMs}`);
    assert.deepEqual(Object.keys(r.statuses), ['OK']);
  });

  it('splits a run over two processes and merges their results', async () => {
    const r = await runLoad({ target, path: '/etcdserverpb.KV/Range', body: Buffer.from('x'), conns: 2, concurrency: 8, total: 1001, procs: 2 });
    assert.equal(r.procs, 2);
    assert.equal(r.calls, 1001);
    assert.deepEqual(r.statuses, { OK: 1001 });
    assert.equal(r.latency.count, 1001);
  });

  it('reports a refused connection as an error, without hanging', async () => {
    await assert.rejects(runLoad({ target: '127.0.0.1:1', path: '/a.B/C', body: Buffer.alloc(0), total: 1, engine: 'node' }));
    await assert.rejects(runLoad({ target: '127.0.0.1:1', path: '/a.B/C', body: Buffer.alloc(0), total: 1 }));
  });
});

describe('grpc-load engines agree', () => {
  let listener: ClientListener;
  let target: string;
  const tokens: string[] = [];

  before(async () => {
    const server = new GrpcServer();
    // The first request byte picks the status: 0 = OK (echo), else that code.
    server.unary('/t.S/Status', (b: Buffer) => b, (b: Uint8Array) => b, async (req: Buffer, ctx) => {
      tokens.push(ctx.get('token') ?? '');
      if (req.length === 0 || req[0] === 0) return req;
      throw new GrpcStatusError(req[0], `status ${req[0]}`);
    });
    listener = await ClientListener.listen({ host: '127.0.0.1', port: 0, grpc: server });
    target = `127.0.0.1:${listener.port}`;
  });
  after(() => listener.close());

  for (const engine of ['raw', 'node'] as const) {
    const cases = [
      { name: 'OK, empty body', body: Buffer.alloc(0), path: '/t.S/Status', want: { OK: 40 } },
      { name: 'OK, 60000-byte body split over DATA frames', body: Buffer.alloc(60000), path: '/t.S/Status', want: { OK: 40 } },
      { name: 'UNAVAILABLE in trailers-only', body: Buffer.from([GrpcStatus.UNAVAILABLE]), path: '/t.S/Status', want: { UNAVAILABLE: 40 } },
      { name: 'UNAUTHENTICATED (two digits)', body: Buffer.from([GrpcStatus.UNAUTHENTICATED]), path: '/t.S/Status', want: { UNAUTHENTICATED: 40 } },
      { name: 'unknown method', body: Buffer.alloc(1), path: '/t.S/Nope', want: { UNIMPLEMENTED: 40 } },
    ];
    for (const c of cases) {
      it(`${engine}: ${c.name}`, async () => {
        const r = await runLoad({ target, path: c.path, body: c.body, engine, conns: 2, concurrency: 8, total: 40 });
        assert.deepEqual(r.statuses, c.want);
      });
    }
    it(`${engine}: sends metadata`, async () => {
      tokens.length = 0;
      await runLoad({ target, path: '/t.S/Status', body: Buffer.alloc(0), engine, total: 3, metadata: { token: 'tok-1' } });
      assert.deepEqual(tokens, ['tok-1', 'tok-1', 'tok-1']);
    });
  }
});

describe('hpack-lite', () => {
  it('round-trips digits through Huffman coding', () => {
    for (const n of [0, 1, 2, 3, 9, 10, 14, 16, 200, 404, 1234567890]) {
      const b = huffmanEncode(String(n));
      assert.equal(huffmanDigits(b, 0, b.length), n, String(n));
    }
  });
  it('rejects non-digit Huffman codes and bad padding', () => {
    assert.ok(Number.isNaN(huffmanDigits(huffmanEncode('ac'), 0, 1)));
    assert.ok(Number.isNaN(huffmanDigits(Buffer.from([0x00]), 0, 1))); // '0' then 000 padding
  });
  it('encodes grpc-status as RFC 7541 Appendix B says', () => {
    assert.equal(huffmanEncode('grpc-status').toString('hex'), '9acac8b21234da8f');
  });
  const blocks: Array<[string, Buffer, number | undefined, number | undefined]> = [
    ['indexed :status 200 + literal grpc-status 0', Buffer.from([0x88, 0x00, 0x0b, ...Buffer.from('grpc-status'), 0x01, 0x30]), 0, 200],
    ['Huffman name, incremental indexing, value 14', Buffer.from([0x40, 0x88, ...huffmanEncode('grpc-status'), 0x02, 0x31, 0x34]), 14, undefined],
    ['Huffman value', Buffer.from([0x00, 0x88, ...huffmanEncode('grpc-status'), 0x81, ...huffmanEncode('5')]), 5, undefined],
    ['table size update then :status 404 literal', Buffer.from([0x20, 0x08, 0x03, 0x34, 0x30, 0x34]), undefined, 404],
  ];
  for (const [name, block, grpcStatus, httpStatus] of blocks) {
    it(`decodes ${name}`, () => assert.deepEqual(decodeStatus(block), { grpcStatus, httpStatus }));
  }
  it('encodes a request block that node:http2 accepts (checked through the engines above)', () => {
    const block = encodeRequestHeaders('/a.B/C', 'h:1', { token: 'x' });
    assert.equal(block[0], 0x83);
    assert.equal(block[1], 0x86);
  });
});

describe('LatencyHistogram', () => {
  it('keeps quantiles within 1% for a uniform spread', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10000; i++) h.record(i / 100); // 0.01 .. 100 ms
    const cases: Array<[number, number]> = [
      [0.5, 50],
      [0.9, 90],
      [0.99, 99],
    ];
    for (const [q, want] of cases) {
      const got = h.quantileMs(q);
      assert.ok(Math.abs(got - want) / want < 0.01, `q${q}: ${got} vs ${want}`);
    }
    assert.equal(h.summary().maxMs, 100);
  });

  it('merges and round-trips through JSON', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 0; i < 100; i++) a.record(1);
    for (let i = 0; i < 100; i++) b.record(10);
    const merged = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    merged.merge(b);
    assert.equal(merged.count, 200);
    assert.ok(Math.abs(merged.quantileMs(0.25) - 1) < 0.01);
    assert.ok(Math.abs(merged.quantileMs(0.75) - 10) < 0.1);
    assert.ok(Math.abs(merged.summary().meanMs - 5.5) < 0.01);
  });

  it('clamps tiny and huge values', () => {
    const h = new LatencyHistogram();
    h.record(0);
    h.record(1e12);
    assert.equal(h.count, 2);
    assert.ok(h.quantileMs(0.5) <= 0.002);
    assert.ok(h.summary().maxMs > 4e6);
  });
});

describe('grpc-load arguments', () => {
  it('parses the documented command line', () => {
    const p = parseArgs('--target 127.0.0.1:2379 --path /etcdserverpb.KV/Range --body-hex 0a0161 --conns 4 --concurrency 256 --total 100000 --procs 2 --header token:abc --json'.split(' '));
    assert.equal(p.json, true);
    assert.equal(p.options.target, '127.0.0.1:2379');
    assert.deepEqual(Buffer.from(p.options.body as Uint8Array), Buffer.from([0x0a, 0x01, 0x61]));
    assert.deepEqual([p.options.conns, p.options.concurrency, p.options.total, p.options.procs], [4, 256, 100000, 2]);
    assert.deepEqual(p.options.metadata, { token: 'abc' });
  });
  const bad = [
    ['--path', '/a.B/C'],
    ['--target', 'h:1', '--path', '/a.B/C', '--conns', '0'],
    ['--target', 'h:1', '--path', '/a.B/C', '--body-hex', 'abc'],
    ['--target', 'h:1', '--path', '/a.B/C', '--bogus'],
    ['--target', 'h:1', '--path'],
  ];
  for (const argv of bad) {
    it(`rejects ${argv.join(' ')}`, () => assert.throws(() => parseArgs(argv)));
  }
});
