/**
 * The quorum signal of zk-proxy over etcd (zkproxy/backend/etcd-quorum-probe.ts): a Status
 * answer naming a leader counts for two intervals plus a deadline; an answer with leader 0, a
 * failure or a hang lets it age out; one probe at a time; nothing is asked before the first
 * hasQuorum, nor after stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdQuorumProbe } from '../../../../zkproxy/backend/etcd-quorum-probe';

/** A leader query whose answers the test sets; counts calls; 'hang' never settles. */
function fakeLeader(): { answer: bigint | Error | 'hang'; calls: number; query: (timeoutMs: number) => Promise<bigint> } {
  const f = {
    answer: 7n as bigint | Error | 'hang',
    calls: 0,
    query: (_timeoutMs: number): Promise<bigint> => {
      f.calls++;
      if (f.answer === 'hang') return new Promise<bigint>(() => undefined);
      return f.answer instanceof Error ? Promise.reject(f.answer) : Promise.resolve(f.answer);
    },
  };
  return f;
}

test('a leader seen recently is a quorum; leader 0, failures and hangs age it out after 2 intervals + the deadline', async () => {
  let now = 1000;
  const f = fakeLeader();
  // A long interval: the test drives the probes itself.
  const probe = new EtcdQuorumProbe(f.query, { intervalMs: 60_000, timeoutMs: 1000, now: () => now });
  try {
    assert.equal(f.calls, 0, 'nothing asked before the first hasQuorum');
    assert.equal(probe.hasQuorum(), false, 'no answer yet');
    await new Promise((r) => setImmediate(r));
    assert.equal(f.calls, 1, 'the first hasQuorum starts probing at once');
    assert.equal(probe.hasQuorum(), true);
    for (const answer of [0n, new Error('unavailable')] as const) {
      f.answer = answer;
      now += 2 * 60_000 + 1000 + 1;
      await probe.probe();
      assert.equal(probe.hasQuorum(), false, `after ${String(answer)}`);
      f.answer = 7n;
      await probe.probe();
      assert.equal(probe.hasQuorum(), true, 'a leader again');
    }
    // Within 2 × interval + deadline of the last good answer, a bad one does not count yet.
    f.answer = 0n;
    now += 2 * 60_000 + 1000;
    await probe.probe();
    assert.equal(probe.hasQuorum(), true, 'at the edge');
    now += 1;
    assert.equal(probe.hasQuorum(), false, 'past the edge');
  } finally {
    probe.stop();
  }
});

test('a hanging probe is not doubled, and stop ends probing', async () => {
  const f = fakeLeader();
  f.answer = 'hang';
  const probe = new EtcdQuorumProbe(f.query, { intervalMs: 20, timeoutMs: 10 });
  probe.hasQuorum();
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(f.calls, 1, 'one probe in flight at a time');
  probe.stop();
  const f2 = fakeLeader();
  const p2 = new EtcdQuorumProbe(f2.query, { intervalMs: 20 });
  p2.hasQuorum();
  await new Promise((r) => setTimeout(r, 70));
  p2.stop();
  const calls = f2.calls;
  assert.ok(calls >= 2, `${calls} probes in 70 ms at a 20 ms interval`);
  await new Promise((r) => setTimeout(r, 70));
  assert.equal(f2.calls, calls, 'no probe after stop');
  assert.equal(p2.hasQuorum(), true, 'the last answer still counts');
});
