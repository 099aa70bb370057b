/**
 * The linearizability checker on hand-made histories with a known verdict (each case names the
 * anomaly it shows), on a history large enough to need the memoization, and on one built to
 * exhaust the budget. A case written as `[client, kind, value, call, ret]` is on key "k".
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRand } from '../../../core/util/rand';
import { type KvOperation, checkLinearizable } from '../../support/linearizability';

type Row = [client: number, kind: 'put' | 'get', value: string | undefined, call: number, ret: number | undefined, key?: string];

function history(rows: Row[]): KvOperation[] {
  return rows.map(([client, kind, value, call, ret, key]) => ({ client, kind, key: key ?? 'k', value, call, ret }));
}

const LINEARIZABLE: Array<{ name: string; rows: Row[] }> = [
  { name: 'empty history', rows: [] },
  { name: 'a read of a key never written sees it absent', rows: [[1, 'get', undefined, 0, 1]] },
  {
    name: 'sequential writes and reads',
    rows: [
      [1, 'put', 'a', 0, 1],
      [2, 'get', 'a', 2, 3],
      [1, 'put', 'b', 4, 5],
      [2, 'get', 'b', 6, 7],
    ],
  },
  {
    name: 'a read concurrent with a write may see the old value',
    rows: [
      [1, 'put', 'a', 0, 1],
      [1, 'put', 'b', 2, 10],
      [2, 'get', 'a', 3, 4],
      [2, 'get', 'b', 5, 6],
    ],
  },
  {
    name: 'concurrent writes take effect in either order',
    rows: [
      [1, 'put', 'a', 0, 10],
      [2, 'put', 'b', 0, 10],
      [3, 'get', 'b', 1, 2],
      [3, 'get', 'a', 3, 4],
      [4, 'get', 'a', 11, 12],
    ],
  },
  {
    name: 'intervals that touch are concurrent',
    rows: [
      [1, 'put', 'a', 0, 5],
      [2, 'get', undefined, 5, 6],
    ],
  },
  {
    name: 'keys are independent registers',
    rows: [
      [1, 'put', 'a', 0, 1, 'x'],
      [1, 'put', 'b', 2, 3, 'y'],
      [2, 'get', undefined, 4, 5, 'z'],
      [2, 'get', 'a', 6, 7, 'x'],
      [2, 'get', 'b', 8, 9, 'y'],
    ],
  },
  {
    name: 'an indeterminate put may be seen',
    rows: [
      [1, 'put', 'a', 0, 1],
      [1, 'put', 'b', 2, undefined],
      [2, 'get', 'b', 50, 51],
      [2, 'get', 'b', 52, 53],
    ],
  },
  {
    name: 'an indeterminate put may never happen',
    rows: [
      [1, 'put', 'a', 0, 1],
      [1, 'put', 'b', 2, undefined],
      [2, 'get', 'a', 50, 51],
      [2, 'get', 'a', 52, 53],
    ],
  },
  {
    name: 'an indeterminate put may take effect long after it was issued',
    rows: [
      [1, 'put', 'a', 0, undefined],
      [2, 'get', undefined, 10, 11],
      [2, 'put', 'b', 12, 13],
      [2, 'get', 'b', 14, 15],
      [2, 'get', 'a', 16, 17],
    ],
  },
  {
    name: 'an indeterminate get constrains nothing',
    rows: [
      [1, 'put', 'a', 0, 1],
      [2, 'get', 'zzz', 2, undefined],
    ],
  },
  {
    name: 'a value written twice may be read from either write',
    rows: [
      [1, 'put', 'a', 0, 1],
      [1, 'put', 'b', 2, 3],
      [2, 'put', 'a', 4, undefined],
      [3, 'get', 'a', 10, 11],
    ],
  },
];

const NOT_LINEARIZABLE: Array<{ name: string; rows: Row[]; mentions: string[] }> = [
  {
    name: 'stale read after a newer write completed',
    rows: [
      [1, 'put', 'a', 0, 1],
      [1, 'put', 'b', 2, 3],
      [2, 'get', 'a', 4, 5],
    ],
    mentions: ['client 2 get "k" -> "a" [call 4, ret 5]', 'written by client 1 put "k" = "a"', 'holds "b"'],
  },
  {
    name: 'read of a value never written',
    rows: [
      [1, 'put', 'a', 0, 1],
      [2, 'get', 'ghost', 2, 3],
    ],
    mentions: ['client 2 get "k" -> "ghost"', 'no put in the history wrote that value'],
  },
  {
    name: 'acknowledged write lost: a later read sees the key absent',
    rows: [
      [1, 'put', 'a', 0, 1],
      [2, 'get', undefined, 2, 3],
    ],
    mentions: ['client 2 get "k" -> (absent)'],
  },
  {
    name: 'lost update: the second acknowledged write is gone for a later read',
    rows: [
      [1, 'put', 'a', 0, 1],
      [2, 'put', 'b', 2, 3],
      [3, 'get', 'b', 4, 5],
      [3, 'put', 'c', 6, 7],
      [1, 'get', 'b', 8, 9],
    ],
    mentions: ['client 1 get "k" -> "b" [call 8, ret 9]'],
  },
  {
    name: 'read going back in time across clients',
    rows: [
      [1, 'put', 'a', 0, 1],
      [1, 'put', 'b', 2, 20],
      [2, 'get', 'b', 3, 4],
      [3, 'get', 'a', 5, 6],
    ],
    mentions: ['client 3 get "k" -> "a" [call 5, ret 6]'],
  },
  {
    name: 'read from the future: a value read before its write was issued',
    rows: [
      [2, 'get', 'a', 0, 1],
      [1, 'put', 'a', 2, 3],
    ],
    mentions: ['client 2 get "k" -> "a"', 'client 1 put "k" = "a" [call 2, ret 3]'],
  },
  {
    name: 'an indeterminate put once seen must stay seen',
    rows: [
      [1, 'put', 'a', 0, 1],
      [1, 'put', 'b', 2, undefined],
      [2, 'get', 'b', 3, 4],
      [3, 'get', 'a', 5, 6],
    ],
    mentions: ['client 3 get "k" -> "a"', 'took effect by 4'],
  },
  {
    name: 'an indeterminate put seen before it was issued',
    rows: [
      [2, 'get', 'b', 0, 1],
      [1, 'put', 'b', 2, undefined],
    ],
    mentions: ['client 2 get "k" -> "b"'],
  },
  {
    name: 'one bad key among good ones is named',
    rows: [
      [1, 'put', 'a', 0, 1, 'good'],
      [2, 'get', 'a', 2, 3, 'good'],
      [1, 'put', 'a', 0, 1, 'bad'],
      [1, 'put', 'b', 2, 3, 'bad'],
      [2, 'get', 'a', 4, 5, 'bad'],
    ],
    mentions: ['key "bad"'],
  },
];

for (const c of LINEARIZABLE) {
  test(`linearizable: ${c.name}`, () => {
    assert.deepEqual(checkLinearizable(history(c.rows)), { ok: true });
  });
}

for (const c of NOT_LINEARIZABLE) {
  test(`not linearizable: ${c.name}`, () => {
    const r = checkLinearizable(history(c.rows));
    assert.equal(r.ok, false, JSON.stringify(r));
    if (r.ok !== false) return;
    const text = `key ${JSON.stringify(r.key)}: ${r.explanation}`;
    for (const m of c.mentions) assert.ok(text.includes(m), `explanation lacks ${JSON.stringify(m)}:\n${text}`);
  });
}

test('malformed operations are rejected', () => {
  assert.throws(() => checkLinearizable(history([[1, 'put', 'a', 5, 4]])), RangeError);
  assert.throws(() => checkLinearizable(history([[1, 'put', 'a', NaN, 4]])), RangeError);
});

/**
 * A history from a sequential model: each client issues one operation at a time; the operation
 * takes effect at a random instant inside its interval; some puts time out (indeterminate) and
 * then take effect or not at random. Values are unique, as a real test's would be.
 */
function randomHistory(seed: number, clients: number, perClient: number, keys: number): KvOperation[] {
  const rand = new SeededRand(seed);
  const planned: Array<{ op: KvOperation; at: number | undefined }> = [];
  for (let c = 1; c <= clients; c++) {
    let t = rand.intn(10);
    for (let i = 0; i < perClient; i++) {
      const key = `key${rand.intn(keys)}`;
      const kind = rand.chance(0.5) ? 'put' : 'get';
      const call = t;
      const at = call + rand.intn(20);
      let ret: number | undefined = at + rand.intn(20);
      let effective: number | undefined = at;
      if (kind === 'put' && rand.chance(0.05)) {
        ret = undefined; // timed out; the client moves on after its timeout
        if (rand.chance(0.5)) effective = undefined;
        else effective = at + rand.intn(200);
      }
      planned.push({ op: { client: c, kind, key, value: kind === 'put' ? `v${c}-${i}` : undefined, call, ret }, at: effective });
      t = (ret ?? call + 100) + 1 + rand.intn(5);
    }
  }
  const state = new Map<string, string>();
  const order = planned.filter((p) => p.at !== undefined).sort((a, b) => a.at! - b.at!);
  for (const p of order) {
    if (p.op.kind === 'put') state.set(p.op.key, p.op.value!);
    else p.op.value = state.get(p.op.key);
  }
  return planned.map((p) => p.op);
}

test('a large random linearizable history is accepted within the budget', () => {
  const ops = randomHistory(42, 12, 800, 4); // 9,600 operations, ~2,400 per key, 12-way concurrency
  const started = performance.now();
  const r = checkLinearizable(ops, { budgetMs: 10_000 });
  assert.deepEqual(r, { ok: true }, `took ${Math.round(performance.now() - started)} ms`);
});

test('a large random history with one stale read injected is rejected', () => {
  const ops = randomHistory(7, 8, 400, 3);
  // Append, on the key with the most writes, a read after everything that returns the first value.
  const first = ops.find((o) => o.kind === 'put' && o.ret !== undefined)!;
  const end = Math.max(...ops.map((o) => o.ret ?? o.call)) + 1000;
  ops.push({ client: 99, kind: 'put', key: first.key, value: 'final', call: end, ret: end + 1 });
  ops.push({ client: 99, kind: 'get', key: first.key, value: first.value, call: end + 2, ret: end + 3 });
  const r = checkLinearizable(ops, { budgetMs: 10_000 });
  assert.equal(r.ok, false, JSON.stringify(r));
  if (r.ok === false) assert.ok(r.explanation.includes('client 99 get'), r.explanation);
});

test('an exponential search ends as unknown at the budget instead of hanging', () => {
  // 60 fully concurrent puts of distinct values, then a read of a value nobody wrote: every
  // subset of the puts is a distinct configuration, so the search cannot finish.
  const rows: Row[] = Array.from({ length: 60 }, (_, i): Row => [i, 'put', `v${i}`, 0, 100]);
  rows.push([99, 'get', 'ghost', 200, 201]);
  const started = performance.now();
  const r = checkLinearizable(history(rows), { budgetMs: 200 });
  const took = performance.now() - started;
  assert.equal(r.ok, 'unknown', JSON.stringify(r));
  assert.ok(took < 5_000, `took ${Math.round(took)} ms for a 200 ms budget`);
});
