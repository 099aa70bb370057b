/**
 * Runs bench/zk-load.ts (the ZooKeeper-port load generator) as child processes and merges their
 * results: the one way zk-bench and zk-cluster-bench drive a server, so both report the same
 * figures the same way.
 */
import * as path from 'node:path';
import { runCommand } from '../../test/support/run-command';
import { hostBusyShare, hostCpu, processCpuSeconds } from './proc-cpu';

/** One measured load, merged over its generator processes. */
export interface ZkLoadResult {
  workload: string;
  opsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  loadgenCpu: number;
  /** Share of the machine's cores busy during the run (all processes): 1 = saturated. */
  hostBusy: number;
  /** The server process's CPU (all threads) per op, in µs; undefined when its pid is unknown. */
  serverUsPerOp?: number;
}

/** What to run: `conns` connections with `depth` requests in flight each, split over `procs` generators. */
export interface ZkLoadSpec {
  port: number;
  workload: string;
  conns: number;
  depth: number;
  seconds: number;
  /** Seconds of load before the measured part, not counted (ZooKeeper's JIT needs it). */
  warmupS: number;
  procs?: number;
  /** The server's pid, for its CPU per op. */
  pid?: number;
}

type LoadPart = ZkLoadResult & { histogram: [number, number][]; seconds: number; sent: number };

const DIST = path.resolve(__dirname, '..', '..');

async function loadOne(s: ZkLoadSpec, conns: number): Promise<LoadPart> {
  const args = [path.join(DIST, 'bench/zk-load.js'), '127.0.0.1', String(s.port), s.workload, String(conns), String(s.depth), String(s.seconds), '100', String(s.warmupS)];
  const r = await runCommand(process.execPath, args, { timeoutMs: (s.seconds + s.warmupS + 120) * 1000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as LoadPart;
  } catch {
    const why = r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`;
    throw new Error(`load generator (${s.workload} on port ${s.port}) ${why}; no result line. stdout starts: ${r.stdout.slice(0, 300)}\nstderr: ${r.stderr.slice(0, 2000)}`);
  }
}

/**
 * Runs the generator processes at once (the connections split between them, so a single
 * generator's CPU cannot cap a fast server) and merges their samples exactly.
 */
export async function runZkLoad(s: ZkLoadSpec): Promise<ZkLoadResult> {
  const procs = Math.max(1, s.procs ?? 1);
  const host0 = hostCpu();
  const cpu0 = s.pid === undefined ? undefined : processCpuSeconds(s.pid);
  const parts = await Promise.all(Array.from({ length: procs }, (_, i) => loadOne(s, Math.floor(s.conns / procs) + (i < s.conns % procs ? 1 : 0))));
  const cpu1 = s.pid === undefined ? undefined : processCpuSeconds(s.pid);
  const hostBusy = hostBusyShare(host0, hostCpu());
  // The counters cover the warm-up too, so the CPU is divided by every request sent.
  const sent = parts.reduce((n, p) => n + p.sent, 0);
  const serverUsPerOp = cpu0 !== undefined && cpu1 !== undefined && sent > 0 ? ((cpu1 - cpu0) * 1e6) / sent : undefined;
  const samples = parts.flatMap((p) => p.histogram.flatMap(([v, n]) => new Array<number>(n).fill(v))).sort((a, b) => a - b);
  const q = (p: number): number => (samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? 0) / 100;
  return {
    workload: s.workload,
    opsPerSec: parts.reduce((n, p) => n + p.opsPerSec, 0),
    p50: q(0.5), p99: q(0.99),
    errors: parts.reduce((n, p) => n + p.errors, 0),
    loadgenCpu: parts.reduce((n, p) => n + p.loadgenCpu, 0),
    hostBusy,
    serverUsPerOp,
  };
}
