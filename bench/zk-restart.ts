/**
 * Restart time with a large tree: Apache ZooKeeper 3.8 standalone against `coracle`, each filled
 * with the same tree through the same wire client (lib/zk-fill.ts), then restarted `--rounds`
 * times after a crash (SIGKILL) and after a clean stop (SIGTERM).
 *
 * Measured: from the moment the new process is spawned until a new client session reads the
 * last znode created (getData answered OK): what a client waiting to reconnect sees. Then the
 * restarted server's RSS. ZooKeeper loads its snapshot and replays its log; Coracle replays
 * its WAL past LMDB, rebuilds the MVCC key index from every revision it holds, and loads the
 * znode tree into the front end's replica.
 *
 *   node dist/bench/zk-restart.js [--znodes 200000] [--parents 100] [--value 100] [--conns 8] [--depth 16]
 *                                 [--rounds 2] [--coracle-flags '...'] [--skip-zookeeper]
 *
 * Every create also adds a revision to its parent's child-change key and to the last-change key
 * (key-schema.ts), so right after the fill Coracle holds about 3 revisions per znode until
 * auto-compaction (5 min by default) drops the old ones: `--coracle-flags
 * '--auto-compaction-retention=1s'` and a wait measure the compacted case.
 */
import * as path from 'node:path';
import { ZkWireClient } from '../zkproxy/dispatch/zk-wire-client';
import { within } from '../test/support/zk-reply-diff';
import { sleep } from '../test/support/poll';
import type { ZookeeperPeer } from '../test/support/zookeeper-peer';
import type { BenchCoracle } from './coracle-server';
import { benchFlags } from './lib/bench-flags';
import { residentBytes } from './lib/proc-rss';
import { connectAll, createParents, createRange, TreeShape, treeShapeFrom, znodePath } from './lib/zk-fill';
import { zookeeperThenCoracle } from './lib/zk-side-by-side';

const DIST = path.resolve(__dirname, '..');
/** Bound on one restart, whatever the server's speed. */
const RESTART_LIMIT_MS = 180_000;
/** Pause between attempts to read from a server that is not serving yet. */
const POLL_MS = 20;
/** Bound on one read attempt: a server that accepts before it serves may say nothing. */
const ATTEMPT_MS = 2000;

const USAGE = `usage: node dist/bench/zk-restart.js [--znodes 200000] [--parents 100] [--value 100] [--conns 8] [--depth 16]
         [--rounds 2] [--coracle-flags '...'] [--skip-zookeeper]`;
const flags = benchFlags(USAGE, ['znodes', 'parents', 'value', 'conns', 'depth', 'rounds', 'coracle-flags'], ['skip-zookeeper']);

/** One attempt: a fresh session reads `probe`; false while the server is not serving. */
async function readsOnce(port: number, probe: string): Promise<boolean> {
  const opened: { client?: ZkWireClient } = {};
  const attempt = async (): Promise<boolean> => {
    const c = (opened.client = await ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: ATTEMPT_MS, ping: false }));
    const r = await c.send({ op: 'getData', path: probe, watch: false });
    await c.close();
    return r.header.err === 0;
  };
  try {
    return await within(attempt(), ATTEMPT_MS, 'read attempt');
  } catch {
    return false;
  } finally {
    // An attempt cut short leaves no socket behind (closing its session is the server's job then).
    opened.client?.drop();
  }
}

/** Milliseconds from `since` until a new session reads `probe` on `port`. */
async function untilServing(port: number, probe: string, since: number, label: string): Promise<number> {
  while (!(await readsOnce(port, probe))) {
    if (performance.now() - since > RESTART_LIMIT_MS) throw new Error(`${label}: not serving ${RESTART_LIMIT_MS / 1000} s after the restart`);
    await sleep(POLL_MS);
  }
  return performance.now() - since;
}

/** A server under test: how to restart it and where it is. */
interface Target {
  name: string;
  port: number;
  pid(): number;
  /** Ends it with `signal`, resolves at the new process's spawn (or just before it). */
  restart(signal: 'SIGKILL' | 'SIGTERM'): Promise<{ spawnedAt: number; ready?: Promise<unknown> }>;
}

function zookeeperTarget(zk: ZookeeperPeer): Target {
  return {
    name: 'ZooKeeper 3.8', port: zk.port, pid: () => zk.process.pid,
    async restart(signal) {
      if (signal === 'SIGKILL') await zk.kill();
      else await zk.process.stop(60_000);
      // restart() spawns at once (the old process is gone) and then waits for ruok.
      const spawnedAt = performance.now();
      return { spawnedAt, ready: zk.restart() };
    },
  };
}

function coracleTarget(c: BenchCoracle, name: string): Target {
  return {
    name, port: c.port, pid: () => c.pid,
    async restart(signal) {
      await c.restart(signal);
      return { spawnedAt: performance.now() };
    },
  };
}

interface Row {
  name: string;
  kill: number[];
  term: number[];
  rssMb: number;
}

/** Fills the target with the tree, then restarts it `rounds` times each way. */
async function measure(t: Target, total: number, shape: TreeShape, rounds: number): Promise<Row> {
  const clients = await connectAll(t.port, shape.conns);
  try {
    await createParents(clients[0]!, shape.parents);
    await createRange(clients, shape, 0, total, t.name);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  const probe = znodePath(total - 1, shape.parents);
  const row: Row = { name: t.name, kill: [], term: [], rssMb: 0 };
  for (let r = 0; r < rounds; r++) {
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      const { spawnedAt, ready } = await t.restart(signal);
      const ms = await untilServing(t.port, probe, spawnedAt, t.name);
      await ready;
      (signal === 'SIGKILL' ? row.kill : row.term).push(ms);
      row.rssMb = residentBytes(t.pid()) / 1048576;
      process.stderr.write(`${t.name}: serving ${ms.toFixed(0)} ms after a restart from ${signal}\n`);
    }
  }
  return row;
}

async function main(): Promise<void> {
  const total = flags.num('znodes', 200_000);
  const shape = treeShapeFrom(flags);
  const rounds = flags.num('rounds', 2);
  const rows = await zookeeperThenCoracle(DIST, flags, {
    zookeeper: (zk) => measure(zookeeperTarget(zk), total, shape, rounds),
    coracle: (c, name) => measure(coracleTarget(c, name), total, shape, rounds),
  });
  const list = (xs: number[]): string => xs.map((x) => (x / 1000).toFixed(2)).join(', ');
  const best = (xs: number[]): number => Math.min(...xs);
  const zk = rows.find((r) => r.name.startsWith('ZooKeeper'));
  process.stdout.write(`znodes=${total} parents=${shape.parents} value=${shape.value.length} B rounds=${rounds}\n\n`);
  process.stdout.write('| server | serving after SIGKILL, s | serving after SIGTERM, s | RSS after restart MB | best time vs ZooKeeper |\n|---|---|---|---|---|\n');
  for (const r of rows) {
    const ratio = zk ? `${(best([...r.kill, ...r.term]) / best([...zk.kill, ...zk.term])).toFixed(2)}×` : '—';
    process.stdout.write(`| ${r.name} | ${list(r.kill)} | ${list(r.term)} | ${r.rssMb.toFixed(0)} | ${ratio} |\n`);
  }
}

void main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
