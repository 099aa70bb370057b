/**
 * Coracle's etcd v3 API against a real etcd 3.4, side by side in one run (DESIGN §9): the same
 * gRPC load generator (bench/lib, raw HTTP/2 framing, its own process), the same request bytes,
 * the same client counts, each server one member on 127.0.0.1 with fsync on and its own fresh
 * data dir. Workloads: `put` (distinct keys, 256-byte values), `range` (one key, linearizable)
 * and `range-serializable`. Prints a Markdown table with the ratio Coracle ÷ etcd per row.
 *
 *   node dist/bench/etcd-bench.js [--seconds 5] [--clients 1,64] [--conns 1,8]
 *                                 [--workloads put,range,range-serializable] [--range-watchers 0]
 *
 * `--clients` and `--conns` are paired lists: one row per pair (concurrent calls, HTTP/2
 * connections). Rows alternate etcd and Coracle so that background noise hits both.
 * `--range-watchers N` first opens N prefix watches on each server (prefixes no benchmark key
 * falls in) and holds them through every row: what idle range watchers cost each write.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as pb from '../protocol/etcd/generated/rpc';
import { startEtcd, EtcdPeer } from '../test/support/etcd-peer';
import { freePorts } from '../test/support/ports';
import { ManagedProcess, startProcess } from '../test/support/process';
import { benchFlags } from './lib/bench-flags';
import { runLoad, LoadReport } from './lib/grpc-load';
import { holdRangeWatchers, HeldWatches } from './lib/range-watchers';

const DIST = path.resolve(__dirname, '..');
/** Bounds the wait for a server to become healthy. */
const START_TIMEOUT_MS = 30_000;
/** Distinct keys the put workload cycles through. */
const PUT_KEYS = 100_000;

const USAGE = `usage: node dist/bench/etcd-bench.js [--seconds 5] [--clients 1,64] [--conns 1,8]
         [--workloads put,range,range-serializable] [--range-watchers 0]`;
const flags = benchFlags(USAGE, ['seconds', 'clients', 'conns', 'workloads', 'range-watchers']);

/** One workload: its gRPC method, how to seed the store, and the request bytes. */
interface Workload {
  name: string;
  path: string;
  body: Uint8Array | ((i: number) => Uint8Array);
}

const VALUE = Buffer.alloc(256, 'v');

const WORKLOADS: Record<string, Workload> = {
  put: {
    name: 'put',
    path: '/etcdserverpb.KV/Put',
    body: (i) => pb.PutRequest.encode({ key: Buffer.from(`bench/${i % PUT_KEYS}`), value: VALUE }),
  },
  range: {
    name: 'range',
    path: '/etcdserverpb.KV/Range',
    body: pb.RangeRequest.encode({ key: Buffer.from('bench/0') }),
  },
  'range-serializable': {
    name: 'range-serializable',
    path: '/etcdserverpb.KV/Range',
    body: pb.RangeRequest.encode({ key: Buffer.from('bench/0'), serializable: true }),
  },
};

/** A server under test. */
interface Target {
  name: string;
  endpoint: string;
  pid: number;
  stop(): Promise<unknown>;
}

/** Starts `coracle` as `npm start` would (ZooKeeper port on), on free ports and a fresh data dir. */
async function startCoracle(): Promise<Target> {
  const [client, zk] = (await freePorts(2)) as [number, number];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coracle-etcd-bench-'));
  const proc: ManagedProcess = startProcess(process.execPath, [path.join(DIST, 'bin/coracle.js'), '--data-dir', path.join(dir, 'data'),
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--zk-listen', `127.0.0.1:${zk}`, '--log-level', 'warn'], { name: 'coracle' });
  const stop = async (): Promise<void> => {
    await proc.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exited) break;
    const ok = await fetch(`http://127.0.0.1:${client}/health`).then((r) => r.ok, () => false);
    if (ok) return { name: 'Coracle', endpoint: `127.0.0.1:${client}`, pid: proc.pid, stop };
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error('coracle did not become healthy; run `npm run build` and check its log above');
}

/** Writes the key the range workloads read (one unmeasured call). */
async function seed(t: Target): Promise<void> {
  const r = await runLoad({ target: t.endpoint, path: '/etcdserverpb.KV/Put', body: pb.PutRequest.encode({ key: Buffer.from('bench/0'), value: VALUE }), total: 1 });
  if (r.statuses.OK !== 1) throw new Error(`seeding ${t.name} failed: ${JSON.stringify(r.statuses)}`);
}

function row(w: string, clients: number, conns: number, t: Target, r: LoadReport, base: LoadReport | undefined): string {
  const errors = Object.entries(r.statuses).filter(([k]) => k !== 'OK').reduce((s, [, v]) => s + v, 0);
  const ratio = base && base.callsPerSecond > 0 ? `${(r.callsPerSecond / base.callsPerSecond).toFixed(2)}×` : '1.00×';
  const cpu = r.watchedCpuPercent === undefined ? '-' : `${Math.round(r.watchedCpuPercent)}%`;
  return `| ${w} | ${clients}/${conns} | ${t.name} | ${Math.round(r.callsPerSecond)} | ${r.latency.p50Ms.toFixed(2)} | ${r.latency.p99Ms.toFixed(2)} | ${errors} | ${cpu} | ${Math.round(r.generatorCpuPercent)}% | ${ratio} |`;
}

async function main(): Promise<void> {
  const seconds = flags.num('seconds', 5);
  const clients = flags.text('clients', '1,64').split(',').map(Number);
  const conns = flags.text('conns', '1,8').split(',').map(Number);
  if (clients.length !== conns.length || clients.some((n) => !(n > 0)) || conns.some((n) => !(n > 0))) {
    throw new Error('--clients and --conns must be lists of positive numbers of the same length');
  }
  const workloads = flags.text('workloads', 'put,range,range-serializable').split(',').map((w) => {
    const found = WORKLOADS[w];
    if (!found) throw new Error(`unknown workload ${w} (known: ${Object.keys(WORKLOADS).join(', ')})`);
    return found;
  });
  const watchers = flags.num('range-watchers', 0);
  let etcd: EtcdPeer | undefined;
  let coracle: Target | undefined;
  const held: HeldWatches[] = [];
  try {
    etcd = await startEtcd();
    const etcdTarget: Target = { name: 'etcd 3.4', endpoint: etcd.endpoints[0]!.replace('http://', ''), pid: etcd.members[0]!.process.pid, stop: () => etcd!.stop() };
    coracle = await startCoracle();
    const targets = [etcdTarget, coracle];
    for (const t of targets) await seed(t);
    for (const t of watchers > 0 ? targets : []) {
      process.stderr.write(`opening ${watchers} prefix watches on ${t.name} …\n`);
      held.push(await holdRangeWatchers(t.endpoint, watchers));
    }
    const rows: string[] = [];
    for (const w of workloads) {
      for (let i = 0; i < clients.length; i++) {
        let base: LoadReport | undefined;
        for (const t of targets) {
          process.stderr.write(`${w.name} ${clients[i]} clients / ${conns[i]} conns on ${t.name} …\n`);
          const r = await runLoad({ target: t.endpoint, path: w.path, body: w.body, conns: conns[i]!, concurrency: clients[i]!, durationMs: seconds * 1000, watchPid: t.pid });
          rows.push(row(w.name, clients[i]!, conns[i]!, t, r, base));
          base ??= r;
        }
      }
    }
    process.stdout.write(`seconds=${seconds} per row; value 256 bytes; ${watchers} idle prefix watches per server; ratio = Coracle ÷ etcd 3.4 calls/s\n\n`);
    process.stdout.write('| workload | clients/conns | server | calls/s | p50 ms | p99 ms | errors | server CPU | loadgen CPU | ratio |\n|---|---|---|---|---|---|---|---|---|---|\n');
    process.stdout.write(rows.join('\n') + '\n');
  } finally {
    for (const h of held) h.close();
    await coracle?.stop().catch(() => undefined);
    await etcd?.stop().catch(() => undefined);
  }
}

void main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`etcd-bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
