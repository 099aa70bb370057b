/**
 * FrameSink over a real loopback socket pair: frames sent in one pass while more are due leave
 * in one `writev`, in order; a frame with nothing due leaves at once; a client that stops
 * reading is reported once the queued bytes pass the bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { FrameSink } from '../../../../zkproxy/net/frame-sink';

/** A connected pair on 127.0.0.1 (port chosen at run time): the server's side and the client's. */
async function socketPair(): Promise<{ server: net.Socket; client: net.Socket; close(): void }> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
  const server = await accepted;
  return {
    server,
    client,
    close: () => {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

/** Counts the socket's write calls by kind (Node calls `_writev` for a flushed batch). */
function countWrites(socket: net.Socket): { write: number; writev: number[] } {
  const counts = { write: 0, writev: [] as number[] };
  const s = socket as unknown as { _write: (...a: unknown[]) => void; _writev: (chunks: unknown[], cb: unknown) => void };
  const write = s._write.bind(socket);
  const writev = s._writev.bind(socket);
  s._write = (...a: unknown[]) => {
    counts.write++;
    write(...a);
  };
  s._writev = (chunks: unknown[], cb: unknown) => {
    counts.writev.push(chunks.length);
    writev(chunks, cb);
  };
  return counts;
}

/** Reads from `client` until `bytes` arrived (bounded by a timeout). */
function receive(client: net.Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => reject(new Error(`only ${got} of ${bytes} bytes arrived`)), 5000);
    client.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= bytes) {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      }
    });
  });
}

/** Runs `fn` with a sink over the server side of a fresh pair, its write counts and the client. */
async function withSink(fn: (sink: FrameSink, counts: { write: number; writev: number[] }, client: net.Socket) => Promise<void>): Promise<void> {
  const pair = await socketPair();
  try {
    const counts = countWrites(pair.server);
    await fn(new FrameSink(pair.server, 1 << 20, () => assert.fail('not a slow reader')), counts, pair.client);
  } finally {
    pair.close();
  }
}

test('frames sent in one pass while more are due leave in one writev, in order', () =>
  withSink(async (sink, counts, client) => {
    const arrived = receive(client, 9);
    sink.write(Buffer.from('one'), true);
    await Promise.resolve(); // still the same pass: microtasks run before the nextTick release
    sink.write(Buffer.from('two'), true);
    sink.write(Buffer.from('six'), false); // the last reply due joins the open batch
    assert.equal(counts.write + counts.writev.length, 0, 'nothing written before the pass ends');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(counts.writev, [3], 'the three frames went in one writev');
    assert.equal(counts.write, 0);
    assert.equal((await arrived).toString(), 'onetwosix');
  }));

test('a frame with nothing due behind it leaves at once', () =>
  withSink(async (sink, counts, client) => {
    const arrived = receive(client, 4);
    sink.write(Buffer.from('lone'), false);
    assert.equal(counts.write, 1, 'written in the call, not at the end of the pass');
    assert.equal((await arrived).toString(), 'lone');
  }));

for (const [what, moreDue] of [['in batches', true], ['one lone frame at a time (replies, watch notifications)', false]] as const) {
  test(`a client that stops reading is reported once the queued bytes pass the bound: frames ${what}`, async () => {
    const pair = await socketPair();
    try {
      pair.client.pause();
      const reports: number[] = [];
      const sink = new FrameSink(pair.server, 1 << 20, (queued) => reports.push(queued));
      const frame = Buffer.alloc(1 << 20);
      // Kernel buffers on loopback hold a few MiB: 64 MiB unread must overflow them.
      for (let i = 0; i < 64 && reports.length === 0; i++) {
        sink.write(frame, moreDue);
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(reports.length > 0, 'never reported');
      assert.ok(reports[0]! > 1 << 20, `reported ${reports[0]} bytes queued`);
    } finally {
      pair.close();
    }
  });
}
