/**
 * sendSnapshot over the in-memory backend: padding to 512 bytes, chunking, remaining_bytes, the
 * SHA-256 trailer, waiting for drain when the writer is full, stopping on cancel, and removing
 * its scratch copy.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import type * as pb from '../../../../../protocol/etcd/generated/rpc';
import { MemBackend } from '../../../../../core/storage/mem-backend';
import type { CallContext, ServerStreamWriter } from '../../../../../core/server/grpc/grpc-method';
import { paddedSnapshotSize, sendSnapshot, SNAPSHOT_CHUNK_BYTES } from '../../../../../core/server/services/snapshot-stream';
import { createTempDir, removeTempDir } from '../../../../support/temp-dir';

/** A writer that records messages, reports "full" every `fullEvery` writes, and counts drains. */
class Recorder implements ServerStreamWriter<pb.SnapshotResponse> {
  readonly messages: pb.SnapshotResponse[] = [];
  drains = 0;
  ended = false;
  bufferedBytes = 0;
  constructor(private readonly fullEvery = Infinity, private readonly onWrite?: () => void) {}
  write(m: pb.SnapshotResponse): boolean {
    this.messages.push(m);
    this.onWrite?.();
    return this.messages.length % this.fullEvery !== 0;
  }
  async drain(): Promise<void> {
    this.drains++;
  }
  sendHeaders(): void {}
  end(): void {
    this.ended = true;
  }
}

function context(): CallContext & { cancelled: boolean } {
  return { path: '/etcdserverpb.Maintenance/Snapshot', metadata: {}, get: () => undefined, deadline: undefined, signal: new AbortController().signal, cancelled: false, peer: '' };
}

async function filledBackend(bytes: number): Promise<MemBackend> {
  const b = new MemBackend();
  await b.write((txn) => {
    for (let i = 0; bytes > 0; i++, bytes -= 1000) txn.put('kv', Buffer.from(`k${i}`), Buffer.alloc(1000, i));
  });
  return b;
}

describe('paddedSnapshotSize', () => {
  const cases: Array<[number, number]> = [[0, 0], [1, 512], [512, 512], [513, 1024], [4096, 4096]];
  for (const [size, want] of cases) it(`${size} → ${want}`, () => assert.equal(paddedSnapshotSize(size), want));
});

describe('sendSnapshot', () => {
  it('frames a padded copy with a SHA-256 trailer and cleans up', async () => {
    const dir = createTempDir('snapshot-stream-');
    try {
      const out = new Recorder(2);
      await sendSnapshot(await filledBackend(100_000), dir, out, context());
      const payload = out.messages.slice(0, -1);
      const trailer = out.messages.at(-1)!;
      const data = Buffer.concat(payload.map((m) => m.blob));
      assert.equal(data.length % 512, 0);
      assert.ok(data.length >= 100_000);
      assert.ok(payload.every((m) => m.blob.length <= SNAPSHOT_CHUNK_BYTES));
      assert.equal(payload.length, Math.ceil(data.length / SNAPSHOT_CHUNK_BYTES));
      let remaining = data.length;
      for (const m of payload) assert.equal(m.remainingBytes, BigInt((remaining -= m.blob.length)));
      assert.equal(trailer.remainingBytes, 0n);
      assert.deepEqual(trailer.blob, createHash('sha256').update(data).digest());
      assert.ok(out.drains >= 1, 'waited for drain when the writer was full');
      assert.deepEqual(readdirSync(dir), [], 'the scratch copy is removed');
    } finally {
      removeTempDir(dir);
    }
  });

  it('an empty store is just the trailer of nothing', async () => {
    const dir = createTempDir('snapshot-stream-');
    try {
      const out = new Recorder();
      await sendSnapshot(new MemBackend(), dir, out, context());
      assert.deepEqual(out.messages, [{ remainingBytes: 0n, blob: createHash('sha256').digest() }]);
    } finally {
      removeTempDir(dir);
    }
  });

  it('stops without a trailer once the call is cancelled', async () => {
    const dir = createTempDir('snapshot-stream-');
    try {
      const ctx = context();
      const out = new Recorder(Infinity, () => (ctx.cancelled = true));
      await sendSnapshot(await filledBackend(100_000), dir, out, ctx);
      assert.equal(out.messages.length, 1);
      assert.notEqual(out.messages[0]!.remainingBytes, 0n);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      removeTempDir(dir);
    }
  });
});
