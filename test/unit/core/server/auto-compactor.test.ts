/**
 * AutoCompactor (etcd 3.4's periodic and revision auto compaction) on a fake clock: which
 * revision each mode compacts to and when, leader-only turns, "already compacted" counted as
 * done, retries after a failure; and the flag parser's values and messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutoCompactor, CompactorClock, CompactionTarget, REVISION_COMPACTION_INTERVAL_MS, parseAutoCompaction } from '../../../../core/server/auto-compactor';
import { CoreError } from '../../../../core/util/core-error';
import { nullLogger } from '../../../../core/util/logger';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** A clock whose timers fire only when the test advances it. */
class FakeClock implements CompactorClock {
  private t = 0;
  private timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return timer;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x !== h);
  }
  /** Runs every timer due within `ms`, letting the compactor's promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    }
    this.t = end;
  }
}

/** A store whose revision grows by `perMinute` each minute of fake time. */
function fakeStore(clock: FakeClock, perMinute: number) {
  const calls: { at: number; rev: number }[] = [];
  let compacted = 0;
  let leader = true;
  let failNext = false;
  const target: CompactionTarget = {
    currentRevision: () => 1 + Math.floor((clock.now() / MIN) * perMinute),
    isLeader: () => leader,
    compact: async (rev) => {
      calls.push({ at: clock.now(), rev });
      if (failNext) {
        failNext = false;
        throw new CoreError('leader-changed');
      }
      if (rev <= compacted) throw new CoreError('compacted');
      compacted = rev;
    },
  };
  return {
    target, calls,
    setLeader: (v: boolean) => (leader = v),
    failOnce: () => (failNext = true),
  };
}

test('periodic 10m: compacts every 10 minutes to the revision of 10 minutes before', async () => {
  const clock = new FakeClock();
  const s = fakeStore(clock, 100);
  const c = new AutoCompactor({ mode: 'periodic', periodMs: 10 * MIN }, s.target, nullLogger, clock).start();
  await clock.advance(10 * MIN - 1);
  assert.deepEqual(s.calls, [], 'nothing before the first period');
  await clock.advance(1);
  assert.deepEqual(s.calls, [{ at: 10 * MIN, rev: 1 }]);
  await clock.advance(10 * MIN);
  // The oldest of the 11 samples kept (one a minute), as etcd's retentions = period/retry + 1.
  assert.deepEqual(s.calls[1], { at: 20 * MIN, rev: 1 + 9 * 100 });
  assert.equal(s.calls.length, 2);
  c.stop();
  await clock.advance(60 * MIN);
  assert.equal(s.calls.length, 2, 'stopped: no more turns');
});

test('periodic 2h: first after 2 hours to the revision of 2 hours before, then hourly', async () => {
  const clock = new FakeClock();
  const s = fakeStore(clock, 10);
  const c = new AutoCompactor({ mode: 'periodic', periodMs: 2 * HOUR }, s.target, nullLogger, clock).start();
  await clock.advance(2 * HOUR - 1);
  assert.equal(s.calls.length, 0);
  await clock.advance(1);
  assert.deepEqual(s.calls, [{ at: 2 * HOUR, rev: 1 }]);
  await clock.advance(HOUR);
  assert.equal(s.calls.length, 2);
  assert.equal(s.calls[1]!.at, 3 * HOUR);
  // Samples every 6 minutes, 21 kept: the oldest is about 2 hours old.
  assert.equal(s.calls[1]!.rev, 1 + (3 * 60 - 120 - 6) * 10);
  c.stop();
});

test('periodic: a follower skips its turns; leading again compacts at the next turn', async () => {
  const clock = new FakeClock();
  const s = fakeStore(clock, 100);
  s.setLeader(false);
  const c = new AutoCompactor({ mode: 'periodic', periodMs: 10 * MIN }, s.target, nullLogger, clock).start();
  await clock.advance(30 * MIN);
  assert.equal(s.calls.length, 0);
  s.setLeader(true);
  await clock.advance(MIN);
  assert.equal(s.calls.length, 1);
  assert.equal(s.calls[0]!.rev, 1 + 20 * 100, 'the oldest of the 11 samples kept: 11 minutes back');
  c.stop();
});

test('periodic: a failed compaction is retried at the next sample, "compacted" counts as done', async () => {
  const clock = new FakeClock();
  const s = fakeStore(clock, 0);
  s.failOnce();
  const c = new AutoCompactor({ mode: 'periodic', periodMs: 10 * MIN }, s.target, nullLogger, clock).start();
  await clock.advance(10 * MIN);
  assert.equal(s.calls.length, 1);
  await clock.advance(MIN);
  assert.equal(s.calls.length, 2, 'retried one sample later');
  // No writes: the next turn asks for the same revision and is told it is compacted; that is
  // success, so the one after waits a whole period again.
  await clock.advance(10 * MIN);
  assert.equal(s.calls.length, 3);
  await clock.advance(9 * MIN);
  assert.equal(s.calls.length, 3);
  c.stop();
});

test('revision 1000: every 5 minutes to current − 1000, skipped when unchanged or ≤ 0', async () => {
  const clock = new FakeClock();
  let rev = 500;
  const calls: number[] = [];
  const target: CompactionTarget = { currentRevision: () => rev, isLeader: () => true, compact: async (r) => void calls.push(r) };
  const c = new AutoCompactor({ mode: 'revision', revisions: 1000 }, target, nullLogger, clock).start();
  await clock.advance(REVISION_COMPACTION_INTERVAL_MS);
  assert.deepEqual(calls, [], 'current − retention ≤ 0');
  rev = 5000;
  await clock.advance(REVISION_COMPACTION_INTERVAL_MS - 1);
  assert.deepEqual(calls, []);
  await clock.advance(1);
  assert.deepEqual(calls, [4000]);
  await clock.advance(REVISION_COMPACTION_INTERVAL_MS);
  assert.deepEqual(calls, [4000], 'unchanged since the last success');
  rev = 7500;
  await clock.advance(REVISION_COMPACTION_INTERVAL_MS);
  assert.deepEqual(calls, [4000, 6500]);
  c.stop();
});

test('parseAutoCompaction: etcd values and messages', () => {
  assert.deepEqual(parseAutoCompaction('periodic', '0'), { mode: 'off' });
  assert.deepEqual(parseAutoCompaction('periodic', ''), { mode: 'off' });
  assert.deepEqual(parseAutoCompaction('periodic', '1'), { mode: 'periodic', periodMs: HOUR });
  assert.deepEqual(parseAutoCompaction('periodic', '30m'), { mode: 'periodic', periodMs: 30 * MIN });
  assert.deepEqual(parseAutoCompaction('periodic', '1h30m'), { mode: 'periodic', periodMs: 90 * MIN });
  assert.deepEqual(parseAutoCompaction('periodic', '1.5s'), { mode: 'periodic', periodMs: 1500 });
  assert.deepEqual(parseAutoCompaction('revision', '1000'), { mode: 'revision', revisions: 1000 });
  assert.throws(() => parseAutoCompaction('hourly', '1'), { message: 'unknown auto-compaction-mode "hourly"' });
  // etcd 3.4 prints Go's time.ParseDuration errors after this prefix.
  assert.throws(() => parseAutoCompaction('periodic', '5 minutes'), { message: 'error parsing CompactionRetention: time: unknown unit " minutes" in duration "5 minutes"' });
  assert.throws(() => parseAutoCompaction('periodic', '-1'), { message: 'error parsing CompactionRetention: time: missing unit in duration "-1"' });
  assert.throws(() => parseAutoCompaction('periodic', '1.5'), { message: 'error parsing CompactionRetention: time: missing unit in duration "1.5"' });
  assert.throws(() => parseAutoCompaction('periodic', 'abc'), { message: 'error parsing CompactionRetention: time: invalid duration "abc"' });
  assert.throws(() => parseAutoCompaction('periodic', '.s'), { message: 'error parsing CompactionRetention: time: invalid duration ".s"' });
  assert.throws(() => parseAutoCompaction('periodic', '-1h'), /negative retention/);
  assert.deepEqual(parseAutoCompaction('periodic', '.5m'), { mode: 'periodic', periodMs: 30_000 });
  assert.deepEqual(parseAutoCompaction('periodic', '1m30s'), { mode: 'periodic', periodMs: 90_000 });
  assert.throws(() => parseAutoCompaction('revision', '5m'), /revision mode wants a revision count/);
});
