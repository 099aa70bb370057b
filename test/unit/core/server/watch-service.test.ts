/**
 * The Watch service's stream logic against a real member (LMDB in a temp dir): backpressure
 * (a stream whose buffer is full stops its watchers, writes carry on, and after the drain every
 * event arrives exactly once, in order), the progress rules, the newer etcd's refusal of a
 * negative start revision, the per-stream watcher bound, and, over real gRPC, periodic progress
 * notifications (interval from the register option) and freeing every watcher when the client
 * goes away.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../../../../protocol/etcd/generated/rpc';
import { Member, MEMBER_DEFAULTS } from '../../../../core/server/member';
import { nullLogger } from '../../../../core/util/logger';
import { GrpcServer } from '../../../../core/server/grpc/grpc-server';
import { ClientListener } from '../../../../core/server/grpc/client-listener';
import type { BidiStream } from '../../../../core/server/grpc/grpc-method';
import { registerWatchService } from '../../../../core/server/services/watch-service';
import { WatchStream, WatchStreamSettings } from '../../../../core/server/services/watch-stream';
import { WatcherHandle } from '../../../../core/mvcc/watcher';
import { createTempDir, removeTempDir } from '../../../support/temp-dir';
import { freePorts } from '../../../support/ports';
import { pollUntil, sleep } from '../../../support/poll';

const B = (s: string): Buffer => Buffer.from(s);

async function withMember(body: (m: Member) => Promise<void>): Promise<void> {
  const dir = createTempDir('watch-service-');
  const member = await Member.start({ ...MEMBER_DEFAULTS, checkOwnEntries: true, name: 'w', dataDir: path.join(dir, 'data'), logger: nullLogger });
  try {
    await pollUntil('leader', async () => (member.lessor.isPrimary ? true : undefined), 5000, 20);
    await body(member);
  } finally {
    await member.stop();
    removeTempDir(dir);
  }
}

function put(m: Member, key: string, value: string | Buffer): Promise<unknown> {
  return m.propose({ type: 'put', put: { key: B(key), value: Buffer.from(value), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } });
}

/** A stand-in for the gRPC call: records writes, and can pretend its send buffer is full. */
class FakeCall {
  readonly sent: pb.WatchResponse[] = [];
  full = false;
  paused = false;
  private release: (() => void) | null = null;
  write(m: pb.WatchResponse): boolean {
    this.sent.push(m);
    return !this.full;
  }
  drain(): Promise<void> {
    return new Promise((r) => (this.release = r));
  }
  /** The buffer drained: the stream is told. */
  drainNow(): void {
    this.full = false;
    this.release?.();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  get ended(): boolean {
    return false;
  }
  take(): pb.WatchResponse[] {
    return this.sent.splice(0, this.sent.length);
  }
}

const SETTINGS: WatchStreamSettings = { fragmentBytes: 2 * 1024 * 1024, progressIntervalMs: 600_000, maxWatchers: 3 };

function open(m: Member, settings = SETTINGS): { call: FakeCall; stream: WatchStream } {
  const call = new FakeCall();
  return { call, stream: new WatchStream(m, call as unknown as BidiStream<pb.WatchRequest, pb.WatchResponse>, settings) };
}

const create = (c: Partial<pb.WatchCreateRequest>): pb.WatchRequest => ({
  requestUnion: { $case: 'createRequest', createRequest: { ...pb.WatchCreateRequest.create(), ...c } },
});
const progress: pb.WatchRequest = { requestUnion: { $case: 'progressRequest', progressRequest: {} } };

/** Captures the store handles the streams create (to observe synced/unsynced). */
function spyHandles(m: Member): WatcherHandle[] {
  const handles: WatcherHandle[] = [];
  const watch = m.watches.watch.bind(m.watches);
  m.watches.watch = (o, s) => {
    const h = watch(o, s);
    handles.push(h);
    return h;
  };
  return handles;
}

test('backpressure: a full stream stops its watcher, writes go on, nothing is lost or repeated', async () => {
  await withMember(async (m) => {
    const handles = spyHandles(m);
    const { call, stream } = open(m);
    stream.handle(create({ key: B('s/'), rangeEnd: B('s0') }));
    assert.equal(call.take()[0]?.created, true);
    call.full = true; // from now on every write reports a full buffer
    const value = Buffer.alloc(1000, 'v');
    for (let i = 0; i < 50; i++) await put(m, `s/${String(i).padStart(3, '0')}`, value);
    // The first delivery after the buffer filled blocked the watcher; later writes were not sent.
    assert.equal(handles[0]!.isSynced(), false, 'the watcher left the synced set');
    assert.equal(call.paused, true, 'reading paused while full');
    const before = call.take();
    assert.ok(before.length >= 1 && before.length < 50, `deliveries stopped early (${before.length})`);
    // More writes while blocked: never delivered live, never blocking the writer.
    for (let i = 50; i < 120; i++) await put(m, `s/${String(i).padStart(3, '0')}`, value);
    assert.equal(call.sent.length, 0);
    call.drainNow();
    await pollUntil('caught up', async () => (handles[0]!.isSynced() ? true : undefined), 5000, 10);
    const keys = [...before, ...call.take()].flatMap((r) => r.events.map((e) => e.kv!.key.toString()));
    const want = Array.from({ length: 120 }, (_, i) => `s/${String(i).padStart(3, '0')}`);
    assert.deepEqual(keys, want, 'every event exactly once, in revision order');
    assert.equal(call.paused, false);
    await put(m, 's/live', 'x');
    await pollUntil('live again', async () => (call.sent.length > 0 ? true : undefined), 2000, 10);
    assert.equal(call.take()[0]!.events[0]!.kv!.key.toString(), 's/live');
    stream.close();
  });
});

test('progress request: answered with id -1 only when every watcher is synced', async () => {
  await withMember(async (m) => {
    const value = Buffer.alloc(10, 'v');
    // 2500 revisions (more than two catch-up batches), proposed 100 at a time.
    for (let i = 0; i < 2500; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => put(m, `p/${i + j}`, value)));
    const { call, stream } = open(m);
    stream.handle(progress);
    assert.deepEqual(call.take().map((r) => [r.watchId, r.header?.revision]), [[-1n, BigInt(m.kv.readRevision)]], 'no watchers: answered (3.4)');
    stream.handle(create({ key: B('p/'), rangeEnd: B('p0'), startRevision: 1n }));
    stream.handle(progress); // the watcher is still reading history: no bookmark yet (etcd 3.5, #15220)
    const early = call.take();
    assert.deepEqual(early.map((r) => r.created), [true]);
    await pollUntil('history read', async () => (call.sent.reduce((n, r) => n + r.events.length, 0) === 2500 ? true : undefined), 10_000, 10);
    assert.ok(call.sent.length >= 3, 'history came in bounded batches');
    call.take();
    stream.handle(progress);
    const late = call.take();
    assert.deepEqual(late.map((r) => [r.watchId, r.header?.revision, r.events.length]), [[-1n, BigInt(m.kv.readRevision), 0]]);
    stream.close();
  });
});

test('create: negative start, empty range, duplicate id, too many watchers; cancel frees the id', async () => {
  await withMember(async (m) => {
    const { call, stream } = open(m);
    const reasons = () => call.take().map((r) => [r.watchId, r.created, r.canceled, r.cancelReason]);
    stream.handle(create({ key: B('a'), startRevision: -1n }));
    assert.deepEqual(reasons(), [[-1n, true, true, 'etcdserver: mvcc: required revision has been compacted']]);
    stream.handle(create({ key: B('b'), rangeEnd: B('a') }));
    assert.deepEqual(reasons(), [[-1n, true, true, 'mvcc: watcher range is empty']]);
    stream.handle(create({ key: B('a'), watchId: 1n }));
    stream.handle(create({ key: B('a') }));
    stream.handle(create({ key: B('a') }));
    assert.deepEqual(reasons(), [[1n, true, false, ''], [0n, true, false, ''], [2n, true, false, '']], 'auto ids skip a client-chosen one');
    stream.handle(create({ key: B('a'), watchId: 1n }));
    stream.handle(create({ key: B('a') }));
    assert.deepEqual(reasons(), [
      [-1n, true, true, 'mvcc: duplicate watch ID provided on the WatchStream'],
      [-1n, true, true, 'etcdserver: too many requests'],
    ]);
    stream.handle({ requestUnion: { $case: 'cancelRequest', cancelRequest: { watchId: 1n } } });
    assert.deepEqual(reasons(), [[1n, false, true, '']]);
    assert.equal(m.watches.size, 2);
    stream.close();
    assert.equal(m.watches.size, 0, 'closing the stream frees its watchers');
  });
});

test('fragment: a large catch-up response is split only for watchers that asked', async () => {
  await withMember(async (m) => {
    const big = Buffer.alloc(300, 'x');
    const first = m.kv.readRevision + 1;
    for (let i = 0; i < 10; i++) await put(m, `f/${i}`, big);
    const { call, stream } = open(m, { ...SETTINGS, fragmentBytes: 1000 });
    stream.handle(create({ key: B('f/'), rangeEnd: B('f0'), startRevision: BigInt(first), fragment: true }));
    stream.handle(create({ key: B('f/'), rangeEnd: B('f0'), startRevision: BigInt(first) }));
    await pollUntil('history', async () => (call.sent.filter((r) => r.events.length > 0 && r.watchId === 1n).length === 1 ? true : undefined), 5000, 10);
    const pieces = call.sent.filter((r) => r.watchId === 0n && !r.created);
    assert.ok(pieces.length > 1, 'split');
    assert.deepEqual(pieces.map((p) => p.fragment), [...pieces.slice(1).map(() => true), false]);
    for (const p of pieces) assert.ok(pb.WatchResponse.encode(p).length < 1000 || p.events.length === 1);
    assert.equal(pieces.flatMap((p) => p.events).length, 10);
    stream.close();
  });
});

test('over gRPC: periodic progress for synced progress_notify watchers; a canceled call frees its watchers', async () => {
  await withMember(async (m) => {
    const server = new GrpcServer();
    registerWatchService(server, m, { progressIntervalMs: 200 });
    const [port] = await freePorts(1);
    const listener = await ClientListener.listen({ host: '127.0.0.1', port: port!, grpc: server });
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const call = client.makeBidiStreamRequest('/etcdserverpb.Watch/Watch', (r: pb.WatchRequest) => pb.WatchRequest.encode(r), (b: Buffer) => pb.WatchResponse.decode(b));
      const got: pb.WatchResponse[] = [];
      call.on('data', (r: pb.WatchResponse) => got.push(r));
      call.on('error', () => {});
      call.write(create({ key: B('n'), progressNotify: true }));
      call.write(create({ key: B('q') }));
      await pollUntil('created', async () => (got.length >= 2 ? true : undefined), 5000, 10);
      await sleep(700);
      const progress = got.filter((r) => !r.created && r.events.length === 0);
      assert.ok(progress.length >= 2 && progress.length <= 4, `about one per 200-220 ms (${progress.length})`);
      assert.ok(progress.every((r) => r.watchId === 0n && r.header?.revision === BigInt(m.kv.readRevision)), 'only the watcher that asked, at the current revision');
      assert.equal(m.watches.size, 2);
      call.cancel();
      await pollUntil('freed', async () => (m.watches.size === 0 ? true : undefined), 5000, 10);
    } finally {
      client.close();
      server.stop();
      await listener.close();
    }
  });
});

test('over gRPC: a client that stops reading blocks no writer and still gets every event once', async () => {
  await withMember(async (m) => {
    const handles = spyHandles(m);
    const server = new GrpcServer();
    registerWatchService(server, m);
    const [port] = await freePorts(1);
    const listener = await ClientListener.listen({ host: '127.0.0.1', port: port!, grpc: server });
    // Catch-up responses can be big (etcd's clients accept up to 2 GiB; grpc-js defaults to 4 MiB).
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
    try {
      const call = client.makeBidiStreamRequest('/etcdserverpb.Watch/Watch', (r: pb.WatchRequest) => pb.WatchRequest.encode(r), (b: Buffer) => pb.WatchResponse.decode(b));
      const got: pb.WatchResponse[] = [];
      call.on('data', (r: pb.WatchResponse) => got.push(r));
      let failure: Error | undefined;
      call.on('error', (e: Error) => (failure = e));
      call.write(create({ key: B('slow/'), rangeEnd: B('slow0') }));
      await pollUntil('created', async () => (got.length >= 1 ? true : undefined), 5000, 10);
      call.pause();
      const value = Buffer.alloc(32 * 1024, 's');
      let sawUnsynced = false;
      const n = 300; // about 10 MB of events: far beyond the HTTP/2 windows and the stream buffer
      const started = Date.now();
      for (let i = 0; i < n; i += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, j) => put(m, `slow/${String(i + j).padStart(4, '0')}`, value)));
        if (!handles[0]!.isSynced()) sawUnsynced = true;
      }
      assert.ok(Date.now() - started < 30_000, 'writes were not held up by the reader');
      assert.ok(sawUnsynced, 'the watcher was moved to catch-up while its client did not read');
      call.resume();
      await pollUntil('all events', async () => {
        if (failure) throw failure;
        return got.reduce((k, r) => k + r.events.length, 0) >= n ? true : undefined;
      }, 30_000, 20);
      await sleep(100);
      const keys = got.flatMap((r) => r.events.map((e) => e.kv!.key.toString()));
      assert.deepEqual(keys, Array.from({ length: n }, (_, i) => `slow/${String(i).padStart(4, '0')}`));
      call.cancel();
    } finally {
      client.close();
      server.stop();
      await listener.close();
    }
  });
});
