/**
 * Runs the raft simulator over a fixed set of seeds (all must be safe and converge), proves
 * every canary is caught, and checks that a seed replays identically. Wall-clock bounded: the
 * seed loop stops at a time budget (simulated time bounds each run anyway).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftSim, type SimOptions, type SimResult } from './raft-sim';
import { CANARIES, type Canary } from './sim-node';

const SEEDS = Array.from({ length: 16 }, (_, i) => i + 1);
const BUDGET_MS = 60_000;

function options(seed: number, canary: Canary = 'none', nodes = 5): SimOptions {
  return { seed, nodes, faultMs: 20_000, healMs: 5_000, canary };
}

function replayHint(r: SimResult, canary: Canary): string {
  return `npm run sim -- --seed=${r.seed}${canary === 'none' ? '' : ` --canary=${canary}`}`;
}

test('raft simulation: fixed seeds are safe and converge', () => {
  const started = performance.now();
  let runs = 0;
  for (const seed of SEEDS) {
    if (performance.now() - started > BUDGET_MS) break;
    const nodes = seed % 4 === 0 ? 3 : 5;
    const r = new RaftSim(options(seed, 'none', nodes)).run();
    assert.equal(r.violation, undefined, `seed ${seed}: ${r.violation}\n  replay: ${replayHint(r, 'none')} --nodes=${nodes}`);
    assert.ok(r.committed > 100, `seed ${seed}: only ${r.committed} entries committed`);
    runs++;
  }
  assert.ok(runs >= 4, `only ${runs} seeds ran within the time budget`);
});

for (const canary of CANARIES) {
  test(`raft simulation: canary ${canary} is caught`, () => {
    const results: string[] = [];
    for (const seed of SEEDS.slice(0, 10)) {
      const r = new RaftSim(options(seed, canary)).run();
      if (r.violation !== undefined) return; // caught
      results.push(`seed ${seed}: ok`);
    }
    assert.fail(`canary ${canary} went undetected in ${results.length} seeds`);
  });
}

test('raft simulation: a seed replays identically', () => {
  const a = new RaftSim(options(7)).run();
  const b = new RaftSim(options(7)).run();
  assert.deepEqual(a, b);
});
