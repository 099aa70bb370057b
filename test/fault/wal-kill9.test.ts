/**
 * Acknowledged means durable, for the WAL alone: a child process appends numbered entries and
 * prints each index after its append resolved; it is SIGKILLed at a random moment. The replay
 * must hold every printed index, as a gap-free prefix 1..n with the right content, and a new
 * child must continue from there (several rounds on the same directory, across segment cuts).
 * A kill -9 keeps the page cache, so this checks the ordering and acknowledgement logic; torn
 * writes of a power loss are covered by test/unit/core/storage/wal-damage.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Wal } from '../../core/storage/wal';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { payloadOf } from './wal-kill9-child';

const ROUNDS = 4;
/** Acks to see before the kill may happen, then a random extra delay up to this. */
const MIN_ACKS = 200;
const MAX_EXTRA_DELAY_MS = 400;
const ROUND_TIMEOUT_MS = 15_000;

interface RoundResult {
  start: number;
  acked: number[];
}

/** Runs one child until MIN_ACKS acks plus a random delay, then SIGKILLs it. */
function runAndKill(dir: string): Promise<RoundResult> {
  const child = spawn(process.execPath, [path.join(__dirname, 'wal-kill9-child.js'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise<RoundResult>((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    let start = -1;
    const acked: number[] = [];
    let killTimer: NodeJS.Timeout | undefined;
    const timeout = setTimeout(() => child.kill('SIGKILL'), ROUND_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!; // a line cut by the kill has no newline: not an ack
      for (const line of lines) {
        const [word, n] = line.split(' ');
        if (word === 'start') start = Number(n);
        else if (word === 'ack') acked.push(Number(n));
      }
      if (acked.length >= MIN_ACKS && !killTimer) killTimer = setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * MAX_EXTRA_DELAY_MS));
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code} ${signal} before the kill: ${stderr}`));
      else if (start < 0 || acked.length < MIN_ACKS) reject(new Error(`child made too little progress (${acked.length} acks): ${stderr}`));
      else resolve({ start, acked });
    });
  });
}

test('SIGKILL during appends loses no acknowledged entry and leaves a gap-free prefix', async () => {
  const dir = createTempDir('wal-kill9-');
  try {
    let lastSeen = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { start, acked } = await runAndKill(dir);
      assert.equal(start, lastSeen, `round ${round}: the child resumed from the replayed last index`);
      const { wal, replay } = await Wal.open(dir, { segmentBytes: 256 * 1024, pipeline: false });
      await wal.close();
      const n = replay.lastIndex;
      assert.equal(replay.entries.length, n, `round ${round}: entries 1..${n} all present`);
      replay.entries.forEach((e, i) => assert.equal(e.index, i + 1, `round ${round}: no gap at ${i + 1}`));
      const maxAcked = Math.max(...acked);
      assert.ok(n >= maxAcked, `round ${round}: acked up to ${maxAcked} but replay ends at ${n}`);
      for (const i of [1, ...acked.slice(-50)]) assert.deepEqual(Buffer.from(replay.entries[i - 1]!.data), Buffer.from(payloadOf(i)), `content of ${i}`);
      assert.ok((replay.hardState?.commit ?? 0) >= maxAcked, `round ${round}: hard state covers the acked entries`);
      lastSeen = n;
    }
    assert.ok(lastSeen > 4 * MIN_ACKS);
    const segments = fs.readdirSync(dir).filter((f) => f.endsWith('.wal')).length;
    assert.ok(segments >= 2, `the rounds crossed segment cuts (${segments} segments, ${lastSeen} entries)`);
  } finally {
    removeTempDir(dir);
  }
});
