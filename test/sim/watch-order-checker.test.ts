/**
 * The watch-order checker on hand-made delivery sequences: each case replays applies and
 * deliveries and names the violation expected (or none). The simulation's canaries prove it
 * catches the same faults in a real run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type WatchEvent, WatchOrderChecker } from './watch-order-checker';

const ev = (revision: number, key: string, value: string): WatchEvent => ({ revision, key, value });
const HISTORY = [ev(1, 'a', 'x1'), ev(2, 'b', 'x2'), ev(3, 'a', 'x3'), ev(4, 'b', 'x4')];

type Step = { apply: WatchEvent; member?: string } | { deliver: WatchEvent } | { finish: true };

const CASES: Array<{ name: string; key?: string; start?: number; steps: Step[]; error?: RegExp }> = [
  { name: 'every key, in order, complete', steps: [...HISTORY.map((e) => ({ deliver: e })), { finish: true }] },
  { name: 'one key, in order, complete', key: 'a', steps: [{ deliver: HISTORY[0]! }, { deliver: HISTORY[2]! }, { finish: true }] },
  { name: 'a later start revision', start: 3, steps: [{ deliver: HISTORY[2]! }, { deliver: HISTORY[3]! }, { finish: true }] },
  { name: 'a duplicate', steps: [{ deliver: HISTORY[0]! }, { deliver: HISTORY[0]! }], error: /duplicate or out of order/ },
  { name: 'going back in time', steps: [{ deliver: HISTORY[0]! }, { deliver: HISTORY[1]! }, { deliver: HISTORY[0]! }], error: /already received up to revision 2/ },
  { name: 'a gap', steps: [{ deliver: HISTORY[0]! }, { deliver: HISTORY[2]! }], error: /never rev 2 b=x2 \(gap after revision 1\)/ },
  { name: 'a gap on one key', key: 'b', steps: [{ deliver: HISTORY[3]! }], error: /never rev 2 b=x2/ },
  { name: 'an event before the start revision', start: 2, steps: [{ deliver: HISTORY[0]! }], error: /before its start revision 2/ },
  { name: 'an event outside the filter', key: 'a', steps: [{ deliver: HISTORY[1]! }], error: /outside its filter/ },
  { name: 'an event the cluster never made', steps: [{ deliver: ev(1, 'a', 'other') }], error: /but revision 1 is rev 1 a=x1/ },
  { name: 'a revision from the future', steps: [{ deliver: ev(9, 'a', 'z') }], error: /no member has applied/ },
  { name: 'a lost tail', key: 'b', steps: [{ deliver: HISTORY[1]! }, { finish: true }], error: /never received rev 4 b=x4/ },
  { name: 'members disagree on a revision', steps: [{ apply: ev(2, 'b', 'y'), member: '2' }], error: /member 2 applied rev 2 b=y, another member applied rev 2 b=x2/ },
  { name: 'a member skips a revision', steps: [{ apply: ev(6, 'b', 'y'), member: '3' }], error: /applied revision 6 but the cluster's history ends at 4/ },
];

for (const c of CASES) {
  test(`watch order: ${c.name}`, () => {
    const checker = new WatchOrderChecker((m) => {
      throw new Error(m);
    });
    for (const e of HISTORY) checker.applied('1', e);
    checker.started(1, { name: '1', key: c.key, startRevision: c.start ?? 1 });
    const run = (): void => {
      for (const s of c.steps) {
        if ('apply' in s) checker.applied(s.member ?? '1', s.apply);
        else if ('deliver' in s) checker.delivered(1, s.deliver);
        else checker.finish();
      }
    };
    if (c.error === undefined) run();
    else assert.throws(run, c.error);
  });
}
