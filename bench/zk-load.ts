/**
 * ZooKeeper load generator for bench/zk-bench.ts: N connections, each with `depth`
 * outstanding requests (closed loop), one workload (create, setData, getData, getChildren, or
 * createSequential: sequential creates of every connection under one parent, as a queue or lock
 * recipe makes them), for a fixed time. Prints one JSON line: ops/s, p50/p99 latency (ms), errors, and its own
 * CPU use, so a saturated generator is visible (DESIGN §9). Uses our jute codec directly (no
 * client library overhead), the same generator against every server.
 *
 *   node dist/bench/zk-load.js HOST PORT WORKLOAD CONNS DEPTH SECONDS [VALUE_BYTES] [WARMUP_SECONDS]
 *
 * The first WARMUP_SECONDS (default 1) run the same loop unmeasured, so a JIT-compiled server
 * (the JVM, V8) is measured warm.
 */
import { ZkRequest } from '../protocol/jute';
import { ZkWireClient } from '../zkproxy/dispatch/zk-wire-client';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** One workload: setup on the first connection, then the request the loop sends. */
interface Workload {
  setup(c: ZkWireClient, conns: number): Promise<void>;
  next(conn: number, i: number): ZkRequest;
}

function workload(name: string, value: Buffer, runId: string): Workload {
  const root = `/bench-${runId}`;
  const create = (c: ZkWireClient, path: string, data: Buffer | null = null) => c.send({ op: 'create', path, data, acl: OPEN, flags: 0 });
  switch (name) {
    case 'create':
      return {
        setup: async (c) => { await create(c, root); },
        next: (conn, i) => ({ op: 'create', path: `${root}/n-${conn}-${i}`, data: value, acl: OPEN, flags: 0 }),
      };
    case 'createSequential':
      return {
        setup: async (c) => { await create(c, root); },
        // PERSISTENT_SEQUENTIAL: the server appends the parent's %010d counter to the name.
        next: () => ({ op: 'create', path: `${root}/q-`, data: value, acl: OPEN, flags: 2 }),
      };
    case 'setData':
      return {
        setup: async (c, n) => {
          await create(c, root);
          for (let k = 0; k < n; k++) await create(c, `${root}/k${k}`, value);
        },
        next: (conn) => ({ op: 'setData', path: `${root}/k${conn}`, data: value, version: -1 }),
      };
    case 'getData':
      return {
        setup: async (c) => {
          await create(c, root);
          await create(c, `${root}/k`, value);
        },
        next: () => ({ op: 'getData', path: `${root}/k`, watch: false }),
      };
    case 'getChildren':
      return {
        setup: async (c) => {
          await create(c, root);
          for (let k = 0; k < 100; k++) await create(c, `${root}/child-${String(k).padStart(3, '0')}`);
        },
        next: () => ({ op: 'getChildren', path: root, watch: false }),
      };
    default:
      throw new Error(`unknown workload ${name}`);
  }
}

/** Sorted latencies (ms) as [value in 10 µs units, count] pairs, in ascending value order. */
function histogram(sorted: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const x of sorted) {
    const v = Math.round(x * 100);
    const last = out[out.length - 1];
    if (last && last[0] === v) last[1]++;
    else out.push([v, 1]);
  }
  return out;
}

async function main(): Promise<void> {
  const [host, portText, name, connsText, depthText, secondsText, valueText, warmupText] = process.argv.slice(2);
  const port = Number(portText);
  const conns = Number(connsText ?? 16);
  const depth = Number(depthText ?? 1);
  const seconds = Number(secondsText ?? 5);
  const w = workload(name!, Buffer.alloc(Number(valueText ?? 100), 0x61), `${process.pid}-${Date.now()}`);
  const clients = await Promise.all(Array.from({ length: conns }, () => ZkWireClient.connect({ host: host!, port, timeoutMs: 30_000 })));
  await w.setup(clients[0]!, conns);
  const latencies: number[] = [];
  let errors = 0;
  let cpu0 = process.cpuUsage();
  const warmEnd = performance.now() + Number(warmupText ?? 1) * 1000;
  let t0 = warmEnd;
  const end = warmEnd + seconds * 1000;
  let counter = 0;
  const loop = async (c: ZkWireClient, conn: number, lane: number): Promise<void> => {
    for (let i = lane; performance.now() < end; i += depth) {
      const s = performance.now();
      // Every request gets a fresh index: creates never collide across the warm-up boundary.
      const r = await c.send(w.next(conn, (counter++) * depth + lane));
      if (s < warmEnd) continue;
      latencies.push(performance.now() - s);
      if (r.header.err !== 0) errors++;
    }
  };
  const warm = setTimeout(() => {
    cpu0 = process.cpuUsage();
    t0 = performance.now();
  }, Math.max(0, warmEnd - performance.now()));
  await Promise.all(clients.flatMap((c, conn) => Array.from({ length: depth }, (_, lane) => loop(c, conn, lane))));
  clearTimeout(warm);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  process.stdout.write(JSON.stringify({
    workload: name, conns, depth, ops: latencies.length, seconds: elapsed, opsPerSec: latencies.length / elapsed,
    // Every request sent, warm-up included (what a server's CPU over the whole run divides by).
    sent: counter,
    p50: q(0.5), p99: q(0.99), errors, loadgenCpu: (cpu.user + cpu.system) / 1e6 / elapsed,
    // Every latency in 10 µs units as [value, count] pairs, so several generator processes can
    // be merged exactly without printing one number per request.
    histogram: histogram(latencies),
  }) + '\n');
  await Promise.all(clients.map((c) => c.close()));
  // A pipe's write can still be queued here; exiting before it drains truncates the line.
  process.stdout.write('', () => process.exit(0));
}

void main();
