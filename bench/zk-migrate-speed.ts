/**
 * How fast `coracle zk-migrate` moves a large tree off Apache ZooKeeper 3.8, both ways it can
 * read one: live (`--from`, three client requests per znode) and from the files
 * (`--from-data-dir` alone, ZooKeeper stopped: the tree rebuilt from its snapshot and logs).
 * One ZooKeeper is filled through the wire client (lib/zk-fill.ts); each round copies it into a
 * fresh `coracle` once each way, alternating which goes first.
 *
 * Measured: the command's wall time, from spawn to exit (reading, writing and its own start-up),
 * and its summary line.
 *
 *   node dist/bench/zk-migrate-speed.js [--znodes 100000] [--parents 100] [--value 100] [--conns 8] [--depth 16] [--rounds 2]
 */
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startZookeeper, type ZookeeperPeer } from '../test/support/zookeeper-peer';
import { startBenchCoracle } from './coracle-server';
import { benchFlags } from './lib/bench-flags';
import { connectAll, createParents, createRange, treeShapeFrom } from './lib/zk-fill';

const DIST = path.resolve(__dirname, '..');
/** Bound on one copy, whatever the machine's speed. */
const COPY_LIMIT_MS = 600_000;

const USAGE = 'usage: node dist/bench/zk-migrate-speed.js [--znodes 100000] [--parents 100] [--value 100] [--conns 8] [--depth 16] [--rounds 2]';
const flags = benchFlags(USAGE, ['znodes', 'parents', 'value', 'conns', 'depth', 'rounds']);

type Mode = 'live' | 'files';

/** Copies the ZooKeeper into a fresh `coracle` one way; resolves with the seconds taken. */
async function copyOnce(zk: ZookeeperPeer, mode: Mode): Promise<number> {
  const c = await startBenchCoracle(DIST);
  if (!c) throw new Error('coracle did not answer ruok on its ZooKeeper port; run `npm run build` first');
  try {
    if (mode === 'files') await zk.process.stop(60_000);
    const source = mode === 'live' ? ['--from', `127.0.0.1:${zk.port}`] : ['--from-data-dir', zk.dataDir];
    const started = performance.now();
    const r = spawnSync(process.execPath, [path.join(DIST, 'bin/coracle.js'), 'zk-migrate', ...source, '--endpoints', `http://127.0.0.1:${c.clientPort}`], { encoding: 'utf8', timeout: COPY_LIMIT_MS });
    const seconds = (performance.now() - started) / 1000;
    if (r.status !== 0) throw new Error(`zk-migrate (${mode}) exited ${r.status}: ${r.stderr}`);
    process.stderr.write(`${mode}: ${seconds.toFixed(1)} s: ${r.stdout.trim()}\n`);
    return seconds;
  } finally {
    if (mode === 'files') await zk.restart();
    await c.stop();
  }
}

async function main(): Promise<void> {
  const total = flags.num('znodes', 100_000);
  const rounds = flags.num('rounds', 2);
  const shape = treeShapeFrom(flags);
  const zk = await startZookeeper({ logLevel: 'warn', jvmArgs: ['-Xmx1000m'] });
  const times: Record<Mode, number[]> = { live: [], files: [] };
  try {
    const clients = await connectAll(zk.port, shape.conns);
    try {
      await createParents(clients[0]!, shape.parents);
      await createRange(clients, shape, 0, total, 'ZooKeeper 3.8');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    for (let r = 0; r < rounds; r++) {
      const order: Mode[] = r % 2 === 0 ? ['live', 'files'] : ['files', 'live'];
      for (const mode of order) times[mode].push(await copyOnce(zk, mode));
    }
  } finally {
    await zk.stop();
  }
  const znodes = total + shape.parents + 2; // the parents, their common parent and the root
  process.stdout.write(`znodes=${total} parents=${shape.parents} value=${shape.value.length} B rounds=${rounds}\n\n`);
  process.stdout.write('| source | seconds per copy | best znodes/s |\n|---|---|---|\n');
  for (const mode of ['live', 'files'] as const) {
    const label = mode === 'live' ? 'live ZooKeeper (--from)' : 'its files (--from-data-dir, ZooKeeper stopped)';
    process.stdout.write(`| ${label} | ${times[mode].map((s) => s.toFixed(1)).join(', ')} | ${Math.round(znodes / Math.min(...times[mode]))} |\n`);
  }
}

void main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
