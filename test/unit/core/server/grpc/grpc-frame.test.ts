/**
 * MessageDeframer and frame writing in isolation: every split point, several messages per
 * chunk, empty messages, the size limit decided from the header, bad flags, stopping.
 */

import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DeframerSink, encodeFrame, MessageDeframer, writeFrame } from '../../../../../core/server/grpc/grpc-frame';
import { GrpcStatus } from '../../../../../core/server/grpc/grpc-status';

/** A sink that records messages and stops after `stopAfter` of them. */
class Recorder implements DeframerSink {
  readonly messages: Array<{ body: string; flag: number }> = [];
  constructor(private readonly stopAfter = Infinity) {}
  onFrame(message: Buffer, flag: number): boolean {
    this.messages.push({ body: message.toString('latin1'), flag });
    return this.messages.length < this.stopAfter;
  }
}

const frames = (...bodies: string[]): Buffer => Buffer.concat(bodies.map((b) => encodeFrame(Buffer.from(b, 'latin1'))));

describe('MessageDeframer', () => {
  const bodies = ['hello', '', 'x', 'a longer message of some bytes', ''];
  const stream = frames(...bodies);

  it('delivers the same messages for every way of splitting the stream in two and three', () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j += 3) {
        const d = new MessageDeframer(1000);
        const r = new Recorder();
        for (const piece of [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)]) {
          assert.equal(d.push(piece, r), undefined);
        }
        assert.deepEqual(
          r.messages.map((m) => m.body),
          bodies,
          `split at ${i},${j}`,
        );
        assert.equal(d.idle, true);
      }
    }
  });

  it('delivers byte by byte', () => {
    const d = new MessageDeframer(1000);
    const r = new Recorder();
    for (let i = 0; i < stream.length; i++) d.push(stream.subarray(i, i + 1), r);
    assert.deepEqual(
      r.messages.map((m) => m.body),
      bodies,
    );
  });

  it('is not idle in the middle of a header or a body', () => {
    const d = new MessageDeframer(1000);
    const r = new Recorder();
    const one = frames('abc');
    d.push(one.subarray(0, 3), r);
    assert.equal(d.idle, false);
    d.push(one.subarray(3, 6), r);
    assert.equal(d.idle, false);
    d.push(one.subarray(6), r);
    assert.equal(d.idle, true);
  });

  const limitCases = [
    { name: 'at the limit', size: 100, limit: 100, error: undefined },
    { name: 'one over', size: 101, limit: 100, error: 'grpc: received message larger than max (101 vs. 100)' },
    { name: 'zero limit, empty message', size: 0, limit: 0, error: undefined },
    { name: 'zero limit, one byte', size: 1, limit: 0, error: 'grpc: received message larger than max (1 vs. 0)' },
  ];
  for (const c of limitCases) {
    it(`size limit: ${c.name}`, () => {
      const d = new MessageDeframer(c.limit);
      const r = new Recorder();
      const err = d.push(encodeFrame(Buffer.alloc(c.size)), r);
      if (c.error === undefined) {
        assert.equal(err, undefined);
        assert.equal(r.messages.length, 1);
      } else {
        assert.equal(err?.code, GrpcStatus.RESOURCE_EXHAUSTED);
        assert.equal(err?.message, c.error);
        assert.equal(r.messages.length, 0);
        assert.equal(d.isStopped, true);
      }
    });
  }

  it('rejects a 4 GiB length from the header alone (no allocation)', () => {
    const d = new MessageDeframer(2 * 1024 * 1024);
    const err = d.push(Buffer.from([0, 0xff, 0xff, 0xff, 0xff]), new Recorder());
    assert.equal(err?.message, 'grpc: received message larger than max (4294967295 vs. 2097152)');
    // A header split across chunks computes the same length.
    const d2 = new MessageDeframer(10);
    assert.equal(d2.push(Buffer.from([0, 0xff]), new Recorder()), undefined);
    assert.equal(d2.push(Buffer.from([0xff, 0xff, 0xff]), new Recorder())?.message, 'grpc: received message larger than max (4294967295 vs. 10)');
  });

  it('reports the compressed flag and rejects other flag values', () => {
    const d = new MessageDeframer(100);
    const r = new Recorder();
    const compressed = encodeFrame(Buffer.from('z'));
    compressed[0] = 1;
    assert.equal(d.push(compressed, r), undefined);
    assert.deepEqual(r.messages, [{ body: 'z', flag: 1 }]);
    const bad = encodeFrame(Buffer.from('z'));
    bad[0] = 7;
    const err = d.push(bad, r);
    assert.equal(err?.code, GrpcStatus.INTERNAL);
    assert.equal(err?.message, 'grpc: received unexpected payload format 7');
  });

  it('stops delivering when the sink says so, and ignores input after', () => {
    const d = new MessageDeframer(100);
    const r = new Recorder(2);
    d.push(frames('a', 'b', 'c'), r);
    d.push(frames('d'), r);
    assert.deepEqual(
      r.messages.map((m) => m.body),
      ['a', 'b'],
    );
  });
});

describe('writeFrame', () => {
  /** A writable that records calls. */
  class FakeWritable {
    readonly ops: string[] = [];
    readonly data: Buffer[] = [];
    write(chunk: Uint8Array): boolean {
      this.ops.push(`write ${chunk.length}`);
      this.data.push(Buffer.from(chunk));
      return true;
    }
    end(chunk?: Uint8Array): void {
      this.ops.push(`end ${chunk?.length ?? 0}`);
      if (chunk) this.data.push(Buffer.from(chunk));
    }
    cork(): void {
      this.ops.push('cork');
    }
    uncork(): void {
      this.ops.push('uncork');
    }
  }

  const cases = [
    { name: 'small, not ending', size: 10, end: false, ops: ['write 15'] },
    { name: 'small, ending', size: 10, end: true, ops: ['end 15'] },
    { name: 'large, not ending', size: 100_000, end: false, ops: ['cork', 'write 5', 'write 100000', 'uncork'] },
    { name: 'large, ending', size: 100_000, end: true, ops: ['cork', 'write 5', 'end 100000'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const w = new FakeWritable();
      const payload = Buffer.alloc(c.size, 3);
      writeFrame(w, payload, c.end);
      assert.deepEqual(w.ops, c.ops);
      assert.deepEqual(Buffer.concat(w.data), encodeFrame(payload));
    });
  }
});
