/**
 * Run ZooKeeper's Java CLI (`zkCli.sh`, Debian's 3.8) against a ZooKeeper-protocol server:
 * real ZooKeeper or Coracle.
 *
 * All commands go on stdin to ONE zkCli session, followed by `quit`, so the session is closed
 * properly: a one-shot `zkCli.sh -server H:P cmd` exits without closing its session, and its
 * ephemerals would live until the session times out (DESIGN §8 notes on the peers).
 *
 * Output quirks (jline absent, stdin not a terminal): no prompts; results of reads (`get`,
 * `stat`, `ls`) go to stdout, while confirmations and errors (`Created /a`, `Node does not
 * exist: /x`) go to stderr; the exit code is 0 even when a command failed. Assert on the text,
 * and use `mergeStderr` when the order between the two streams matters.
 */
import { ZKCLI_SH } from './peers';
import { runCommand, type CommandResult } from './run-command';

/** Options for {@link zkCli}. */
export interface ZkCliOptions {
  /** Hard limit on the whole session (default 30 s: the JVM alone takes ~0.5 s to start). */
  timeoutMs?: number;
  /** zkCli's `-timeout` (session timeout, ms; default 30000, zkCli's own default). */
  sessionTimeoutMs?: number;
  /** Send stderr into stdout (one ordered stream; `stderr` is then empty). */
  mergeStderr?: boolean;
  /** zkCli's `-r`: the session may be read-only (canBeReadOnly). */
  readOnly?: boolean;
}

/** SLF4J's "no binding" warnings: noise printed by every zkCli start. */
const SLF4J_NOISE = /^SLF4J: .*\n?/gm;

/**
 * Run `commands` in one zkCli session against `connectString` (`host:port[,host:port…]`), then
 * `quit`. Never throws for a failing command; lines starting with `SLF4J:` are removed.
 */
export async function zkCli(connectString: string, commands: readonly string[], opts: ZkCliOptions = {}): Promise<CommandResult> {
  const lines = [...commands];
  if (lines[lines.length - 1]?.trim() !== 'quit') lines.push('quit');
  const cliArgs = ['-server', connectString, '-timeout', String(opts.sessionTimeoutMs ?? 30_000), ...(opts.readOnly ? ['-r'] : [])];
  // sh -c 'exec … 2>&1' gives the JVM one file for both streams, which keeps their order.
  const [cmd, args] = opts.mergeStderr
    ? ['/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', ZKCLI_SH, ...cliArgs]]
    : [ZKCLI_SH, cliArgs];
  const r = await runCommand(cmd, args, {
    timeoutMs: opts.timeoutMs ?? 30_000,
    input: `${lines.join('\n')}\n`,
    env: {
      // No hsperfdata files left in /tmp by a killed client JVM.
      CLIENT_JVMFLAGS: `${process.env.CLIENT_JVMFLAGS ?? ''} -XX:-UsePerfData`.trim(),
    },
  });
  return { ...r, stdout: r.stdout.replace(SLF4J_NOISE, ''), stderr: r.stderr.replace(SLF4J_NOISE, '') };
}

/** A session-state line of zkCli's default watcher (`WATCHER::` or `WatchedEvent state:X type:None path:null`). */
const SESSION_EVENT_LINE = /^(WATCHER::|WatchedEvent state:\w+ type:None path:null)$/;

/**
 * zkCli's output without its session-state notices and blank lines. zkCli prints them from its
 * event thread while the first command runs, so they land between (even inside) the command
 * results at random; assertions on adjacent result lines must not see them.
 */
export function withoutSessionEvents(output: string): string {
  return output.split('\n').filter((l) => l.trim() !== '' && !SESSION_EVENT_LINE.test(l)).join('\n') + '\n';
}
