/**
 * Runs the raft simulator over a fixed set of seeds (all must be safe, converge, and produce a
 * linearizable client history and in-order watch streams), proves every canary is caught by
 * the checker meant for it, and checks that a seed replays identically. Wall-clock bounded: the
 * seed loop stops at a time budget (simulated time bounds each run anyway). The longer
 * randomized run is `npm run sim -- --seeds=1..200`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftSim, type SimOptions, type SimResult } from './raft-sim';
import { CANARIES, type Canary } from './sim-node';

const SEEDS = Array.from({ length: 24 }, (_, i) => i + 1);
const BUDGET_MS = 40_000;
/** Seeds a canary gets to show itself; each was caught well within this when it was written. */
const CANARY_SEEDS = SEEDS.slice(0, 10);

/** Which checker must report each canary (a canary caught by accident proves less). */
const CAUGHT_BY: Record<Exclude<Canary, 'none'>, RegExp> = {
  'no-fsync': /^(durability|state machine safety|leader completeness|log matching|election safety|linearizability|raft invariant)/,
  'stale-vote': /^(leader completeness|state machine safety|log matching|linearizability|raft invariant)/,
  'read-no-quorum': /^linearizability/,
  'stale-read': /^linearizability: no linearization exists/,
  'watch-dup': /^watcher .*\(duplicate or out of order\)/,
  'watch-skip': /^watcher .*(\(gap after revision|never received)/,
};

function options(seed: number, canary: Canary = 'none', nodes = 5): SimOptions {
  return { seed, nodes, faultMs: 20_000, healMs: 5_000, canary };
}

function replayHint(r: SimResult, canary: Canary): string {
  return `npm run sim -- --seed=${r.seed}${canary === 'none' ? '' : ` --canary=${canary}`}`;
}

test('raft simulation: fixed seeds are safe, converge, and give linearizable, in-order histories', () => {
  const started = performance.now();
  let runs = 0;
  for (const seed of SEEDS) {
    if (performance.now() - started > BUDGET_MS) break;
    const nodes = seed % 4 === 0 ? 3 : 5;
    const r = new RaftSim(options(seed, 'none', nodes)).run();
    const hint = `seed ${seed}\n  replay: ${replayHint(r, 'none')} --nodes=${nodes}`;
    assert.equal(r.violation, undefined, `${hint}\n${r.violation}`);
    assert.equal(r.linearizability, 'ok', hint);
    assert.ok(r.committed > 100, `seed ${seed}: only ${r.committed} entries committed`);
    // The checkers must have had something to check.
    assert.ok(r.ops > 500 && r.reads > 100, `seed ${seed}: only ${r.ops} client operations, ${r.reads} reads`);
    assert.ok(r.watchEvents > 1000, `seed ${seed}: only ${r.watchEvents} watch events delivered`);
    runs++;
  }
  assert.ok(runs >= 4, `only ${runs} seeds ran within the time budget`);
});

for (const canary of CANARIES) {
  test(`raft simulation: canary ${canary} is caught`, () => {
    for (const seed of CANARY_SEEDS) {
      const r = new RaftSim(options(seed, canary)).run();
      if (r.violation === undefined) continue;
      assert.match(r.violation, CAUGHT_BY[canary as Exclude<Canary, 'none'>], `seed ${seed}: caught by an unexpected checker`);
      return;
    }
    assert.fail(`canary ${canary} went undetected in ${CANARY_SEEDS.length} seeds`);
  });
}

test('raft simulation: a ReadIndex answered without a quorum round is caught by the client history alone', () => {
  // The safety checker's read bound is off, and CheckQuorum too (so a deposed leader lives
  // long enough to answer clients): only the linearizability check can see the stale reads.
  for (const seed of CANARY_SEEDS) {
    const r = new RaftSim({ ...options(seed, 'read-no-quorum'), checkQuorum: false, checkReadFloor: false }).run();
    if (r.violation === undefined) continue;
    assert.match(r.violation, CAUGHT_BY['stale-read'], `seed ${seed}: caught by an unexpected checker`);
    return;
  }
  assert.fail(`read-no-quorum went unnoticed by the client history in ${CANARY_SEEDS.length} seeds`);
});

test('raft simulation: a seed replays identically', () => {
  const a = new RaftSim(options(7)).run();
  const b = new RaftSim(options(7)).run();
  assert.deepEqual(a, b);
});
