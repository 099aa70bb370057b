/**
 * Command line for the simulator (`npm run sim -- [flags]`). Each run checks Raft safety
 * continuously, the simulated clients' history for linearizability at the end, and the
 * simulated watchers' streams for order, gaps and duplicates.
 *
 *   --seed=N            run one seed (replays a failure exactly)
 *   --seeds=A..B        run a range of seeds (default 1..20). The test command runs a fixed
 *                       handful; `npm run sim -- --seeds=1..200` is the longer randomized run
 *                       (about 2-4 minutes on 2 cores)
 *   --nodes=N           cluster size (default 5)
 *   --fault-ms=N        simulated milliseconds with faults (default 20000)
 *   --heal-ms=N         simulated milliseconds without faults afterwards (default 5000)
 *   --check-quorum=on|off  Raft CheckQuorum (default: on unless seed % 3 === 0)
 *   --no-read-floor     turn off the safety checker's ReadIndex bound (leaves stale reads to
 *                       the client-history check)
 *   --canary=NAME       break a rule on purpose: no-fsync | stale-vote | read-no-quorum |
 *                       stale-read | watch-dup | watch-skip (see Canary in raft/sim-node.ts)
 *   --trace             print crashes, partitions and heals
 *
 * Exits 1 if any run found a violation or could not decide linearizability in its budget.
 */
import { RaftSim, type SimOptions, type SimResult } from './raft/raft-sim';
import { CANARIES, type Canary } from './raft/sim-node';

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
  const facts = `elections=${r.elections} committed=${r.committed} reads=${r.reads} crashes=${r.crashes} partitions=${r.partitions} messages=${r.messages} ops=${r.ops} indeterminate=${r.indeterminate} watchers=${r.watchers} watch-events=${r.watchEvents} linearizability=${r.linearizability}`;
  return r.violation ? `seed ${r.seed}: VIOLATION ${r.violation} [${facts}]` : `seed ${r.seed}: ok [${facts}]`;
}

function main(): void {
  const canary = (flag('canary') ?? 'none') as Canary;
  if (canary !== 'none' && !CANARIES.includes(canary)) throw new Error(`unknown canary ${canary}; known: ${CANARIES.join(', ')}`);
  let failed = 0;
  for (const seed of seeds()) {
    const opts: SimOptions = {
      seed,
      nodes: Number(flag('nodes') ?? 5),
      faultMs: Number(flag('fault-ms') ?? 20_000),
      healMs: Number(flag('heal-ms') ?? 5_000),
      canary,
      checkQuorum: flag('check-quorum') === undefined ? undefined : flag('check-quorum') === 'on',
      checkReadFloor: flag('no-read-floor') === undefined,
      trace: flag('trace') !== undefined ? (l) => process.stdout.write(`  ${l}\n`) : undefined,
    };
    const started = performance.now();
    const r = new RaftSim(opts).run();
    process.stdout.write(`${describe(r)} ${Math.round(performance.now() - started)}ms\n`);
    if (r.violation || r.linearizability === 'unknown') {
      failed++;
      const others = process.argv.slice(2).filter((a) => !a.startsWith('--seed'));
      process.stdout.write(`  replay: npm run sim -- --seed=${seed}${others.map((a) => ` ${a}`).join('')}\n`);
    }
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

main();
