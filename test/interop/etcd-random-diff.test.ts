/**
 * Random KV programs (etcd-random-workload.ts) run against a real etcd 3.4 and the real `coracle`
 * binary, request by request over gRPC: every response must decode to the same message (header
 * ids and raft term masked) and every error must carry the same status code and message. Both
 * stores start fresh and see the same requests, so revisions must agree throughout. The seeds are
 * fixed so CI runs the same programs every time; `CORACLE_ETCD_RANDOM_SEED` picks others to
 * explore, `CORACLE_ETCD_RANDOM_PROGRAMS` how many and `CORACLE_ETCD_RANDOM_STEPS` how long. A
 * mismatch names the seed, the program and the step, with both outcomes. Every third step goes
 * through the HTTP/JSON gateway instead (status and JSON compared), ranges sorted off the key aside. Txns that could make
 * etcd 3.4 panic (see {@link mayCrashEtcd}) are left out. After each program, random watches
 * over its history (etcd-random-watches.ts) must deliver the same on both servers. A second run
 * sends everything to a follower of a 3-member cluster (forwarded proposals, read index).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../../protocol/etcd/generated/rpc';
import { KeyValue } from '../../protocol/etcd/generated/kv';
import { requirePeer } from '../support/peers';
import { startEtcd } from '../support/etcd-peer';
import { startCoracle } from '../support/coracle-server';
import { CoracleCluster } from '../support/cluster';
import { callOf, mayCrashEtcd, programs, sortsOffKey, type StepContext } from './etcd-random-workload';
import { invoke, invokeGateway, type Call, type GatewayOutcome, type Outcome } from './etcd-random-calls';
import { createOf, replayWatches, watchSets } from './etcd-random-watches';

const SEED = Number(process.env.CORACLE_ETCD_RANDOM_SEED ?? 20261123);
const PROGRAMS = Number(process.env.CORACLE_ETCD_RANDOM_PROGRAMS ?? 30);
const STEPS = Number(process.env.CORACLE_ETCD_RANDOM_STEPS ?? 120);

/** Drops what legitimately differs between two servers: their ids and the raft term. */
function masked(o: Outcome): Outcome {
  if (!('ok' in o)) return o;
  return { ok: JSON.parse(JSON.stringify(o.ok, (k, v: unknown) => {
    if (k === 'clusterId' || k === 'memberId' || k === 'raftTerm') return undefined;
    return typeof v === 'bigint' ? `${v}n` : v;
  })) as unknown };
}

type Kv = KeyValue;
const TARGET_FIELD: Record<number, (kv: Kv) => string> = {
  [pb.RangeRequest_SortTarget.VERSION]: (kv) => String(kv.version),
  [pb.RangeRequest_SortTarget.CREATE]: (kv) => String(kv.createRevision),
  [pb.RangeRequest_SortTarget.MOD]: (kv) => String(kv.modRevision),
  [pb.RangeRequest_SortTarget.VALUE]: (kv) => kv.value.toString('hex'),
};

/**
 * etcd sorts a range by version, revision or value with Go's unstable sort, so keys that tie on
 * the target come in an order no client may rely on. Each run of ties is put in key order; when
 * the limit cut the last run, which of its keys made it is arbitrary too, and only how many did
 * (and their target) is kept. Txn sub-ranges are matched with their requests down the branch taken.
 */
function untied(request: unknown, o: Outcome): Outcome {
  if (!('ok' in o)) return o;
  const fixRange = (req: pb.RangeRequest, res: pb.RangeResponse): void => {
    const field = TARGET_FIELD[req.sortTarget];
    if (!field || res.kvs.length === 0) return;
    const runs: Kv[][] = [];
    for (const kv of res.kvs) {
      const last = runs[runs.length - 1];
      if (last && field(last[0]!) === field(kv)) last.push(kv);
      else runs.push([kv]);
    }
    for (const run of runs) run.sort((a, b) => Buffer.compare(a.key, b.key));
    const cut = req.limit > 0n && res.more;
    // Of a cut run only the target and how many made it are comparable: the rest of each kv
    // (key, revisions, lease, value) tells which of the tied keys it is.
    if (cut) runs.push(runs.pop()!.map((kv) => KeyValue.fromPartial({ key: Buffer.from('(tied, cut by the limit)'), value: Buffer.from(field(kv)) })));
    res.kvs = runs.flat();
  };
  const fixTxn = (req: pb.TxnRequest, res: pb.TxnResponse): void => {
    const ops = res.succeeded ? req.success : req.failure;
    res.responses.forEach((r, i) => {
      const q = ops[i]?.request;
      if (q?.$case === 'requestRange' && r.response?.$case === 'responseRange') fixRange(q.requestRange, r.response.responseRange);
      if (q?.$case === 'requestTxn' && r.response?.$case === 'responseTxn') fixTxn(q.requestTxn, r.response.responseTxn);
    });
  };
  const res = o.ok as pb.RangeResponse & pb.TxnResponse;
  const req = request as pb.RangeRequest & pb.TxnRequest;
  if ('kvs' in res && 'sortTarget' in req) fixRange(req, res);
  else if ('responses' in res && 'compare' in req) fixTxn(req, res);
  return o;
}

/** What one step got from each server, made comparable. */
interface BothOutcomes {
  want: unknown;
  got: unknown;
  /** Whether etcd answered with success. */
  ok: boolean;
  /** The store revision etcd's answer reports, if any. */
  revision: number | undefined;
}

/** A gateway answer with the servers' ids and raft term dropped (grpc-gateway's JSON names). */
function maskedJson(o: GatewayOutcome): unknown {
  return JSON.parse(JSON.stringify(o, (k, v: unknown) => (k === 'cluster_id' || k === 'member_id' || k === 'raft_term' ? undefined : v)));
}

/** The store revision a successful response reports, if any. */
function revisionOf(o: Outcome): number | undefined {
  const header = 'ok' in o ? (o.ok as { header?: { revision?: bigint } }).header : undefined;
  return header?.revision === undefined ? undefined : Number(header.revision);
}

/** Where the programs go on Coracle's side: a gRPC endpoint and the same member's gateway port. */
interface Target {
  endpoint: string;
  clientPort: number;
}

/**
 * Runs `count` programs of `seed` against a fresh etcd 3.4 and `target` (which must be as fresh),
 * and asserts that every reply, error and watch agreed.
 */
async function diffAgainstEtcd(t: TestContext, seed: number, count: number, target: Target): Promise<void> {
  const etcd = await startEtcd();
  const oracle = new grpc.Client(etcd.endpoints[0]!.replace(/^http:\/\//, ''), grpc.credentials.createInsecure());
  const ours = new grpc.Client(target.endpoint, grpc.credentials.createInsecure());
  const overGrpc = async (call: Call): Promise<BothOutcomes> => {
    const [want, got] = await Promise.all([invoke(oracle, call), invoke(ours, call)]);
    return { want: masked(untied(call.request, want)), got: masked(untied(call.request, got)), ok: 'ok' in want, revision: revisionOf(want) };
  };
  const overGateway = async (call: Call): Promise<BothOutcomes> => {
    const [want, got] = await Promise.all([invokeGateway(etcd.members[0]!.clientPort, call), invokeGateway(target.clientPort, call)]);
    const rev = (want.body as { header?: { revision?: string } } | undefined)?.header?.revision;
    return { want: maskedJson(want), got: maskedJson(got), ok: want.status === 200, revision: rev === undefined ? undefined : Number(rev) };
  };
  const failures: string[] = [];
  let compared = 0;
  let errors = 0;
  let skipped = 0;
  let watchesCompared = 0;
  let watchEvents = 0;
  let viaJson = 0;
  try {
    let revision = 1;
    let compacted = 0;
    const watches = watchSets(seed, count);
    for (const [i, program] of programs(seed, count, STEPS).entries()) {
      const ctx: StepContext = { prefix: `p${i}/`, leaseIds: [0n, ...[1, 2, 3, 4].map((n) => BigInt(1000 * (i + 1) + n))], revision, first: revision, compacted };
      for (const [j, s] of program.entries()) {
        if (mayCrashEtcd(s)) {
          skipped++;
          continue;
        }
        const call = callOf(ctx, s);
        const viaGateway = j % 3 === 2 && !sortsOffKey(s);
        const r = viaGateway ? await overGateway(call) : await overGrpc(call);
        compared++;
        if (viaGateway) viaJson++;
        if (!r.ok) errors++;
        if (!isDeepStrictEqual(r.want, r.got)) {
          failures.push(`seed ${seed} program ${i} step ${j}${viaGateway ? ' (JSON gateway)' : ''}: ${JSON.stringify(s)}\n  etcd:    ${JSON.stringify(r.want)}\n  coracle: ${JSON.stringify(r.got)}`);
          break;
        }
        ctx.revision = r.revision ?? ctx.revision;
        if (s.kind === 'compact' && r.ok) ctx.compacted = Number((call.request as { revision: bigint }).revision);
      }
      revision = ctx.revision;
      compacted = ctx.compacted;
      const creates = watches[i]!.map((w) => createOf(ctx, w));
      const [wantWatch, gotWatch] = await Promise.all([replayWatches(oracle, creates), replayWatches(ours, creates)]);
      watchesCompared += creates.length;
      watchEvents += wantWatch.events.reduce((n, [, e]) => n + e.length, 0);
      if (!isDeepStrictEqual(wantWatch, gotWatch)) {
        failures.push(`seed ${seed} program ${i} watches ${JSON.stringify(watches[i])}\n  etcd:    ${JSON.stringify(wantWatch)}\n  coracle: ${JSON.stringify(gotWatch)}`);
      }
      if (failures.length >= 3) break;
    }
    t.diagnostic(`compared ${compared} calls (${viaJson} over the JSON gateway; ${errors} errors on both sides); skipped ${skipped} that could crash etcd 3.4; ${watchesCompared} watches delivering ${watchEvents} events`);
    assert.ok(watchEvents > 0, 'the watches delivered events');
    assert.deepEqual(failures, []);
    assert.ok(compared >= count * STEPS * 0.8, 'most steps were compared');
    assert.ok(errors > 0 && errors < compared / 2, 'the programs reach error cases, but mostly succeed');
  } finally {
    oracle.close();
    ours.close();
    await etcd.stop();
  }
}

test(`random KV programs match etcd 3.4 (seed ${SEED}, ${PROGRAMS} × ${STEPS} steps)`, { timeout: 300_000 }, async (t) => {
  const skip = requirePeer('etcd');
  if (skip) return t.skip(skip);
  const coracle = await startCoracle(['--zk-listen', '']);
  try {
    await diffAgainstEtcd(t, SEED, PROGRAMS, coracle);
  } finally {
    await coracle.stop();
  }
});

test(`random KV programs sent to a follower of a 3-member cluster match etcd 3.4 (seed ${SEED + 1})`, { timeout: 300_000 }, async (t) => {
  const skip = requirePeer('etcd');
  if (skip) return t.skip(skip);
  const cluster = await CoracleCluster.start({ size: 3 });
  try {
    const leader = await cluster.leader();
    const follower = cluster.members.find((m) => m !== leader)!;
    await diffAgainstEtcd(t, SEED + 1, Math.ceil(PROGRAMS / 3), follower);
  } finally {
    await cluster.close();
  }
});
