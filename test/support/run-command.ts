/**
 * Run a short-lived command (a client CLI: etcdctl, zkCli.sh, a Python snippet) to completion
 * with a hard timeout, capturing its output. On timeout the command's whole process tree (e.g.
 * zkCli.sh's bash and its JVM) is killed: SIGTERM, then SIGKILL after 2 s.
 */
import { spawn } from 'node:child_process';
import { signalTree, treeOf, type ProcId } from './process-tree';

/** Result of {@link runCommand}. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when killed by a signal (including our timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the command was killed because it exceeded `timeoutMs`. */
  timedOut: boolean;
  durationMs: number;
}

/** Options for {@link runCommand}. */
export interface RunOptions {
  /** Hard limit; the command's tree is killed after it (default 30 s). */
  timeoutMs?: number;
  /** Written to stdin, which is then closed. Without it stdin is closed at once. */
  input?: string | Buffer;
  cwd?: string;
  /** Extra environment, merged over `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Cap on captured bytes per stream (default 16 MiB); the excess is dropped and marked. */
  maxOutputBytes?: number;
}

/**
 * Run a short-lived command to completion with a timeout and capture its output. Never throws
 * for a non-zero exit: the caller asserts on {@link CommandResult}. Throws only if the command
 * cannot be spawned at all.
 */
export function runCommand(command: string, args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxBytes = opts.maxOutputBytes ?? 16 * 1024 * 1024;
  const started = performance.now();
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], outBytes: 0, errBytes: 0 };
    const collect = (which: 'stdout' | 'stderr') => (b: Buffer) => {
      const key = which === 'stdout' ? 'outBytes' : 'errBytes';
      if (out[key] < maxBytes) out[which].push(b.subarray(0, maxBytes - out[key]));
      out[key] += b.length;
    };
    child.stdout?.on('data', collect('stdout'));
    child.stderr?.on('data', collect('stderr'));
    let timedOut = false;
    let tree: ProcId[] = [];
    const timer = setTimeout(() => {
      timedOut = true;
      tree = child.pid !== undefined ? treeOf(child.pid) : [];
      signalTree(tree, 'SIGTERM');
      setTimeout(() => signalTree(tree, 'SIGKILL'), 2000).unref();
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const text = (bufs: Buffer[], n: number): string =>
        Buffer.concat(bufs).toString('utf8') + (n > maxBytes ? `\n…[${n - maxBytes} bytes dropped]` : '');
      resolve({
        stdout: text(out.stdout, out.outBytes),
        stderr: text(out.stderr, out.errBytes),
        code,
        signal,
        timedOut,
        durationMs: performance.now() - started,
      });
    });
    child.stdin?.on('error', () => {
      // The command may exit without reading its input (EPIPE); its exit status tells the story.
    });
    child.stdin?.end(opts.input ?? '');
  });
}
