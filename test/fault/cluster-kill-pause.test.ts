/**
 * A 3-member coracle cluster under client load while members are SIGKILLed and restarted or
 * SIGSTOPped and resumed (issue 4, etcd.md §6). Clients talk to every member (so writes are
 * forwarded to the leader and reads go through ReadIndex on followers). Two checks on the
 * recorded history:
 *
 * - no lost acknowledged write: every put that was acknowledged is readable at the end, on every
 *   member;
 * - linearizability of the register history (test/support/linearizability.ts; unique written
 *   values, a put without an answer may or may not have happened). The clients make no retries
 *   of their own (kv-load.ts says why: a retried put applied twice would read as a violation).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { pollUntil, sleep } from '../support/poll';
import { CoracleCluster } from '../support/cluster';
import { noRetryClient } from '../support/kv-load';
import { checkLinearizable, type KvOperation } from '../support/linearizability';

const WORKERS = 6;
const REGISTERS = 4;
const LOAD_MS = 25_000;
const OP_TIMEOUT_MS = 3000;
const MAX_OPS_PER_WORKER = 5000;
const CHECK_BUDGET_MS = 60_000;

test('3 members under load with SIGKILL/restart and SIGSTOP/SIGCONT: no lost acknowledged write, register histories linearizable', { timeout: 240_000 }, async (t) => {
  const skip = requirePeer('etcdctl');
  if (skip) return t.skip(skip);
  const c = await CoracleCluster.start({ size: 3 });
  const clients = c.members.map((m) => noRetryClient(m.endpoint, OP_TIMEOUT_MS));
  const history: KvOperation[] = [];
  const durable = new Map<string, string>();
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  let stop = false;
  try {
    const worker = async (w: number) => {
      const client = clients[w % clients.length]!;
      for (let i = 0; i < MAX_OPS_PER_WORKER && !stop; i++) {
        const key = `reg/${(w + i) % REGISTERS}`;
        if (i % 3 === 2) {
          const op: KvOperation = { client: w, kind: 'get', key, value: undefined, call: now(), ret: undefined };
          history.push(op);
          try {
            op.value = (await client.get(key).string()) ?? undefined;
            op.ret = now();
          } catch {
            await sleep(50);
          }
          continue;
        }
        const value = `w${w}-${i}`;
        const op: KvOperation = { client: w, kind: 'put', key, value, call: now(), ret: undefined };
        history.push(op);
        try {
          await client.put(key).value(value).exec();
          op.ret = now();
          // A second, never-overwritten key for the durability check.
          await client.put(`dur/${value}`).value(value).exec();
          durable.set(`dur/${value}`, value);
        } catch {
          await sleep(50);
        }
      }
    };
    const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
    const nemesis = (async () => {
      let round = 0;
      while (now() < LOAD_MS - 4000) {
        await sleep(2500);
        const leader = await c.leader().catch(() => undefined);
        const victim = round % 2 === 0 && leader ? leader : c.members[round % c.members.length]!;
        if (round % 2 === 0) {
          t.diagnostic(`round ${round}: SIGKILL ${victim.name}`);
          await c.kill9(victim);
          await sleep(1500);
          await c.restart(victim);
        } else {
          t.diagnostic(`round ${round}: SIGSTOP ${victim.name}`);
          c.pause(victim);
          await sleep(2000);
          c.resume(victim);
        }
        round++;
      }
    })();
    await nemesis;
    await sleep(Math.max(0, LOAD_MS - now()));
    stop = true;
    await Promise.all(workers);

    const acked = history.filter((o) => o.kind === 'put' && o.ret !== undefined).length;
    t.diagnostic(`${history.length} operations, ${acked} acknowledged register puts, ${durable.size} durability keys`);
    assert.ok(acked > 50, 'the load made progress');
    const verdict = checkLinearizable(history, { budgetMs: CHECK_BUDGET_MS });
    assert.deepEqual(verdict, { ok: true }, 'the register history is linearizable');
    // Fresh clients: the load's clients may have tripped their circuit breakers on a dead member.
    for (const m of c.members) {
      const fresh = noRetryClient(m.endpoint, 5000);
      const all = await pollUntil(`${m.name} answers the final read`, () => fresh.getAll().prefix('dur/').strings(), 20_000, 500).finally(() => fresh.close());
      const missing = [...durable].filter(([k, v]) => all[k] !== v);
      assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${durable.size} acknowledged writes missing`);
    }
  } finally {
    stop = true;
    for (const client of clients) client.close();
    await c.close();
  }
});
