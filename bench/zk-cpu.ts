/**
 * CPU per ZooKeeper write, per server and per thread: Apache ZooKeeper 3.8 standalone and
 * `coracle`, both with fsync, loaded in turn by the same `zk-load` run (16 connections, one
 * request each in flight by default). For each run it reads every thread's utime + stime from
 * /proc before and after and prints ops/s and CPU µs per op: the whole process, and for Coracle
 * its main thread and its other threads (V8's GC and compiler helpers, the libuv pool that runs
 * the WAL's fdatasync, lmdb-js's writer). Rounds alternate the servers; the first round also
 * warms ZooKeeper's JIT, so read the later ones.
 *
 *   node dist/bench/zk-cpu.js [--workloads create,setData] [--rounds 2] [--seconds 5] [--conns 16] [--depth 1]
 */
import * as path from 'node:path';
import { startZookeeper } from '../test/support/zookeeper-peer';
import { runCommand } from '../test/support/run-command';
import { startBenchCoracle } from './coracle-server';
import { benchFlags } from './lib/bench-flags';
import { threadCpuSeconds } from './lib/proc-cpu';

const DIST = path.resolve(__dirname, '..');
const USAGE = 'usage: node dist/bench/zk-cpu.js [--workloads create,setData] [--rounds 2] [--seconds 5] [--conns 16] [--depth 1]';
const flags = benchFlags(USAGE, ['workloads', 'rounds', 'seconds', 'conns', 'depth']);

interface Run {
  opsPerSec: number;
  /** CPU µs per op: all threads, the main thread (tid = pid), the others. */
  total: number;
  main: number;
  others: number;
}

async function measure(port: number, pid: number, workload: string, seconds: number, conns: number, depth: number): Promise<Run> {
  const before = threadCpuSeconds(pid);
  const r = await runCommand(process.execPath, [path.join(DIST, 'bench/zk-load.js'), '127.0.0.1', String(port), workload, String(conns), String(depth), String(seconds), '100', '0'], { timeoutMs: (seconds + 60) * 1000 });
  const after = threadCpuSeconds(pid);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ops: number; opsPerSec: number };
  let total = 0;
  let main = 0;
  for (const [tid, t] of after) {
    const d = t - (before.get(tid) ?? 0);
    total += d;
    if (tid === pid) main = d;
  }
  // Seconds → µs per op.
  const perOp = 1e6 / Math.max(1, j.ops);
  return { opsPerSec: j.opsPerSec, total: total * perOp, main: main * perOp, others: (total - main) * perOp };
}

async function main(): Promise<void> {
  const workloads = flags.text('workloads', 'create,setData').split(',');
  const rounds = flags.num('rounds', 2);
  const seconds = flags.num('seconds', 5);
  const conns = flags.num('conns', 16);
  const depth = flags.num('depth', 1);
  const zk = await startZookeeper({ logLevel: 'warn', config: { maxClientCnxns: 0 } });
  const c = await startBenchCoracle(DIST, ['--zk-max-client-cnxns', '0']);
  try {
    if (!c) throw new Error('coracle did not answer ruok on its ZooKeeper port; run `npm run build` first');
    process.stdout.write(`conns=${conns} depth=${depth} seconds=${seconds}\n\n| round | workload | server | ops/s | CPU µs/op, all threads | main thread | other threads |\n|---|---|---|---|---|---|---|\n`);
    for (let round = 1; round <= rounds; round++) {
      for (const wl of workloads) {
        const z = await measure(zk.port, zk.process.pid!, wl, seconds, conns, depth);
        process.stdout.write(`| ${round} | ${wl} | ZooKeeper 3.8 | ${Math.round(z.opsPerSec)} | ${Math.round(z.total)} | | |\n`);
        const k = await measure(c.port, c.pid!, wl, seconds, conns, depth);
        process.stdout.write(`| ${round} | ${wl} | Coracle | ${Math.round(k.opsPerSec)} | ${Math.round(k.total)} | ${Math.round(k.main)} | ${Math.round(k.others)} |\n`);
      }
    }
  } finally {
    await zk.stop();
    await c?.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`zk-cpu: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
