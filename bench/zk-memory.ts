/**
 * Memory per znode: Apache ZooKeeper 3.8 standalone against `coracle`, each loaded with the
 * same tree through the same wire client (our jute codec, pipelined creates), one after the
 * other. The server's RSS (/proc/PID/status) is read at idle, at half the znodes and at all of
 * them. Two per-znode figures: (all − idle) / znodes, and the slope between half and all, which
 * leaves out what a server allocates once (JIT code, pools, a JVM's initial heap) but moves with
 * when each garbage collector last grew its heap. ZooKeeper runs with `-Xmx1000m`, the heap
 * zkServer.sh gives it by default.
 *
 *   node dist/bench/zk-memory.js [--znodes 100000] [--parents 100] [--value 100] [--conns 8] [--depth 16]
 *                                [--coracle-flags '--auto-compaction-retention=5s ...'] [--skip-zookeeper]
 *
 * Then RSS is sampled until it settles (1 to 2.5 min): garbage collectors give memory back some
 * time after the load stops, so "at all" is the peak a loaded server holds and "settled" what
 * an idle one keeps.
 *
 * Every create also adds a revision to its parent's child-change key and to the last-change key
 * (key-schema.ts): MVCC history, not znodes. `--coracle-flags '--auto-compaction-retention=5s'`
 * compacts it away during the run, so the slope is the znodes' own cost.
 */
import * as path from 'node:path';
import { sleep } from '../test/support/poll';
import { benchFlags } from './lib/bench-flags';
import { mntrNumber } from './lib/mntr';
import { residentBytes as rss } from './lib/proc-rss';
import { connectAll, createParents, createRange, TreeShape, treeShapeFrom } from './lib/zk-fill';
import { zookeeperThenCoracle } from './lib/zk-side-by-side';

const DIST = path.resolve(__dirname, '..');
/** How often, and how long at most, RSS is sampled while it settles after the load. */
const SETTLE_SAMPLE_MS = 5000;
const SETTLE_MIN_MS = 60_000;
const SETTLE_LIMIT_MS = 150_000;

const USAGE = `usage: node dist/bench/zk-memory.js [--znodes 100000] [--parents 100] [--value 100] [--conns 8] [--depth 16]
         [--coracle-flags '--auto-compaction-retention=5s ...'] [--skip-zookeeper]`;
const flags = benchFlags(USAGE, ['znodes', 'parents', 'value', 'conns', 'depth', 'coracle-flags'], ['skip-zookeeper']);

const znodeCount = (port: number): Promise<number> => mntrNumber(port, 'zk_znode_count');

interface Row {
  server: string;
  idle: number;
  half: number;
  full: number;
  /** RSS once it stopped changing after the load (a collector gives memory back when idle). */
  settled: number;
  /** Seconds after the load that `settled` was read. */
  settledAfter: number;
  znodes: number;
}

/**
 * RSS of an idle server once garbage collectors have had their say: sampled every
 * {@link SETTLE_SAMPLE_MS} for at least {@link SETTLE_MIN_MS}; settled when three samples in a
 * row are within 1% of each other, or at {@link SETTLE_LIMIT_MS}. V8's memory reducer, for one,
 * compacts and unmaps the heap only some 20–30 s after the load stops.
 */
async function settledRss(pid: number, label: string): Promise<{ rss: number; afterS: number }> {
  const start = Date.now();
  const samples = [rss(pid)];
  for (;;) {
    await sleep(SETTLE_SAMPLE_MS);
    samples.push(rss(pid));
    const last = samples.slice(-3);
    const stable = Date.now() - start >= SETTLE_MIN_MS && last.length === 3 && Math.max(...last) - Math.min(...last) <= 0.01 * Math.max(...last);
    const afterS = Math.round((Date.now() - start) / 1000);
    process.stderr.write(`${label}: idle ${afterS} s, RSS ${(samples[samples.length - 1]! / 1048576).toFixed(0)} MB\n`);
    if (stable || Date.now() - start >= SETTLE_LIMIT_MS) return { rss: Math.min(...last), afterS };
  }
}

/** Loads one server in two halves and reads its RSS at idle, half and full. */
async function measure(server: string, port: number, pid: number, total: number, shape: TreeShape): Promise<Row> {
  const settle = (): Promise<void> => sleep(3000);
  const clients = await connectAll(port, shape.conns);
  try {
    await settle();
    const idle = rss(pid);
    await createParents(clients[0]!, shape.parents);
    await createRange(clients, shape, 0, total / 2, server);
    await settle();
    const half = rss(pid);
    await createRange(clients, shape, total / 2, total, server);
    await settle();
    const full = rss(pid);
    const settled = await settledRss(pid, server);
    return { server, idle, half, full, settled: settled.rss, settledAfter: settled.afterS, znodes: await znodeCount(port) };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

async function main(): Promise<void> {
  const total = 2 * Math.floor(flags.num('znodes', 100_000) / 2);
  const shape = treeShapeFrom(flags);
  const rows = await zookeeperThenCoracle(DIST, flags, {
    zookeeper: (zk) => measure('ZooKeeper 3.8', zk.port, zk.process.pid, total, shape),
    coracle: (c, name) => measure(name, c.port, c.pid, total, shape),
  });
  const mb = (b: number): string => (b / 1048576).toFixed(0);
  process.stdout.write(`znodes=${total} parents=${shape.parents} value=${shape.value.length} B conns=${shape.conns} depth=${shape.depth}\n\n`);
  process.stdout.write('| server | znodes (mntr) | RSS idle MB | RSS at half MB | RSS at all MB | (all − idle) per znode | slope half → all | RSS settled MB (after) | (settled − idle) per znode |\n|---|---|---|---|---|---|---|---|---|\n');
  const kb = (b: number): string => `${(b / 1024).toFixed(2)} KB`;
  for (const r of rows) {
    const slope = (r.full - r.half) / (total / 2);
    process.stdout.write(`| ${r.server} | ${r.znodes} | ${mb(r.idle)} | ${mb(r.half)} | ${mb(r.full)} | ${kb((r.full - r.idle) / total)} | ${kb(slope)} | ${mb(r.settled)} (${r.settledAfter} s) | ${kb((r.settled - r.idle) / total)} |\n`);
  }
}

void main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
