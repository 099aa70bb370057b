/**
 * Micro-benchmark: the durable write of one Raft Ready, WAL versus LMDB.
 *
 *   node dist/bench/wal-bench.js [--seconds 3] [--concurrency 1,16,128] [--size 300]
 *
 * Each of C appenders loops: build a Ready of one entry of `size` bytes plus the hard state,
 * make it durable, record the latency, repeat. (a) `Wal.append` (group-committed O_DSYNC write to a
 * preallocated segment, zero-filled; and sparse, to compare the preallocation modes) versus
 * (b) `LmdbBackend.write` putting the same encoded entry and hard state (today's path: LMDB's
 * durable commit, two syncs). Prints appends/s, p50 and p99 per cell and the WAL/LMDB ratios.
 * Files live in a fresh temp dir on the same disk as the OS temp dir, removed at the end.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeEntry, encodeHardState } from '../core/raft/codec';
import { Entry, EntryType, HardState } from '../core/raft/types';
import { LmdbBackend } from '../core/storage/lmdb-backend';
import { DB, META, encodeIndex } from '../core/storage/schema';
import { Wal } from '../core/storage/wal';
import { WalPreallocation } from '../core/storage/wal-segment';
import { LatencyHistogram } from './lib/latency-histogram';

interface Args {
  seconds: number;
  concurrency: number[];
  size: number;
}

interface Cell {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  syncs?: number;
  syncMeanMs?: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seconds: 3, concurrency: [1, 16, 128], size: 300 };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1] ?? '';
    if (argv[i] === '--seconds') args.seconds = Number(v);
    else if (argv[i] === '--concurrency') args.concurrency = v.split(',').map(Number);
    else if (argv[i] === '--size') args.size = Number(v);
    else throw new Error(`unknown flag ${argv[i]}`);
  }
  return args;
}

/** Runs `op` from `concurrency` loops for `seconds`; each op is given a fresh log index. */
async function drive(concurrency: number, seconds: number, op: (index: number) => Promise<void>): Promise<Cell> {
  const hist = new LatencyHistogram();
  let next = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const loop = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await op(++next);
      hist.record(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - started) / 1000;
  const s = hist.summary();
  return { opsPerSec: s.count / elapsed, p50Ms: s.p50Ms, p99Ms: s.p99Ms };
}

function readyOf(index: number, size: number): { entry: Entry; hs: HardState } {
  return { entry: { index, term: 1, type: EntryType.Normal, data: new Uint8Array(size).fill(0x61) }, hs: { term: 1, vote: 1n, commit: index } };
}

async function benchWal(dir: string, concurrency: number, seconds: number, size: number, mode: WalPreallocation): Promise<Cell> {
  let syncs = 0;
  let syncSeconds = 0;
  const { wal } = await Wal.open(dir, { preallocation: mode });
  // Steady state: the next segment's background fill happens once per 64 MiB of appends.
  await wal.preallocated();
  wal.observeSyncs((s) => {
    syncs++;
    syncSeconds += s;
  });
  const cell = await drive(concurrency, seconds, (index) => {
    const { entry, hs } = readyOf(index, size);
    return wal.append({ entries: [entry], hardState: hs });
  });
  await wal.close();
  return { ...cell, syncs, syncMeanMs: (syncSeconds * 1000) / Math.max(1, syncs) };
}

async function benchLmdb(dir: string, concurrency: number, seconds: number, size: number): Promise<Cell> {
  const backend = LmdbBackend.open({ path: dir });
  const cell = await drive(concurrency, seconds, (index) => {
    const { entry, hs } = readyOf(index, size);
    const e = Buffer.from(encodeEntry(entry));
    const h = Buffer.from(encodeHardState(hs));
    return backend.write((txn) => {
      txn.put(DB.raftLog, encodeIndex(index), e);
      txn.put(DB.meta, META.raftHardState, h);
    });
  });
  await backend.close();
  return cell;
}

function fmt(c: Cell): string {
  return `${c.opsPerSec.toFixed(0).padStart(8)}/s  p50 ${c.p50Ms.toFixed(3).padStart(7)} ms  p99 ${c.p99Ms.toFixed(3).padStart(7)} ms`;
}

function syncInfo(c: Cell, seconds: number): string {
  return `(${((c.opsPerSec * seconds) / Math.max(1, c.syncs ?? 1)).toFixed(1)} appends/sync, durable write mean ${(c.syncMeanMs ?? 0).toFixed(3)} ms)`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-bench-'));
  const rows: string[] = [];
  try {
    for (const c of args.concurrency) {
      const zero = await benchWal(path.join(root, `wal-zero-${c}`), c, args.seconds, args.size, 'zero');
      const sparse = await benchWal(path.join(root, `wal-sparse-${c}`), c, args.seconds, args.size, 'sparse');
      const lmdb = await benchLmdb(path.join(root, `lmdb-${c}`), c, args.seconds, args.size);
      rows.push(
        `C=${String(c).padEnd(4)} wal(zero)   ${fmt(zero)}  ${syncInfo(zero, args.seconds)}`,
        `       wal(sparse) ${fmt(sparse)}  ${syncInfo(sparse, args.seconds)}`,
        `       lmdb        ${fmt(lmdb)}`,
        `       ratio wal(zero)/lmdb: throughput ${(zero.opsPerSec / lmdb.opsPerSec).toFixed(2)}×, p50 latency ${(zero.p50Ms / lmdb.p50Ms).toFixed(2)}×, p99 latency ${(zero.p99Ms / lmdb.p99Ms).toFixed(2)}×`,
      );
      process.stderr.write(`done C=${c}\n`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  process.stdout.write(`wal-bench: 1 entry of ${args.size} B + hard state per durable write, ${args.seconds}s per cell, tmp dir on ${os.tmpdir()}\n${rows.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
