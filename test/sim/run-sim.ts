/**
 * Command line for the simulator (`npm run sim -- [flags]`):
 *
 *   --seed=N            run one seed (replays a failure exactly)
 *   --seeds=A..B        run a range of seeds
 *   --nodes=N           cluster size (default 5)
 *   --fault-ms=N        simulated milliseconds with faults (default 20000)
 *   --heal-ms=N         simulated milliseconds without faults afterwards (default 5000)
 *   --canary=NAME       break a rule on purpose: no-fsync | stale-vote | read-no-quorum
 *   --trace             print crashes, partitions and heals
 *
 * Exits 1 if any run found a violation.
 */
import { RaftSim, type SimOptions, type SimResult } from './raft/raft-sim';
import type { Canary } from './raft/sim-node';

function flag(name: string): string | undefined {
  const arg = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (arg === undefined) return undefined;
  const eq = arg.indexOf('=');
  return eq < 0 ? '' : arg.slice(eq + 1);
}

function seeds(): number[] {
  const one = flag('seed');
  if (one !== undefined) return [Number(one)];
  const range = flag('seeds') ?? '1..20';
  const [a, b] = range.split('..').map(Number);
  return Array.from({ length: b! - a! + 1 }, (_, i) => a! + i);
}

function describe(r: SimResult): string {
  const facts = `elections=${r.elections} committed=${r.committed} reads=${r.reads} crashes=${r.crashes} partitions=${r.partitions} messages=${r.messages}`;
  return r.violation ? `seed ${r.seed}: VIOLATION ${r.violation} [${facts}]` : `seed ${r.seed}: ok [${facts}]`;
}

function main(): void {
  const canary = (flag('canary') ?? 'none') as Canary;
  let failed = 0;
  for (const seed of seeds()) {
    const opts: SimOptions = {
      seed,
      nodes: Number(flag('nodes') ?? 5),
      faultMs: Number(flag('fault-ms') ?? 20_000),
      healMs: Number(flag('heal-ms') ?? 5_000),
      canary,
      trace: flag('trace') !== undefined ? (l) => process.stdout.write(`  ${l}\n`) : undefined,
    };
    const started = performance.now();
    const r = new RaftSim(opts).run();
    process.stdout.write(`${describe(r)} ${Math.round(performance.now() - started)}ms\n`);
    if (r.violation) {
      failed++;
      process.stdout.write(`  replay: npm run sim -- --seed=${seed}${canary === 'none' ? '' : ` --canary=${canary}`}\n`);
    }
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

main();
