/**
 * A 3-member Coracle cluster against a 3-member etcd 3.4 cluster, side by side in one run
 * (DESIGN §9): both clusters run at once on 127.0.0.1 (fsync on, fresh data dirs, etcd's default
 * heartbeat 100 ms / election 1000 ms on both), driven by the same raw-HTTP/2 load generator
 * (bench/lib) with the same request bytes and client counts.
 *
 *   node dist/bench/cluster-bench.js [--seconds 4] [--rounds 3] [--deadline-ms 250]
 *
 * Throughput rows (calls/s, p50, p99): puts of 256-byte values to distinct keys on the leader at
 * 1 client / 1 connection and 64 clients / 8 connections, the same on a follower (which forwards
 * to the leader), and linearizable Range of one key on the leader and on a follower. Rows go
 * etcd, Coracle, Coracle, etcd, … (the order flips every row) so that background noise and
 * warm-up hit both. Then failover rounds (cluster-failover.ts), alternating systems too.
 *
 * Prints two Markdown tables: throughput with ratio = Coracle ÷ etcd calls/s, failover with
 * ratio = etcd ÷ Coracle median time (above 1: Coracle fails over faster).
 */
import * as os from 'node:os';
import * as pb from '../protocol/etcd/generated/rpc';
import { benchFlags } from './lib/bench-flags';
import { runLoad, type LoadReport } from './lib/grpc-load';
import { CpuMeter } from './cluster-cpu';
import { failoverRound, type FailoverRound } from './cluster-failover';
import { ELECTION_MS, HEARTBEAT_MS, stableLeader, startCoracleCluster, startEtcdCluster, type BenchCluster } from './cluster-systems';
import { median, roundOrder } from './lib/rounds';

const USAGE = 'usage: node dist/bench/cluster-bench.js [--seconds 4] [--rounds 3] [--deadline-ms 250]';
const flags = benchFlags(USAGE, ['seconds', 'rounds', 'deadline-ms']);

const VALUE = Buffer.alloc(256, 'v');
const READ_KEY = Buffer.from('bench/read');

/** One throughput measurement, run on both systems. */
interface Measurement {
  workload: 'put' | 'range';
  on: 'leader' | 'follower';
  clients: number;
  conns: number;
}

const MEASUREMENTS: Measurement[] = [
  { workload: 'put', on: 'leader', clients: 1, conns: 1 },
  { workload: 'put', on: 'leader', clients: 64, conns: 8 },
  { workload: 'put', on: 'follower', clients: 64, conns: 8 },
  { workload: 'range', on: 'leader', clients: 64, conns: 8 },
  { workload: 'range', on: 'follower', clients: 64, conns: 8 },
];

/** One system's result for a measurement. */
interface Sample {
  report: LoadReport;
  targetCpu: number | undefined;
  clusterCpu: number;
}

/** Runs one measurement on one cluster; keys are distinct per row and system. */
async function measure(c: BenchCluster, m: Measurement, row: number, seconds: number): Promise<Sample> {
  const leader = await stableLeader(c);
  const target = m.on === 'leader' ? leader : (leader + 1) % c.size;
  const prefix = `bench/${row}/`;
  const body = m.workload === 'put'
    ? (i: number) => pb.PutRequest.encode({ key: Buffer.from(prefix + i), value: VALUE })
    : pb.RangeRequest.encode({ key: READ_KEY });
  const pids = Array.from({ length: c.size }, (_, i) => (c.alive(i) ? c.pid(i) : undefined)).filter((p): p is number => p !== undefined);
  const meter = new CpuMeter(pids);
  const report = await runLoad({
    target: c.endpoint(target), path: m.workload === 'put' ? '/etcdserverpb.KV/Put' : '/etcdserverpb.KV/Range',
    body, conns: m.conns, concurrency: m.clients, durationMs: seconds * 1000, watchPid: c.pid(target),
  });
  return { report, targetCpu: report.watchedCpuPercent, clusterCpu: meter.percentSince() };
}

/** Writes the key the read rows fetch (one unmeasured call through the leader). */
async function seed(c: BenchCluster): Promise<void> {
  const leader = await stableLeader(c);
  const r = await runLoad({ target: c.endpoint(leader), path: '/etcdserverpb.KV/Put', body: pb.PutRequest.encode({ key: READ_KEY, value: VALUE }), total: 1 });
  if (r.statuses.OK !== 1) throw new Error(`seeding ${c.name} failed: ${JSON.stringify(r.statuses)}`);
}

function errors(r: LoadReport): number {
  return Object.entries(r.statuses).filter(([k]) => k !== 'OK').reduce((s, [, v]) => s + v, 0);
}

function throughputRow(m: Measurement, name: string, s: Sample, base: Sample | undefined): string {
  const r = s.report;
  const ratio = base && base.report.callsPerSecond > 0 ? `${(r.callsPerSecond / base.report.callsPerSecond).toFixed(2)}×` : '1.00×';
  const cpu = `${s.targetCpu === undefined ? '-' : Math.round(s.targetCpu)}% / ${Math.round(s.clusterCpu)}%`;
  return `| ${m.workload} | ${m.on} | ${m.clients}/${m.conns} | ${name} | ${Math.round(r.callsPerSecond)} | ${r.latency.p50Ms.toFixed(2)} | ${r.latency.p99Ms.toFixed(2)} | ${errors(r)} | ${cpu} | ${Math.round(r.generatorCpuPercent)}% | ${ratio} |`;
}

/** Median with "no recovery" counted as infinitely slow. */
function medianOrNone(values: Array<number | undefined>): number {
  return values.length === 0 ? Infinity : median(values.map((v) => v ?? Infinity));
}

function ms(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? 'none' : String(Math.round(v));
}

function failoverRow(name: string, rounds: FailoverRound[], base: FailoverRound[] | undefined, maxWaitMs: number): string {
  const cells = rounds.map((r) => `${r.failoverMs === undefined ? `>${maxWaitMs}` : ms(r.failoverMs)} / ${ms(r.longestGapMs)}`);
  const med = medianOrNone(rounds.map((r) => r.failoverMs));
  const baseMed = base === undefined ? med : medianOrNone(base.map((r) => r.failoverMs));
  const ratio = Number.isFinite(med) && Number.isFinite(baseMed) && med > 0 ? `${(baseMed / med).toFixed(2)}×` : '-';
  return `| ${name} | ${cells.join(' | ')} | ${ms(med)} | ${ms(medianOrNone(rounds.map((r) => r.longestGapMs)))} | ${ratio} |`;
}

async function main(): Promise<void> {
  const seconds = flags.num('seconds', 4);
  const roundCount = flags.num('rounds', 3);
  const deadlineMs = flags.num('deadline-ms', 250);
  if (!(seconds > 0 && seconds <= 600) || !(Number.isInteger(roundCount) && roundCount >= 1 && roundCount <= 20) || !(deadlineMs >= 10 && deadlineMs <= 10_000)) {
    throw new Error('--seconds must be in (0, 600], --rounds an integer in [1, 20], --deadline-ms in [10, 10000]');
  }
  const failover = { deadlineMs, warmupMs: 1000, afterMs: 1000, maxWaitMs: 20_000 };
  const command = `node dist/bench/cluster-bench.js ${process.argv.slice(2).join(' ')}`.trim();
  let etcd: BenchCluster | undefined;
  let coracle: BenchCluster | undefined;
  try {
    process.stderr.write('starting a 3-member etcd 3.4 cluster and a 3-member Coracle cluster …\n');
    etcd = await startEtcdCluster();
    coracle = await startCoracleCluster();
    const systems: BenchCluster[] = [etcd, coracle];
    for (const c of systems) await seed(c);

    const rows: string[] = [];
    for (const [row, m] of MEASUREMENTS.entries()) {
      const order = roundOrder(systems, row);
      const samples = new Map<BenchCluster, Sample>();
      for (const c of order) {
        process.stderr.write(`${m.workload} on the ${m.on}, ${m.clients} clients / ${m.conns} conns, ${c.name} …\n`);
        samples.set(c, await measure(c, m, row, seconds));
      }
      const base = samples.get(etcd);
      for (const c of systems) rows.push(throughputRow(m, c.name, samples.get(c)!, c === etcd ? undefined : base));
    }

    const rounds = new Map<BenchCluster, FailoverRound[]>(systems.map((c) => [c, []]));
    for (let k = 0; k < roundCount; k++) {
      for (const c of roundOrder(systems, k)) {
        process.stderr.write(`failover round ${k + 1} on ${c.name} …\n`);
        const r = await failoverRound(c, k, failover);
        process.stderr.write(`  killed member ${r.killed}, wrote through ${r.writer}: first write after kill ${ms(r.failoverMs)} ms, longest gap ${ms(r.longestGapMs)} ms, failed calls ${JSON.stringify(r.failures)}\n`);
        rounds.get(c)!.push(r);
      }
    }

    const out: string[] = [];
    out.push(`command: ${command}`);
    out.push(`${os.cpus().length} vCPUs shared by all 6 server processes and the load generator; ${seconds} s per throughput row; values 256 bytes; heartbeat ${HEARTBEAT_MS} ms, election ${ELECTION_MS} ms on both`);
    out.push('');
    out.push('Throughput: ratio = Coracle ÷ etcd 3.4 calls/s (above 1: Coracle faster). Server CPU = the member called / all 3 members, % of one core.');
    out.push('');
    out.push('| workload | sent to | clients/conns | server | calls/s | p50 ms | p99 ms | errors | server CPU (target / cluster) | loadgen CPU | ratio |');
    out.push('|---|---|---|---|---|---|---|---|---|---|---|');
    out.push(...rows);
    out.push('');
    out.push(`Failover: kill -9 the leader under 1 writer on a follower (one call at a time, ${deadlineMs} ms deadline). Per round: ms from the kill to the first successful write started after it / longest gap between successful writes. ratio = etcd ÷ Coracle median failover time (above 1: Coracle recovers faster).`);
    out.push('');
    out.push(`| server | ${Array.from({ length: roundCount }, (_, k) => `round ${k + 1}`).join(' | ')} | median ms | median longest gap ms | ratio |`);
    out.push(`|---|${'---|'.repeat(roundCount)}---|---|---|`);
    out.push(failoverRow(etcd.name, rounds.get(etcd)!, undefined, failover.maxWaitMs));
    out.push(failoverRow(coracle.name, rounds.get(coracle)!, rounds.get(etcd), failover.maxWaitMs));
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    await coracle?.stop().catch(() => undefined);
    await etcd?.stop().catch(() => undefined);
  }
}

void main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`cluster-bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
