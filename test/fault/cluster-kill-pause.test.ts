/**
 * A 3-member coracle cluster under client load while members are SIGKILLed and restarted or
 * SIGSTOPped and resumed (issue 4, etcd.md §6). Clients talk to every member (so writes are
 * forwarded to the leader and reads go through ReadIndex on followers). Two checks on the
 * recorded history:
 *
 * - no lost acknowledged write: every put that was acknowledged is readable at the end, on every
 *   member;
 * - single-register linearizability (necessary conditions, per key, unique written values): a
 *   read returns a value that was written before the read ended and not definitely overwritten
 *   before the read began, and a read never observes a write strictly older than what an
 *   earlier, non-overlapping read observed. A put without an answer may or may not have
 *   happened, so it can justify a read but never condemn one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { requirePeer } from '../support/peers';
import { pollUntil, sleep } from '../support/poll';
import { CoracleCluster } from '../support/cluster';

const WORKERS = 6;
const REGISTERS = 4;
const LOAD_MS = 25_000;
const OP_TIMEOUT_MS = 3000;
const MAX_OPS_PER_WORKER = 5000;

interface Op {
  kind: 'put' | 'get';
  key: string;
  value: string | null;
  start: number;
  end: number; // Infinity when the outcome is unknown
  ok: boolean;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('client timeout')), ms))]);
}

/** Returns the violations of the register conditions in `ops` (empty = none found). */
export function registerViolations(ops: Op[]): string[] {
  const out: string[] = [];
  const byKey = new Map<string, Op[]>();
  for (const o of ops) (byKey.get(o.key) ?? byKey.set(o.key, []).get(o.key)!).push(o);
  for (const [key, list] of byKey) {
    const writes = new Map<string, Op>();
    for (const o of list) if (o.kind === 'put') writes.set(o.value!, o);
    const acked = list.filter((o) => o.kind === 'put' && o.ok);
    const reads = list.filter((o) => o.kind === 'get' && o.ok).sort((a, b) => a.start - b.start);
    for (const r of reads) {
      if (r.value === null) {
        if (acked.some((w) => w.end < r.start)) out.push(`${key}: read at ${r.start} saw nothing after an acknowledged put`);
        continue;
      }
      const w = writes.get(r.value);
      if (!w) {
        out.push(`${key}: read returned ${r.value}, never written`);
        continue;
      }
      if (w.start > r.end) out.push(`${key}: read returned ${r.value} before it was written`);
      const newer = acked.find((w2) => w2 !== w && w2.end < r.start && w.end < w2.start);
      if (newer) out.push(`${key}: read at ${r.start} returned ${r.value}, overwritten by ${newer.value} (done at ${newer.end})`);
    }
    for (let i = 0; i < reads.length; i++) {
      for (let j = 0; j < reads.length; j++) {
        const r1 = reads[i]!;
        const r2 = reads[j]!;
        if (!(r1.end < r2.start) || r1.value === null) continue;
        const w1 = writes.get(r1.value);
        const w2 = r2.value === null ? undefined : writes.get(r2.value);
        if (w1 && r2.value === null) out.push(`${key}: read saw nothing after an earlier read saw ${r1.value}`);
        else if (w1 && w2 && w2.end < w1.start) out.push(`${key}: read saw ${r2.value} after an earlier read saw newer ${r1.value}`);
      }
    }
  }
  return out;
}

test('3 members under load with SIGKILL/restart and SIGSTOP/SIGCONT: no lost acknowledged write, register histories linearizable', { timeout: 240_000 }, async (t) => {
  const skip = requirePeer('etcdctl');
  if (skip) return t.skip(skip);
  const c = await CoracleCluster.start({ size: 3 });
  const clients = c.members.map((m) => new Etcd3({ hosts: `http://${m.endpoint}`, dialTimeout: 1000 }));
  const history: Op[] = [];
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
          const op: Op = { kind: 'get', key, value: null, start: now(), end: Infinity, ok: false };
          try {
            op.value = await withTimeout(client.get(key).string(), OP_TIMEOUT_MS);
            op.end = now();
            op.ok = true;
          } catch {
            await sleep(50);
          }
          history.push(op);
          continue;
        }
        const value = `w${w}-${i}`;
        const op: Op = { kind: 'put', key, value, start: now(), end: Infinity, ok: false };
        history.push(op);
        try {
          await withTimeout(client.put(key).value(value).exec(), OP_TIMEOUT_MS);
          op.end = now();
          op.ok = true;
          // A second, never-overwritten key for the durability check.
          await withTimeout(client.put(`dur/${value}`).value(value).exec(), OP_TIMEOUT_MS);
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

    const acked = history.filter((o) => o.kind === 'put' && o.ok).length;
    t.diagnostic(`${history.length} operations, ${acked} acknowledged register puts, ${durable.size} durability keys`);
    assert.ok(acked > 50, 'the load made progress');
    const violations = registerViolations(history);
    assert.deepEqual(violations.slice(0, 5), [], `${violations.length} register violations`);
    // Fresh clients: the load's clients may have tripped their circuit breakers on a dead member.
    for (const m of c.members) {
      const fresh = new Etcd3({ hosts: `http://${m.endpoint}`, dialTimeout: 2000 });
      const all = await pollUntil(`${m.name} answers the final read`, () => withTimeout(fresh.getAll().prefix('dur/').strings(), 5000), 20_000, 500).finally(() => fresh.close());
      const missing = [...durable].filter(([k, v]) => all[k] !== v);
      assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${durable.size} acknowledged writes missing`);
    }
  } finally {
    stop = true;
    for (const client of clients) client.close();
    await c.close();
  }
});
