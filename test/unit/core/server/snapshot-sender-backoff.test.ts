/**
 * The leader's snapshot sender backs off per follower after a failed transfer: Raft asks again
 * as soon as it hears of a failure, and every attempt copies the whole database, so a follower
 * that keeps refusing (here: a peer answering 409, as one busy with another transfer does) must
 * cost a copy per backoff step, not one per heartbeat. A success resets the backoff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as path from 'node:path';
import { AddressInfo } from 'node:net';
import { LmdbBackend } from '../../../../core/storage/lmdb-backend';
import { DB, META, encodeIndex, encodeU64 } from '../../../../core/storage/schema';
import { encodeConfState } from '../../../../core/raft/codec';
import { emptyConfState, Message, MessageType } from '../../../../core/raft/types';
import { nullLogger } from '../../../../core/util/logger';
import { SnapshotSender } from '../../../../core/server/snapshot-sender';
import { createTempDir, removeTempDir } from '../../../support/temp-dir';

const LEADER = 0xaan;
const FOLLOWER = 0xbbn;

/** A peer whose snapshot route answers `status()` after reading the body. */
async function peer(status: () => number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http2.createServer();
  server.on('stream', (s) => {
    const stream = s as http2.ServerHttp2Stream;
    stream.on('data', () => {});
    stream.on('end', () => {
      stream.respond({ ':status': status() });
      stream.end('busy');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

const msgSnap = (): Message => ({ type: MessageType.MsgSnap, to: FOLLOWER, from: LEADER, term: 4 } as Message);

test('a follower that keeps refusing costs one database copy per backoff step, not per request', { timeout: 30_000 }, async () => {
  const root = createTempDir('snapshot-backoff-');
  const db = LmdbBackend.open({ path: path.join(root, 'db'), noSync: true });
  await db.write((txn) => {
    txn.put(DB.meta, META.consistentIndex, encodeIndex(50));
    txn.put(DB.meta, META.consistentTerm, encodeIndex(3));
    txn.put(DB.meta, META.raftConfState, Buffer.from(encodeConfState({ ...emptyConfState(), voters: [LEADER, FOLLOWER] })));
    txn.put(DB.meta, META.clusterId, encodeU64(0xc1n));
  });
  let answer = 409;
  const p = await peer(() => answer);
  let copies = 0;
  const backend = Object.create(db) as LmdbBackend;
  backend.copyTo = (file: string) => {
    copies++;
    return db.copyTo(file);
  };
  const reports: Array<{ status: string; at: number }> = [];
  const started = Date.now();
  const sender = new SnapshotSender({
    dir: path.join(root, 'snap'), localId: LEADER, clusterId: 0xc1n, backend, urlsOf: () => [p.url], logger: nullLogger,
    retryMinMs: 300, retryMaxMs: 600,
    // Raft asks again at once on a failure; on a finish it stops asking.
    report: (_id, status) => {
      reports.push({ status, at: Date.now() - started });
      if (status === 'failure') sender.send(msgSnap());
    },
  });
  try {
    sender.send(msgSnap());
    // Raft would also repeat the MsgSnap on every heartbeat meanwhile: those must not copy.
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      sender.send(msgSnap());
    }
    const failures = reports.filter((r) => r.status === 'failure');
    assert.ok(copies >= 3 && copies <= 6, `${copies} database copies in 2 s of refusals (expected one per backoff step: 300, 600, 600 ms…)`);
    assert.ok(failures.length >= 2, `retries stopped: ${JSON.stringify(reports)}`);
    assert.ok(failures[0]!.at >= 300, `the first failure was reported after ${failures[0]!.at} ms, before the backoff`);
    answer = 200;
    for (let i = 0; i < 40 && !reports.some((r) => r.status === 'finish'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(reports.some((r) => r.status === 'finish'), 'the transfer never succeeded once the follower accepted');
  } finally {
    sender.close();
    await p.close();
    await db.close();
    removeTempDir(root);
  }
});
