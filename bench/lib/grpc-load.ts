/**
 * gRPC unary load: the library entry {@link runLoad} (one process, or several with `procs`) and
 * the command line:
 *
 *   node dist/bench/lib/grpc-load.js --target 127.0.0.1:2379 --path /etcdserverpb.KV/Range \
 *     --body-hex 0a0161 --conns 4 --concurrency 256 --total 100000 [--procs 2] [--json]
 *
 * `conns`, `concurrency` and `total` are totals, split over the processes (each gets at least
 * one connection and one slot). The report shows throughput, latency percentiles, statuses, and
 * the generator's own CPU time, so a result can show that the generator was not the bottleneck;
 * `--watch-pid` adds the CPU time of another process (the server) over the same interval.
 */

import { fork } from 'node:child_process';
import { processCpuSeconds } from './proc-cpu';
import * as os from 'node:os';
import { GrpcLoadRunner, type LoadOptions } from './grpc-load-runner';
import { parseArgs, USAGE } from './grpc-load-args';
import { LatencyHistogram, type LatencySummary } from './latency-histogram';

/** Options of {@link runLoad}: a run's shape plus how many processes share it. */
export interface RunLoadOptions extends LoadOptions {
  /** Generator processes (default 1 = in this process). With more, `body` must be bytes or `bodyModule` set. */
  procs?: number;
  /** A module exporting `makeBody(i: number, proc: number): Uint8Array`, loaded by every process. */
  bodyModule?: string;
  /** A process whose CPU time to report over the run (Linux /proc), e.g. the server's pid. */
  watchPid?: number;
}

/** The merged outcome of a run. */
export interface LoadReport {
  target: string;
  path: string;
  conns: number;
  concurrency: number;
  procs: number;
  calls: number;
  elapsedMs: number;
  callsPerSecond: number;
  statuses: Record<string, number>;
  latency: LatencySummary;
  /** CPU time of all generator processes, and as a percentage of one core over the run. */
  generatorCpuMs: number;
  generatorCpuPercent: number;
  /** CPU of `watchPid` over the run (percent of one core), if asked. */
  watchedCpuPercent?: number;
  cores: number;
}

/** Serializable per-process result sent from a child. */
interface ChildResult {
  calls: number;
  statuses: Record<string, number>;
  elapsedMs: number;
  cpuMs: number;
  latency: ReturnType<LatencyHistogram['toJSON']>;
}

/** Config sent to a child process. */
interface ChildConfig {
  options: Omit<LoadOptions, 'body'> & { bodyHex?: string };
  bodyModule?: string;
  proc: number;
}

/** Splits `n` into `parts` near-equal shares, each at least `min`. */
function share(n: number, parts: number, index: number, min: number): number {
  return Math.max(min, Math.floor(n / parts) + (index < n % parts ? 1 : 0));
}

/** Loads a body module's `makeBody` for process `proc`. */
function bodyFromModule(path: string, proc: number): (i: number) => Uint8Array {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(path) as { makeBody: (i: number, proc: number) => Uint8Array };
  return (i) => mod.makeBody(i, proc);
}

/** Runs the load in this process. */
async function runLocal(options: LoadOptions): Promise<ChildResult> {
  const runner = new GrpcLoadRunner(options);
  try {
    await runner.connect();
    const r = await runner.run();
    return { calls: r.calls, statuses: r.statuses, elapsedMs: r.elapsedMs, cpuMs: r.cpuUserMs + r.cpuSystemMs, latency: r.latency.toJSON() };
  } finally {
    runner.close();
  }
}

/** Forks `procs` children, connects them all, starts them together, collects their results. */
async function runForked(options: RunLoadOptions, procs: number): Promise<ChildResult[]> {
  if (typeof options.body === 'function' && options.bodyModule === undefined) {
    throw new Error('procs > 1 needs body bytes or bodyModule (functions cannot cross processes)');
  }
  const children = Array.from({ length: procs }, () => fork(__filename, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const messages = children.map(
    (child) =>
      (type: string): Promise<any> =>
        new Promise((resolve, reject) => {
          const onMessage = (m: { type: string; error?: string }): void => {
            if (m.type === 'error') reject(new Error(m.error));
            else if (m.type === type) resolve(m);
            else return;
            child.removeListener('message', onMessage);
          };
          child.on('message', onMessage);
          child.once('exit', (code) => reject(new Error(`load child exited with ${code}`)));
        }),
  );
  try {
    const ready = children.map((_, i) => messages[i]('ready'));
    children.forEach((child, i) => {
      const { body, procs: _p, watchPid: _w, bodyModule, ...rest } = options;
      const config: ChildConfig = {
        options: {
          ...rest,
          conns: share(options.conns ?? 1, procs, i, 1),
          concurrency: share(options.concurrency ?? 1, procs, i, 1),
          total: options.total === undefined ? undefined : share(options.total, procs, i, 0),
          bodyHex: typeof body === 'function' ? undefined : Buffer.from(body).toString('hex'),
        },
        bodyModule,
        proc: i,
      };
      child.send({ type: 'config', config });
    });
    await Promise.all(ready);
    const results = children.map((_, i) => messages[i]('result'));
    for (const child of children) child.send({ type: 'go' });
    return (await Promise.all(results)).map((m: { result: ChildResult }) => m.result);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

/** Runs a load and merges the per-process results into one report. */
export async function runLoad(options: RunLoadOptions): Promise<LoadReport> {
  const procs = Math.max(1, options.procs ?? 1);
  const body = options.bodyModule !== undefined ? bodyFromModule(options.bodyModule, 0) : options.body;
  const cpuBefore = options.watchPid === undefined ? undefined : processCpuSeconds(options.watchPid);
  const results = procs === 1 ? [await runLocal({ ...options, body })] : await runForked(options, procs);
  const cpuAfter = options.watchPid === undefined ? undefined : processCpuSeconds(options.watchPid);
  const latency = new LatencyHistogram();
  const statuses: Record<string, number> = {};
  let calls = 0;
  let elapsedMs = 0;
  let cpuMs = 0;
  for (const r of results) {
    latency.merge(LatencyHistogram.fromJSON(r.latency));
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    calls += r.calls;
    elapsedMs = Math.max(elapsedMs, r.elapsedMs);
    cpuMs += r.cpuMs;
  }
  const report: LoadReport = {
    target: options.target,
    path: options.path,
    conns: options.conns ?? 1,
    concurrency: options.concurrency ?? 1,
    procs,
    calls,
    elapsedMs,
    callsPerSecond: elapsedMs > 0 ? (calls * 1000) / elapsedMs : 0,
    statuses,
    latency: latency.summary(),
    generatorCpuMs: cpuMs,
    generatorCpuPercent: elapsedMs > 0 ? (cpuMs / elapsedMs) * 100 : 0,
    cores: os.cpus().length,
  };
  if (cpuBefore !== undefined && cpuAfter !== undefined && elapsedMs > 0) {
    report.watchedCpuPercent = ((cpuAfter - cpuBefore) * 1000 * 100) / elapsedMs;
  }
  return report;
}

/** A human-readable report (one block of lines). */
export function formatReport(r: LoadReport): string {
  const f = (n: number): string => n.toFixed(n < 10 ? 2 : 1);
  const lines = [
    `target ${r.target} path ${r.path} conns ${r.conns} concurrency ${r.concurrency} procs ${r.procs}`,
    `calls ${r.calls} in ${(r.elapsedMs / 1000).toFixed(2)} s = ${Math.round(r.callsPerSecond)} calls/s`,
    `latency ms: mean ${f(r.latency.meanMs)} p50 ${f(r.latency.p50Ms)} p90 ${f(r.latency.p90Ms)} p99 ${f(r.latency.p99Ms)} p99.9 ${f(r.latency.p999Ms)} max ${f(r.latency.maxMs)}`,
    `statuses: ${Object.entries(r.statuses).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `generator CPU: ${(r.generatorCpuMs / 1000).toFixed(2)} s = ${Math.round(r.generatorCpuPercent)}% of one core (${r.cores} cores)`,
  ];
  if (r.watchedCpuPercent !== undefined) lines.push(`watched process CPU: ${Math.round(r.watchedCpuPercent)}% of one core`);
  return lines.join('\n');
}

/** Child process side of {@link runForked}. */
function childMain(): void {
  let runner: GrpcLoadRunner | undefined;
  process.on('message', (m: { type: string; config?: ChildConfig }) => {
    void (async () => {
      try {
        if (m.type === 'config' && m.config !== undefined) {
          const { bodyHex, ...rest } = m.config.options;
          const body = m.config.bodyModule !== undefined ? bodyFromModule(m.config.bodyModule, m.config.proc) : Buffer.from(bodyHex ?? '', 'hex');
          runner = new GrpcLoadRunner({ ...rest, body });
          await runner.connect();
          process.send?.({ type: 'ready' });
        } else if (m.type === 'go' && runner !== undefined) {
          const r = await runner.run();
          runner.close();
          const result: ChildResult = { calls: r.calls, statuses: r.statuses, elapsedMs: r.elapsedMs, cpuMs: r.cpuUserMs + r.cpuSystemMs, latency: r.latency.toJSON() };
          process.send?.({ type: 'result', result }, () => process.exit(0));
        }
      } catch (err) {
        process.send?.({ type: 'error', error: String(err) }, () => process.exit(1));
      }
    })();
  });
}

if (require.main === module) {
  if (process.argv.includes('--child')) {
    childMain();
  } else {
    void (async () => {
      let parsed: ReturnType<typeof parseArgs>;
      try {
        parsed = parseArgs(process.argv.slice(2));
      } catch (err) {
        process.stderr.write(`${String((err as Error).message)}\n${USAGE}`);
        process.exit(2);
      }
      const report = await runLoad(parsed.options);
      process.stdout.write(parsed.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
      process.exit(0);
    })().catch((err: unknown) => {
      process.stderr.write(`grpc-load: ${String(err)}\n`);
      process.exit(1);
    });
  }
}
