/**
 * The test command's driver (`npm test` = build, then this). Usage:
 *
 *   node dist/scripts/run-tests.js [selector…] [--list] [--verbose] [-- <node --test flags>]
 *
 * 1. Runs the boundary check (scripts/check-boundaries) and stops at the first violation.
 * 2. Runs the compiled `*.test.js` files under dist/test, suite by suite (unit, property,
 *    datadriven, sim, interop, fault), each file in its own `node --test` process and process
 *    group, a bounded number at a time, each with a wall-clock timeout after which its whole
 *    group (the test and any peer it started) is killed.
 * 3. Prints one line per file as it finishes (the full output of a failing file), then a summary
 *    with counts, skipped tests and their reasons, failures and timings. Exit code 1 on any
 *    failure, timeout, or boundary violation.
 *
 * A selector is a suite (`unit`), a directory or a file, written relative to test/ or dist/test,
 * `.ts` or `.js` (`unit/core/mvcc`, `test/interop/peers.test.ts`).
 *
 * Files are listed explicitly rather than handing directories to `node --test`, because Node 20
 * treats every `.js` file below a directory named `test` as a test file: it would run
 * dist/test/support/*.js and the simulator's entry point as tests.
 *
 * Environment: CORACLE_TEST_CONCURRENCY (files at once, default per suite: 2 on this 2-core
 * target, fault 1), CORACLE_TEST_FILE_TIMEOUT_MS (override the per-suite file timeout),
 * CORACLE_TEST_BUDGET_MS (whole run, default 80 min: CI allows 90), CORACLE_TEST_VERBOSE=1
 * (print the output of passing files too). CORACLE_REQUIRE_PEERS=1 is passed through to tests.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkBoundaries, defaultRoot, formatViolations } from './check-boundaries';

/** A directory of dist/test run as one phase. */
interface Suite {
  dir: string;
  /** Files run at once. Fault tests run alone: they time real processes and kill them. */
  concurrency: number;
  /** Wall-clock limit per file. */
  fileTimeoutMs: number;
}

const SUITES: Suite[] = [
  { dir: 'unit', concurrency: 2, fileTimeoutMs: 120_000 },
  { dir: 'property', concurrency: 2, fileTimeoutMs: 300_000 },
  { dir: 'datadriven', concurrency: 2, fileTimeoutMs: 120_000 },
  { dir: 'sim', concurrency: 2, fileTimeoutMs: 600_000 },
  { dir: 'interop', concurrency: 2, fileTimeoutMs: 300_000 },
  { dir: 'fault', concurrency: 1, fileTimeoutMs: 600_000 },
];
const DEFAULT_BUDGET_MS = 80 * 60_000;
/** Kept output per file: enough for any failure report, bounded for a runaway logger. */
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** After SIGTERM on timeout, SIGKILL follows after this. */
const KILL_GRACE_MS = 5000;

/** Outcome of one test file. */
interface FileResult {
  file: string; // relative to dist/test
  status: 'pass' | 'fail' | 'timeout' | 'not-run';
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
  counts: Record<'tests' | 'pass' | 'fail' | 'cancelled' | 'skipped' | 'todo', number>;
  /** "test name # reason" for each skipped test. */
  skipped: string[];
  output: string;
  leftovers: boolean;
}

interface Options {
  selectors: string[];
  nodeArgs: string[];
  list: boolean;
  verbose: boolean;
}

function parseArgs(argv: string[]): Options {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  return {
    selectors: own.filter((a) => !a.startsWith('--')),
    nodeArgs: dash >= 0 ? argv.slice(dash + 1) : [],
    list: own.includes('--list'),
    verbose: own.includes('--verbose') || process.env.CORACLE_TEST_VERBOSE === '1',
  };
}

function fmtMs(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

/** `*.test.js` files under `dir` (absolute), as paths relative to `base`; bounded depth. */
function findTestFiles(base: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, depth: number): void => {
    if (depth > 32) return;
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = path.join(abs, e.name);
      if (e.isDirectory()) walk(child, depth + 1);
      else if (e.isFile() && e.name.endsWith('.test.js')) out.push(path.relative(base, child).split(path.sep).join('/'));
    }
  };
  if (fs.existsSync(dir) && fs.statSync(dir).isFile()) return dir.endsWith('.test.js') ? [path.relative(base, dir)] : [];
  walk(dir, 0);
  return out.sort();
}

/** Normalise a selector to a path relative to dist/test (`test/unit/a.test.ts` → `unit/a.test.js`). */
function normaliseSelector(sel: string): string {
  let s = sel.split(path.sep).join('/').replace(/^\.\//, '').replace(/\/+$/, '');
  s = s.replace(/^dist\//, '').replace(/^test\//, '');
  return s.replace(/\.ts$/, '.js');
}

/**
 * The files to run, grouped by suite, in suite order. Compiled tests whose .ts source is gone
 * (stale files in dist/) are left out with a note. Throws on a selector that matches nothing.
 */
function selectFiles(root: string, selectors: string[]): Map<Suite, string[]> {
  const distTest = path.join(root, 'dist', 'test');
  const chosen = new Set<string>();
  const sels = selectors.length > 0 ? selectors.map(normaliseSelector) : SUITES.map((s) => s.dir);
  for (const sel of sels) {
    const suite = SUITES.find((s) => sel === s.dir || sel.startsWith(`${s.dir}/`));
    if (!suite) throw new Error(`selector '${sel}' is not under a test suite (${SUITES.map((s) => s.dir).join(', ')})`);
    const files = findTestFiles(distTest, path.join(distTest, sel));
    if (files.length === 0 && selectors.length > 0) throw new Error(`selector '${sel}' matches no compiled *.test.js file under dist/test`);
    for (const f of files) chosen.add(f);
  }
  const bySuite = new Map<Suite, string[]>();
  for (const suite of SUITES) {
    const files: string[] = [];
    for (const f of [...chosen].filter((x) => x.startsWith(`${suite.dir}/`)).sort()) {
      if (fs.existsSync(path.join(root, 'test', f.replace(/\.js$/, '.ts')))) files.push(f);
      else process.stdout.write(`  note: skipping stale dist/test/${f} (test/${f.replace(/\.js$/, '.ts')} no longer exists)\n`);
    }
    if (files.length > 0) bySuite.set(suite, files);
  }
  return bySuite;
}

/** Pull the spec reporter's summary counts and skipped-test lines out of a file's output. */
function parseSpecOutput(out: string): Pick<FileResult, 'counts' | 'skipped'> {
  const counts: FileResult['counts'] = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
  for (const key of Object.keys(counts) as Array<keyof typeof counts>) {
    const m = new RegExp(`^ℹ ${key} (\\d+)$`, 'm').exec(out);
    if (m) counts[key] = Number(m[1]);
  }
  const skipped: string[] = [];
  const re = /^\s*﹣ (.*?) \([\d.]+m?s\) # (.*)$/gm;
  for (let m = re.exec(out); m && skipped.length < 1000; m = re.exec(out)) {
    if (!skipped.includes(`${m[1]} # ${m[2]}`)) skipped.push(`${m[1]} # ${m[2]}`);
  }
  return { counts, skipped };
}

/** Whether any process is left in process group `pgid`. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Group already empty.
  }
}

const runningGroups = new Set<number>();

/** Run one test file in its own process group, bounded by `timeoutMs`. */
function runFile(root: string, file: string, timeoutMs: number, nodeArgs: string[]): Promise<FileResult> {
  const started = performance.now();
  const args = [
    '--test',
    '--test-reporter=spec',
    // Let node:test name the hung test (and fail it) shortly before we kill the whole file.
    `--test-timeout=${Math.max(1000, timeoutMs - 10_000)}`,
    ...nodeArgs,
    path.join('dist', 'test', file),
  ];
  // Every server a test starts checks that its own entries decode to what it applied (own-proposals.ts).
  const env = { ...process.env, CORACLE_CHECK_OWN_ENTRIES: '1', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --enable-source-maps`.trim() };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const pgid = child.pid as number;
    runningGroups.add(pgid);
    const chunks: Buffer[] = [];
    let bytes = 0;
    let dropped = 0;
    const collect = (b: Buffer): void => {
      chunks.push(b);
      bytes += b.length;
      while (bytes > MAX_OUTPUT_BYTES && chunks.length > 1) {
        const first = chunks.shift() as Buffer;
        bytes -= first.length;
        dropped += first.length;
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(pgid, 'SIGTERM');
      setTimeout(() => killGroup(pgid, 'SIGKILL'), KILL_GRACE_MS).unref();
    }, timeoutMs);
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
      clearTimeout(timer);
      // Whatever the test left behind in its group (a peer it never stopped) dies now.
      const leftovers = groupAlive(pgid);
      killGroup(pgid, 'SIGKILL');
      runningGroups.delete(pgid);
      let output = (dropped > 0 ? `…[${dropped} bytes of earlier output dropped]\n` : '') + Buffer.concat(chunks).toString('utf8');
      if (spawnError) output += `\ncannot run node: ${spawnError.message}`;
      const parsed = parseSpecOutput(output);
      // node:test applies --test-timeout to the file as a whole too, and reports it this way.
      const nodeTimedOut = code !== 0 && /test timed out after \d+ms/.test(output);
      const status = timedOut || nodeTimedOut ? 'timeout' : code === 0 && !spawnError ? 'pass' : 'fail';
      resolve({ file, status, exitCode: code, signal, durationMs: performance.now() - started, output, leftovers, ...parsed });
    };
    child.on('error', (err) => finish(null, null, err));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

function describe(r: FileResult): string {
  const c = r.counts;
  const parts = [`${c.tests} test${c.tests === 1 ? '' : 's'}`];
  if (c.fail) parts.push(`${c.fail} failed`);
  if (c.cancelled) parts.push(`${c.cancelled} cancelled`);
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  if (c.todo) parts.push(`${c.todo} todo`);
  if (r.status === 'timeout') parts.push('TIMED OUT');
  else if (r.status === 'fail' && !c.fail) parts.push(r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`);
  if (r.leftovers) parts.push('left processes running (killed)');
  return parts.join(', ');
}

function printResult(r: FileResult, verbose: boolean): void {
  const tag = { pass: 'PASS', fail: 'FAIL', timeout: 'TIME', 'not-run': 'SKIP' }[r.status];
  process.stdout.write(`  ${tag}  ${r.file.padEnd(56)} ${describe(r).padEnd(34)} ${fmtMs(r.durationMs)}\n`);
  if (r.status === 'fail' || r.status === 'timeout' || verbose) {
    // The spec reporter repeats every failure in a closing "failing tests" section: show it once.
    const cut = r.output.lastIndexOf('\n✖ failing tests:');
    const body = (cut >= 0 ? r.output.slice(0, cut) : r.output)
      .trimEnd().split('\n').map((l) => `      │ ${l}`).join('\n');
    process.stdout.write(`      ┌─ output of ${r.file}\n${body}\n      └─\n`);
  }
}

function notRun(file: string): FileResult {
  const counts = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
  const output = 'not run: the time budget (CORACLE_TEST_BUDGET_MS) was used up';
  return { file, status: 'not-run', exitCode: null, signal: null, durationMs: 0, counts, skipped: [], output, leftovers: false };
}

/** Run `files` with at most `concurrency` at once; stops starting new files past `deadline`. */
async function runPool(root: string, files: string[], concurrency: number, timeoutMs: number, deadline: number, opts: Options): Promise<FileResult[]> {
  const results: FileResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++] as string;
      const remaining = deadline - performance.now();
      const r = remaining < 1000 ? notRun(file) : await runFile(root, file, Math.min(timeoutMs, remaining), opts.nodeArgs);
      results.push(r);
      printResult(r, opts.verbose);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, files.length)) }, worker));
  return results;
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got '${v}'`);
  return n;
}

function printSummary(results: FileResult[], suiteTimes: Array<[string, number]>, totalMs: number): void {
  const sum = (k: keyof FileResult['counts']): number => results.reduce((a, r) => a + r.counts[k], 0);
  const by = (s: FileResult['status']): FileResult[] => results.filter((r) => r.status === s);
  process.stdout.write('\n== summary\n');
  process.stdout.write(`  files: ${by('pass').length} passed, ${by('fail').length} failed, ${by('timeout').length} timed out, ${by('not-run').length} not run (of ${results.length})\n`);
  process.stdout.write(`  tests: ${sum('pass')} passed, ${sum('fail')} failed, ${sum('cancelled')} cancelled, ${sum('skipped')} skipped, ${sum('todo')} todo (of ${sum('tests')})\n`);
  process.stdout.write(`  time:  ${suiteTimes.map(([d, ms]) => `${d} ${fmtMs(ms)}`).join(', ')}; total ${fmtMs(totalMs)}\n`);
  const skipped = results.flatMap((r) => r.skipped.map((s) => `${r.file}: ${s}`));
  if (skipped.length > 0) {
    process.stdout.write(`  skipped tests${process.env.CORACLE_REQUIRE_PEERS === '1' ? '' : ' (set CORACLE_REQUIRE_PEERS=1 to make a missing peer fail)'}:\n`);
    for (const s of skipped.slice(0, 200)) process.stdout.write(`    ${s}\n`);
    if (skipped.length > 200) process.stdout.write(`    … and ${skipped.length - 200} more\n`);
  }
  const bad = results.filter((r) => r.status !== 'pass');
  if (bad.length > 0) {
    process.stdout.write('  failed files (output above):\n');
    for (const r of bad) process.stdout.write(`    ${r.status.toUpperCase().padEnd(8)} dist/test/${r.file}  (${describe(r)})\n`);
  }
  process.stdout.write(bad.length === 0 ? '\nOK\n' : '\nFAILED\n');
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const root = defaultRoot();
  const t0 = performance.now();

  const check = checkBoundaries(root);
  if (check.violations.length > 0) {
    process.stdout.write(`${formatViolations(check.violations)}\n`);
    process.stdout.write(`\ncheck-boundaries: ${check.violations.length} violation(s) of DESIGN.md §3; no tests run.\nFAILED\n`);
    return 1;
  }
  process.stdout.write(`check-boundaries: ${check.files} files, no violations (${fmtMs(performance.now() - t0)})\n`);

  if (!fs.existsSync(path.join(root, 'dist', 'test'))) {
    process.stdout.write('dist/test does not exist: build first (npm run build)\nFAILED\n');
    return 1;
  }
  const plan = selectFiles(root, opts.selectors);
  if (opts.list) {
    for (const files of plan.values()) for (const f of files) process.stdout.write(`dist/test/${f}\n`);
    return 0;
  }
  const budget = envInt('CORACLE_TEST_BUDGET_MS') ?? DEFAULT_BUDGET_MS;
  const deadline = t0 + budget;
  const results: FileResult[] = [];
  const suiteTimes: Array<[string, number]> = [];
  for (const [suite, files] of plan) {
    const concurrency = envInt('CORACLE_TEST_CONCURRENCY') ?? suite.concurrency;
    const timeoutMs = envInt('CORACLE_TEST_FILE_TIMEOUT_MS') ?? suite.fileTimeoutMs;
    process.stdout.write(`\n== ${suite.dir}: ${files.length} file(s), ${concurrency} at a time, ${fmtMs(timeoutMs)} per file\n`);
    const s0 = performance.now();
    results.push(...(await runPool(root, files, concurrency, timeoutMs, deadline, opts)));
    suiteTimes.push([suite.dir, performance.now() - s0]);
  }
  if (results.length === 0) process.stdout.write('\nno test files found under dist/test\n');
  printSummary(results, suiteTimes, performance.now() - t0);
  return results.every((r) => r.status === 'pass') ? 0 : 1;
}

// Interrupted (Ctrl-C, CI cancel): take every running test file's process group down with us.
for (const [sig, num] of [['SIGINT', 2], ['SIGTERM', 15]] as const) {
  process.once(sig, () => {
    for (const g of runningGroups) killGroup(g, 'SIGKILL');
    process.stdout.write(`\ninterrupted by ${sig}\n`);
    process.exit(128 + num);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stdout.write(`run-tests: ${err instanceof Error ? err.message : String(err)}\nFAILED\n`);
    process.exitCode = 1;
  },
);
