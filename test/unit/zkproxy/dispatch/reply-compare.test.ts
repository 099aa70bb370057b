/**
 * The cross-checker's notification comparison: in order, except that the events of one
 * session close may come in any order (ZooKeeper deletes the session's ephemerals in a Java
 * HashSet's order); their number and content must still match.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stat, WatcherEvent } from '../../../../protocol/jute';
import { CandidateEvent, Mismatch, ReplyComparer } from '../../../../zkproxy/dispatch/reply-compare';

const ev = (type: number, path: string): WatcherEvent => ({ type, state: 3, path });
const at = (zxid: number, type: number, path: string): CandidateEvent => ({ event: ev(type, path), zxid });

function compare(kills: number[], oracle: WatcherEvent[], candidate: CandidateEvent[]): Mismatch[] {
  const cmp = new ReplyComparer();
  for (const k of kills) cmp.sessionKills.add(k);
  const out: Mismatch[] = [];
  cmp.events(oracle, candidate, out);
  return out;
}

test('events of a session close compare as a multiset, in place', () => {
  const oracle = [ev(3, '/x'), ev(4, '/p'), ev(2, '/p/a'), ev(4, '/p'), ev(3, '/y')];
  const candidate = [at(5, 3, '/x'), at(9, 2, '/p/a'), at(9, 4, '/p'), at(9, 4, '/p'), at(11, 3, '/y')];
  assert.deepEqual(compare([9], oracle, candidate), []);
});

test('the same reordering outside a session close is a mismatch', () => {
  const oracle = [ev(4, '/p'), ev(2, '/p/a')];
  const candidate = [at(9, 2, '/p/a'), at(9, 4, '/p')];
  assert.equal(compare([], oracle, candidate).length, 1);
  assert.equal(compare([8], oracle, candidate).length, 1);
});

test('a session close must still give the same events, and nothing moves across its bounds', () => {
  assert.equal(compare([9], [ev(4, '/p'), ev(2, '/p/a')], [at(9, 4, '/p'), at(9, 2, '/p/b')]).length, 1);
  assert.equal(compare([9], [ev(4, '/p')], [at(9, 4, '/p'), at(9, 4, '/p')]).length, 1);
  // An event of the next revision may not be counted into the close's group.
  assert.equal(compare([9], [ev(3, '/y'), ev(4, '/p')], [at(9, 4, '/p'), at(10, 3, '/y')]).length, 1);
});

test('times: a write in the next millisecond is no difference, a stale or backward mtime is', () => {
  const stat = (czxid: bigint, mzxid: bigint, ctime: bigint, mtime: bigint): Stat => ({
    czxid, mzxid, ctime, mtime, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: czxid,
  });
  const check = (o: Stat, c: Stat): string[] => {
    const cmp = new ReplyComparer();
    const out: Mismatch[] = [];
    cmp.stat('setData', o, c, out);
    return out.map((m) => m.field);
  };
  // Created and modified in one ms on the oracle, across a ms boundary here.
  assert.deepEqual(check(stat(5n, 6n, 1000n, 1000n), stat(7n, 8n, 2000n, 2001n)), []);
  // Modified long after creation on the oracle, but mtime left at ctime here.
  assert.deepEqual(check(stat(5n, 6n, 1000n, 1900n), stat(7n, 8n, 2000n, 2000n)), ['stat.ctime==mtime']);
  // Never modified, yet a different mtime; and a modification dated before the create.
  assert.deepEqual(check(stat(5n, 5n, 1000n, 1000n), stat(7n, 7n, 2000n, 2002n)), ['stat.mtime']);
  assert.deepEqual(check(stat(5n, 6n, 1000n, 1000n), stat(7n, 8n, 2000n, 1999n)), ['stat.mtime']);
});

test('a candidate zxid a client saw maps to the oracle zxid paired with it (SetWatches)', () => {
  const cmp = new ReplyComparer();
  for (const [o, c] of [[0x100000003n, 7n], [0x100000005n, 9n], [0x100000009n, 15n]] as const) assert.equal(cmp.zxid(o, c), undefined);
  assert.equal(cmp.toOracle(9n), 0x100000005n);
  assert.equal(cmp.toOracle(15n), 0x100000009n);
  // Between pairs: the last pair at or below it; before any pair: 0.
  assert.equal(cmp.toOracle(12n), 0x100000005n);
  assert.equal(cmp.toOracle(3n), 0n);
});
