/**
 * Run Debian's etcdctl 3.4 (API v3) against an etcd-API endpoint: real etcd or Coracle.
 *
 * etcdctl 3.4 quirks worth knowing (DESIGN §8): no `get --count-only` (3.5 has it), and
 * `endpoint health` prints its verdict on stderr.
 */
import { ETCDCTL_BIN } from './peers';
import { runCommand, type CommandResult } from './run-command';

/** Options for {@link etcdctl}. */
export interface EtcdctlOptions {
  /** Hard limit on the whole command (default 15 s); etcdctl's own command timeout is 1 s less. */
  timeoutMs?: number;
  /** Written to stdin (e.g. for `put` without a value, `txn -i`). */
  input?: string;
  /** Extra environment (e.g. `ETCDCTL_USER`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * `etcdctl --endpoints=<endpoints> <args…>` with `ETCDCTL_API=3`. Never throws for a failing
 * command: assert on `code`, `stdout`, `stderr`.
 */
export function etcdctl(endpoints: string | readonly string[], args: readonly string[], opts: EtcdctlOptions = {}): Promise<CommandResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const eps = typeof endpoints === 'string' ? endpoints : endpoints.join(',');
  const commandTimeoutS = Math.max(1, Math.floor(timeoutMs / 1000) - 1);
  return runCommand(
    ETCDCTL_BIN,
    [`--endpoints=${eps}`, '--dial-timeout=3s', `--command-timeout=${commandTimeoutS}s`, ...args],
    { timeoutMs, input: opts.input, env: { ETCDCTL_API: '3', ...opts.env } },
  );
}

/**
 * Quote integer literals of 16+ digits in JSON text so that `JSON.parse` keeps them exactly
 * (as strings): etcdctl prints uint64 ids (cluster_id, member_id, lease ids) as bare numbers
 * beyond 2^53.
 */
export function quoteBigInts(json: string): string {
  return json.replace(/([:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"');
}

/**
 * `etcdctl -w json <args…>`, asserting exit code 0 and parsing stdout. 64-bit integers of 16+
 * digits come back as decimal strings; keys and values are base64, as etcdctl prints them.
 */
export async function etcdctlJson<T = unknown>(endpoints: string | readonly string[], args: readonly string[], opts: EtcdctlOptions = {}): Promise<T> {
  const r = await etcdctl(endpoints, ['--write-out=json', ...args], opts);
  if (r.code !== 0) throw new Error(`etcdctl ${args.join(' ')} failed (${r.timedOut ? 'timeout' : `exit ${r.code}`}): ${r.stderr.trim()}`);
  return JSON.parse(quoteBigInts(r.stdout)) as T;
}
