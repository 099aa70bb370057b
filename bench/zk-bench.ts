/**
 * ZooKeeper-port benchmark (DESIGN §9): the same load generator (bench/zk-load.ts, its own
 * process) with the same connections and depth against Apache ZooKeeper 3.8 standalone
 * (forceSync=yes) and against Coracle's ZooKeeper front end, each server in its own process
 * on 127.0.0.1. Workloads: create, setData (100-byte values), getData, getChildren (100
 * children). Prints a markdown table with throughput, p50/p99, the server's CPU per op (all its
 * threads, warm-up included), how busy the whole machine was, and the ratio to ZooKeeper. The
 * generator shares the machine: when the host is near 100% busy, throughput is capped by CPU
 * and the server CPU per op decides the ranking.
 *
 * `--rounds N` measures every workload N times, the servers' order reversed in every other
 * round (lib/rounds.ts); each cell is then the median over the rounds, and the ratio is the
 * median of the rounds' own ratios (each against ZooKeeper's run of the same round), with every
 * round's ratio listed.
 *
 * Coracle targets:
 *   coracle the `coracle` binary (in-process core, LMDB, fsync on); skipped with a message
 *           while its ZooKeeper port does not answer
 *   local   bench/zk-local-server.ts: the in-process core (LMDB, fsync on) + zkproxy through
 *           LocalBackend in one process — what `coracle` serves once bin/ wires it
 *   etcd    zkproxy over a real etcd 3.4 (fsync on) through the remote backend
 *   memory  zkproxy over the in-memory backend (no durability: the proxy's own cost)
 *
 *   node dist/bench/zk-bench.js [--seconds 5] [--warmup 1] [--rounds 1] [--conns 16] [--depth 1] [--procs 1]
 *                               [--targets coracle,local,etcd,memory] [--workloads create,setData,getData,getChildren]
 *
 * `--workloads` also takes `createSequential` (sequential creates of every connection under one
 * parent), not run by default.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEtcd, EtcdPeer } from '../test/support/etcd-peer';
import { freePort } from '../test/support/ports';
import { ManagedProcess, startProcess } from '../test/support/process';
import { ZookeeperPeer, startZookeeper } from '../test/support/zookeeper-peer';
import { startBenchCoracle } from './coracle-server';
import { benchFlags } from './lib/bench-flags';
import { median, roundOrder } from './lib/rounds';
import { runZkLoad, type ZkLoadResult } from './lib/zk-load-runner';

const USAGE = `usage: node dist/bench/zk-bench.js [--seconds 5] [--warmup 1] [--rounds 1] [--conns 16] [--depth 1] [--procs 1]
         [--targets coracle,local,etcd,memory] [--workloads create,setData,getData,getChildren,createSequential]`;
const flags = benchFlags(USAGE, ['seconds', 'warmup', 'rounds', 'conns', 'depth', 'procs', 'targets', 'workloads']);
/**
 * Seconds of load before each measured run, not counted. ZooKeeper's JIT needs more than the
 * default second to reach its steady write rate (bench/zk-cpu.ts shows it); 5 or more for that.
 */
const WARMUP_S = flags.num('warmup', 1);

const DIST = path.resolve(__dirname, '..');

async function startProxy(name: string, endpoints?: string): Promise<{ port: number; proc: ManagedProcess }> {
  const port = await freePort();
  const args = [path.join(DIST, 'test/interop/zk-harness.js'), String(port), ...(endpoints ? [endpoints] : [])];
  const proc = startProcess(process.execPath, args, { name });
  await proc.waitForLine(/zkproxy on/, 30_000);
  return { port, proc };
}

/** A server under test; the first one pushed is ZooKeeper, the base of every ratio. */
interface BenchServer {
  name: string;
  port: number;
  pid?: number;
  stop: () => Promise<unknown>;
}

/**
 * One table row: the medians of `runs` (one per round) and the median of their ratios to
 * `base` (ZooKeeper's runs, round by round); with more than one round, each round's ratio too.
 */
function resultRow(workload: string, name: string, runs: readonly ZkLoadResult[], base: readonly ZkLoadResult[]): string {
  const ratios = runs.map((r, i) => (base[i]!.opsPerSec > 0 ? r.opsPerSec / base[i]!.opsPerSec : NaN));
  const med = (f: (r: ZkLoadResult) => number): number => median(runs.map(f));
  const us = runs.every((r) => r.serverUsPerOp !== undefined) ? med((r) => r.serverUsPerOp!).toFixed(0) : '-';
  const cells = [
    workload, name, med((r) => r.opsPerSec).toFixed(0), med((r) => r.p50).toFixed(2), med((r) => r.p99).toFixed(2),
    String(runs.reduce((n, r) => n + r.errors, 0)), `${(med((r) => r.loadgenCpu) * 100).toFixed(0)}%`, us,
    `${(med((r) => r.hostBusy) * 100).toFixed(0)}%`, `${median(ratios).toFixed(2)}×`,
  ];
  if (runs.length > 1) cells.push(ratios.map((x) => x.toFixed(2)).join(' / '));
  return `| ${cells.join(' | ')} |`;
}

async function main(): Promise<void> {
  const seconds = flags.num('seconds', 5);
  const conns = flags.num('conns', 16);
  const depth = flags.num('depth', 1);
  const procs = Math.max(1, flags.num('procs', 1));
  const targets = flags.text('targets', 'coracle,local,etcd,memory').split(',');
  const workloads = flags.text('workloads', 'create,setData,getData,getChildren').split(',');
  const rounds = flags.num('rounds', 1);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new Error('--rounds must be an integer in [1, 20]');
  const servers: BenchServer[] = [];
  let zk: ZookeeperPeer | undefined;
  let etcd: EtcdPeer | undefined;
  try {
    // Every server without the per-address connection limit (maxClientCnxns, 60 by default on
    // both): all load comes from 127.0.0.1, and --conns × --procs may exceed it.
    zk = await startZookeeper({ logLevel: 'warn', config: { maxClientCnxns: 0 } });
    servers.push({ name: 'ZooKeeper 3.8', port: zk.port, pid: zk.process.pid, stop: () => zk!.stop() });
    if (targets.includes('coracle')) {
      const c = await startBenchCoracle(DIST, ['--zk-max-client-cnxns', '0']);
      if (c) servers.push({ name: 'Coracle (coracle, LMDB)', port: c.port, pid: c.pid, stop: c.stop });
      else process.stderr.write('coracle target skipped: its ZooKeeper port did not answer ruok\n');
    }
    if (targets.includes('local')) {
      const port = await freePort();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-local-bench-'));
      const proc = startProcess(process.execPath, [path.join(DIST, 'bench/zk-local-server.js'), String(port), path.join(dir, 'data')], { name: 'zk-local' });
      await proc.waitForLine(/zkproxy on/, 60_000);
      servers.push({ name: 'Coracle in-process core (LMDB, fsync)', port, pid: proc.pid, stop: async () => { await proc.stop(); fs.rmSync(dir, { recursive: true, force: true }); } });
    }
    if (targets.includes('etcd')) {
      etcd = await startEtcd();
      const p = await startProxy('zkproxy-etcd', etcd.endpoints.join(','));
      servers.push({ name: 'Coracle zkproxy over etcd 3.4', port: p.port, pid: p.proc.pid, stop: () => p.proc.stop() });
    }
    if (targets.includes('memory')) {
      const p = await startProxy('zkproxy-memory');
      servers.push({ name: 'Coracle zkproxy over memory', port: p.port, pid: p.proc.pid, stop: () => p.proc.stop() });
    }
    const rows: string[] = [];
    for (const w of workloads) {
      const runs = new Map<BenchServer, ZkLoadResult[]>(servers.map((s) => [s, []]));
      for (let round = 0; round < rounds; round++) {
        for (const s of roundOrder(servers, round)) {
          const r = await runZkLoad({ port: s.port, workload: w, conns, depth, seconds, warmupS: WARMUP_S, procs, pid: s.pid });
          runs.get(s)!.push(r);
          process.stderr.write(`${w} ${s.name}${rounds > 1 ? ` (round ${round + 1}/${rounds})` : ''}: ${r.opsPerSec.toFixed(0)} ops/s\n`);
        }
      }
      for (const s of servers) rows.push(resultRow(w, s.name, runs.get(s)!, runs.get(servers[0]!)!));
    }
    process.stdout.write(`conns=${conns} depth=${depth} seconds=${seconds} warmup=${WARMUP_S} rounds=${rounds} generator processes=${procs}\n\n`);
    process.stdout.write(`| workload | server | ops/s | p50 ms | p99 ms | errors | loadgen CPU | server CPU µs/op | host CPU busy | vs ZooKeeper |${rounds > 1 ? ' ratio per round |' : ''}\n`);
    process.stdout.write(`|---|---|---|---|---|---|---|---|---|---|${rounds > 1 ? '---|' : ''}\n`);
    process.stdout.write(rows.join('\n') + '\n');
  } finally {
    for (const s of servers.reverse()) await s.stop().catch(() => undefined);
    await etcd?.stop().catch(() => undefined);
  }
}

void main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
