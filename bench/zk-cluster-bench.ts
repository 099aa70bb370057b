/**
 * The ZooKeeper port on three servers: a 3-member Coracle cluster (every member serving
 * ZooKeeper) against a 3-server Apache ZooKeeper 3.8 ensemble, both running at once on
 * 127.0.0.1 (fsync on, fresh data dirs), driven by the same load generator (bench/zk-load.ts)
 * with the same connections and depth. Writes go through the leader on both; a client on a
 * follower has its writes forwarded, so each row runs on the leader and on a follower.
 *
 *   node dist/bench/zk-cluster-bench.js [--seconds 4] [--warmup 3] [--conns 16] [--depths 1,4]
 *                                       [--workloads setData,create]
 *
 * Rows alternate which system goes first, so background noise and warm-up hit both. Prints a
 * Markdown table with ratio = Coracle ÷ ZooKeeper ops/s.
 */
import { answersRuok } from '../test/support/zookeeper-peer';
import { pollUntil } from '../test/support/poll';
import { stableLeader, startCoracleCluster, type BenchCluster } from './cluster-systems';
import { benchFlags } from './lib/bench-flags';
import { runZkLoad, type ZkLoadResult } from './lib/zk-load-runner';
import { startZkEnsemble, type ZkEnsemble } from './zk-ensemble';

const USAGE = 'usage: node dist/bench/zk-cluster-bench.js [--seconds 4] [--warmup 3] [--conns 16] [--depths 1,4] [--workloads setData,create]';
const flags = benchFlags(USAGE, ['seconds', 'warmup', 'conns', 'depths', 'workloads']);

/** Where a row's client connects: each system's ZooKeeper port on its leader or on a follower. */
type Role = 'leader' | 'follower';

interface Target {
  name: string;
  port(role: Role): number;
}

function ensembleTarget(zk: ZkEnsemble): Target {
  return { name: 'ZooKeeper 3.8', port: (role) => zk.clientPorts[role === 'leader' ? zk.leader : (zk.leader + 1) % 3]! };
}

/** The Coracle target, once every member's ZooKeeper port answers (a member opens it once it reaches the store). */
async function coracleTarget(c: BenchCluster): Promise<Target> {
  const leader = await stableLeader(c);
  const ports = [0, 1, 2].map((i) => {
    const p = c.zkPort?.(i);
    if (p === undefined) throw new Error(`Coracle member ${i} has no ZooKeeper port`);
    return p;
  });
  for (const p of ports) {
    await pollUntil(`Coracle's ZooKeeper port ${p}`, async () => ((await answersRuok(p)) ? true : undefined), 30_000, 200);
  }
  return { name: 'Coracle', port: (role) => ports[role === 'leader' ? leader : (leader + 1) % 3]! };
}

function cell(r: ZkLoadResult): string {
  return `${r.opsPerSec.toFixed(0)} | ${r.p50.toFixed(2)} / ${r.p99.toFixed(2)}${r.errors ? ` (${r.errors} errors)` : ''}`;
}

async function main(): Promise<void> {
  const seconds = flags.num('seconds', 4);
  const warmupS = flags.num('warmup', 3);
  const conns = flags.num('conns', 16);
  const depths = flags.text('depths', '1,4').split(',').map(Number);
  const workloads = flags.text('workloads', 'setData,create').split(',');
  let zk: ZkEnsemble | undefined;
  let coracle: BenchCluster | undefined;
  try {
    zk = await startZkEnsemble();
    coracle = await startCoracleCluster({ zk: true });
    const targets = [ensembleTarget(zk), await coracleTarget(coracle)];
    const rows: string[] = [];
    let flip = false;
    for (const workload of workloads) {
      for (const depth of depths) {
        for (const role of ['leader', 'follower'] as const) {
          const results = new Map<Target, ZkLoadResult>();
          for (const t of flip ? [...targets].reverse() : targets) {
            const r = await runZkLoad({ port: t.port(role), workload, conns, depth, seconds, warmupS });
            results.set(t, r);
            process.stderr.write(`${workload} ${conns}x${depth} on the ${role}, ${t.name}: ${r.opsPerSec.toFixed(0)} ops/s\n`);
          }
          flip = !flip;
          const [z, c] = targets.map((t) => results.get(t)!) as [ZkLoadResult, ZkLoadResult];
          rows.push(`| ${workload} | ${role} | ${conns} × ${depth} | ${cell(z)} | ${cell(c)} | ${(c.opsPerSec / z.opsPerSec).toFixed(2)}× |`);
        }
      }
    }
    process.stdout.write(`seconds=${seconds} warmup=${warmupS} (per row, on the same port)\n\n`);
    process.stdout.write('| workload | client on | conns × depth | ZooKeeper ops/s | p50 / p99 ms | Coracle ops/s | p50 / p99 ms | ratio |\n|---|---|---|---|---|---|---|---|\n');
    process.stdout.write(rows.join('\n') + '\n');
  } finally {
    await coracle?.stop().catch(() => undefined);
    await zk?.stop().catch(() => undefined);
  }
}

void main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
