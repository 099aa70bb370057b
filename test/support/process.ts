/**
 * Child processes owned by a test: real peers (etcd, ZooKeeper), Coracle members, client CLIs.
 *
 * Contracts:
 * - A test only ever signals processes it started: the child itself and the descendants of that
 *   child, each identified by (pid, start time) read from /proc so that a recycled pid is never
 *   hit. Nothing is found or killed by name.
 * - Every wait is bounded by a timeout; every output buffer is bounded (a ring of lines).
 * - Whatever is still running when the test process exits is killed (SIGKILL, whole tree) by an
 *   'exit' handler, and a line says so on stderr: a forgotten `stop()` is visible, never a leak.
 * - When the test process exits with a failure, the tail of every managed process's output is
 *   printed to stderr, so a failing interop test shows what the peer said.
 *
 * Long-running children are unref'd: a test file whose peer was not stopped still finishes (and
 * the exit handler reaps the peer) instead of hanging until the runner's per-file timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { signalTree, startTimeOf, treeOf, type ProcId } from './process-tree';

/** How a process ended: exit code, or the signal that killed it. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options for {@link startProcess}. */
export interface StartOptions {
  /** Label used in logs and error messages (e.g. `etcd-0`). Defaults to the command's base name. */
  name?: string;
  cwd?: string;
  /** Extra environment, merged over `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Lines of combined stdout+stderr kept for diagnostics (default 2000). */
  ringLines?: number;
  /** Copy output live to this process's stderr (default: env `CORACLE_TEST_ECHO=1`). */
  echo?: boolean;
}

/** Lines longer than this are cut in the ring: one runaway line must not hold megabytes. */
const MAX_LINE_CHARS = 8192;
/** Lines of each process printed when the test process exits with a failure. */
const FAILURE_TAIL_LINES = 80;
/** Stopped processes remembered for the failure dump. */
const RECENT_STOPPED = 8;

/** A bounded buffer of the last N lines, with a running count of all lines ever pushed. */
export class LineRing {
  private readonly buf: string[] = [];
  private total = 0;

  constructor(private readonly capacity: number) {}

  /** Number of lines ever pushed (a cursor for "lines after this point"). */
  get count(): number {
    return this.total;
  }

  push(line: string): void {
    this.buf.push(line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…[cut]` : line);
    if (this.buf.length > this.capacity) this.buf.shift();
    this.total++;
  }

  /** Lines with sequence number ≥ `since` that are still held (oldest first). */
  since(since: number): string[] {
    const first = this.total - this.buf.length;
    return this.buf.slice(Math.max(0, since - first));
  }

  /** The last `n` lines joined with newlines. */
  tail(n = this.capacity): string {
    return this.buf.slice(-n).join('\n');
  }
}

const live = new Set<ManagedProcess>();
const recentlyStopped: ManagedProcess[] = [];
const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

/**
 * Run `fn` (synchronously) when this process exits, after every managed process has been
 * killed, so that e.g. a data directory is removed only once nothing writes into it. Returns a
 * function that unregisters it.
 */
export function registerExitCleanup(fn: () => void): () => void {
  installExitHook();
  exitCleanups.add(fn);
  return () => exitCleanups.delete(fn);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', (code) => {
    const failed = code !== 0 || (process.exitCode !== undefined && process.exitCode !== 0);
    if (failed) {
      for (const p of [...recentlyStopped, ...live]) {
        process.stderr.write(`\n--- last output of ${p.name} (pid ${p.pid}) ---\n${p.tail(FAILURE_TAIL_LINES)}\n`);
      }
    }
    for (const p of live) {
      if (p.exited) continue;
      process.stderr.write(`[test/support] ${p.name} (pid ${p.pid}) still running at exit: killed\n`);
      p.killTreeSync('SIGKILL');
    }
    for (const fn of exitCleanups) {
      try {
        fn();
      } catch (err) {
        process.stderr.write(`[test/support] exit cleanup failed: ${String(err)}\n`);
      }
    }
  });
  // A runner that times a file out sends SIGTERM; reap our children before dying. Re-raising is
  // not possible from a JS handler, so exit with the conventional 128+signal status.
  for (const [sig, num] of [['SIGINT', 2], ['SIGTERM', 15]] as const) {
    process.once(sig, () => {
      for (const p of live) p.killTreeSync('SIGKILL');
      process.exit(128 + num);
    });
  }
}

/** A running child process with captured output. Create with {@link startProcess}. */
export class ManagedProcess {
  /** The label used in messages. */
  readonly name: string;
  /** The child's pid. */
  readonly pid: number;
  private readonly ring: LineRing;
  private exitInfo: ExitInfo | undefined;
  private reaped = false;
  private readonly exitWaiters: Array<(e: ExitInfo) => void> = [];
  private readonly lineWaiters = new Set<() => void>();
  private readonly startId: ProcId;

  /** @internal use {@link startProcess} */
  constructor(child: ChildProcess, name: string, ringLines: number, echo: boolean) {
    if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
    this.name = name;
    this.pid = child.pid;
    this.ring = new LineRing(ringLines);
    this.startId = { pid: child.pid, start: startTimeOf(child.pid) };
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        if (partial.length > MAX_LINE_CHARS) {
          parts.push(partial);
          partial = '';
        }
        for (const line of parts) this.onLine(line, echo);
      });
      stream.on('end', () => {
        if (partial) this.onLine(partial, echo);
        partial = '';
      });
      (stream as Socket).unref?.();
    }
    child.unref();
    // 'close' comes after the last output line has been read, so waiters see the whole output;
    // but a grandchild holding the pipes open would delay it forever, so 'exit' + 1 s also counts.
    const finalize = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.exitInfo) return;
      this.exitInfo = { code, signal };
      live.delete(this);
      recentlyStopped.push(this);
      if (recentlyStopped.length > RECENT_STOPPED) recentlyStopped.shift();
      for (const w of this.exitWaiters.splice(0)) w(this.exitInfo);
      for (const w of this.lineWaiters) w();
    };
    child.on('exit', (code, signal) => {
      this.reaped = true;
      setTimeout(() => finalize(code, signal), 1000).unref();
    });
    child.on('close', finalize);
    live.add(this);
    installExitHook();
  }

  private onLine(line: string, echo: boolean): void {
    this.ring.push(line);
    if (echo) process.stderr.write(`${this.name} | ${line}\n`);
    for (const w of this.lineWaiters) w();
  }

  /** Whether the process has exited (its output may still be draining; see {@link waitForExit}). */
  get exited(): boolean {
    return this.reaped || this.exitInfo !== undefined;
  }

  /** How it exited, once it has. */
  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** Number of output lines so far: pass it as `since` to wait only for later lines. */
  get lineCount(): number {
    return this.ring.count;
  }

  /** The last `n` output lines (stdout and stderr interleaved as they arrived). */
  tail(n = 200): string {
    return this.ring.tail(n);
  }

  /**
   * Wait until an output line (with sequence number ≥ `since`, default: any line still held)
   * matches `pattern`; resolves with that line. Rejects on timeout or if the process exits first,
   * with the output tail in the message.
   */
  waitForLine(pattern: RegExp | string, timeoutMs: number, since = 0): Promise<string> {
    const test = (l: string): boolean => (typeof pattern === 'string' ? l.includes(pattern) : pattern.test(l));
    return new Promise<string>((resolve, reject) => {
      let cursor = since;
      const check = (): void => {
        for (const l of this.ring.since(cursor)) {
          if (test(l)) return finish(undefined, l);
        }
        cursor = this.ring.count;
        if (this.exitInfo) finish(this.failure(`exited (${fmtExit(this.exitInfo)}) before printing ${pattern}`));
      };
      const finish = (err: Error | undefined, line?: string): void => {
        clearTimeout(timer);
        this.lineWaiters.delete(check);
        if (err) reject(err);
        else resolve(line as string);
      };
      const timer = setTimeout(() => finish(this.failure(`no line matching ${pattern} within ${timeoutMs} ms`)), timeoutMs);
      this.lineWaiters.add(check);
      check();
    });
  }

  /** Wait for the process to exit; rejects after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<ExitInfo> {
    if (this.exitInfo) return Promise.resolve(this.exitInfo);
    return new Promise<ExitInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.exitWaiters.indexOf(done);
        if (i >= 0) this.exitWaiters.splice(i, 1);
        reject(this.failure(`did not exit within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (e: ExitInfo): void => {
        clearTimeout(timer);
        resolve(e);
      };
      this.exitWaiters.push(done);
    });
  }

  /**
   * Send `signal` to the process (and, with `tree`, to its descendants). Use for fault injection:
   * `SIGKILL` (crash), `SIGSTOP`/`SIGCONT` (pause). A no-op once the process has exited.
   */
  signal(signal: NodeJS.Signals, tree = true): void {
    if (this.exited) return;
    signalTree(tree ? treeOf(this.pid) : [this.startId], signal);
  }

  /** Synchronous SIGKILL of the whole tree (exit handlers cannot wait). */
  killTreeSync(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exited) return;
    signalTree(treeOf(this.pid), signal);
  }

  /**
   * Stop the process: SIGTERM to the tree, then SIGKILL to whatever of that tree is left after
   * `graceMs`. The tree is captured before the first signal, because once the root dies its
   * children are re-parented and can no longer be found as ours.
   */
  async stop(graceMs = 5000): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    const tree = treeOf(this.pid);
    signalTree(tree, 'SIGTERM');
    try {
      await this.waitForExit(graceMs);
    } catch {
      // Grace period over: fall through to SIGKILL.
    }
    signalTree(tree, 'SIGKILL');
    return this.waitForExit(5000);
  }

  /** An Error whose message names the process and carries its output tail. */
  failure(what: string): Error {
    return new Error(`${this.name} (pid ${this.pid}) ${what}\n--- last output ---\n${this.ring.tail(60)}`);
  }
}

function fmtExit(e: ExitInfo): string {
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}

/**
 * Start a long-running child process with stdout and stderr captured into a ring of lines.
 * stdin is closed. The child stays in the test's process group, so a runner that kills the
 * group on timeout reaps it too.
 */
export function startProcess(command: string, args: readonly string[], opts: StartOptions = {}): ManagedProcess {
  const name = opts.name ?? command.split('/').pop() ?? command;
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    // spawn reports ENOENT asynchronously; swallow that event since we throw here.
    child.on('error', () => {});
    throw new Error(`${name}: cannot spawn ${command}`);
  }
  child.on('error', () => {
    // Errors after a successful spawn (e.g. a failed kill) surface through 'exit' or timeouts.
  });
  return new ManagedProcess(child, name, opts.ringLines ?? 2000, opts.echo ?? process.env.CORACLE_TEST_ECHO === '1');
}
