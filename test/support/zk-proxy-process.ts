/**
 * `coracle zk-proxy` as a child process of the test (the real binary, dist/bin/coracle.js): in
 * front of given etcd endpoints (real etcd, or the coracle binary's etcd API), serving the
 * ZooKeeper protocol on a fresh 127.0.0.1 port, with any further flags (TLS towards etcd, an
 * etcd user, SASL…).
 *
 * - {@link startZkProxyProcess}: start it and wait (bounded) until it answers `ruok`; it fails
 *   with the proxy's output when the process exits first.
 * - {@link runZkProxyToExit}: run it when it is expected NOT to start (a usage error, refused
 *   credentials): waits (bounded) for it to exit and returns its exit code and output.
 */
import { CORACLE_BIN } from './coracle-server';
import { pollUntil } from './poll';
import { freePort, releasePorts } from './ports';
import { startProcess, type ManagedProcess } from './process';
import { runCommand, type CommandResult } from './run-command';
import { fourLetterWord } from './zookeeper-peer';

/** A running `coracle zk-proxy`. */
export interface ZkProxyProcess {
  /** `127.0.0.1:<port>`, the ZooKeeper connect string. */
  connect: string;
  host: '127.0.0.1';
  port: number;
  process: ManagedProcess;
  /** Stop it (SIGTERM, then SIGKILL after a grace) and free its port. */
  stop(): Promise<void>;
}

/** Options for {@link startZkProxyProcess} and {@link runZkProxyToExit}. */
export interface ZkProxyProcessOptions {
  /** Bound on waiting for `ruok` (start) or for the exit (run to exit); default 20 s / 45 s. */
  timeoutMs?: number;
  /** Extra environment (default `ETCD_LOG_LEVEL=warn`, the env form of `--log-level`). */
  env?: NodeJS.ProcessEnv;
}

function argv(endpoints: string | readonly string[], port: number, flags: readonly string[]): string[] {
  const eps = typeof endpoints === 'string' ? endpoints : endpoints.join(',');
  return [CORACLE_BIN, 'zk-proxy', `--endpoints=${eps}`, `--zk-listen=127.0.0.1:${port}`, ...flags];
}

/**
 * Starts `coracle zk-proxy --endpoints=<endpoints> --zk-listen=127.0.0.1:<fresh port> <flags…>`
 * and waits until it answers `ruok`. The caller must `await proxy.stop()`.
 */
export async function startZkProxyProcess(endpoints: string | readonly string[], flags: readonly string[] = [], opts: ZkProxyProcessOptions = {}): Promise<ZkProxyProcess> {
  const port = await freePort();
  const p = startProcess(process.execPath, argv(endpoints, port, flags), {
    name: 'coracle-zk-proxy', env: { ETCD_LOG_LEVEL: 'warn', ...opts.env },
  });
  const stop = async (): Promise<void> => {
    await p.stop();
    releasePorts([port]);
  };
  let ready: string;
  try {
    ready = await pollUntil('zk-proxy ruok', async () => {
      if (p.exited) return 'exited';
      return (await fourLetterWord('127.0.0.1', port, 'ruok', 1000).catch(() => '')) === 'imok' ? 'serving' : undefined;
    }, opts.timeoutMs ?? 20_000);
  } catch (e) {
    ready = (e as Error).message;
  }
  if (ready !== 'serving') {
    await stop(); // after which the whole output has been read
    throw p.failure(ready === 'exited' ? `exited during start (${JSON.stringify(p.exit)})` : ready);
  }
  return { connect: `127.0.0.1:${port}`, host: '127.0.0.1', port, process: p, stop };
}

/**
 * Runs `coracle zk-proxy` (as {@link startZkProxyProcess} would) expecting it to exit by itself;
 * it is killed after `timeoutMs` (then `timedOut` is true). Never throws for a non-zero exit.
 */
export async function runZkProxyToExit(endpoints: string | readonly string[], flags: readonly string[] = [], opts: ZkProxyProcessOptions = {}): Promise<CommandResult> {
  const port = await freePort();
  try {
    return await runCommand(process.execPath, argv(endpoints, port, flags), {
      timeoutMs: opts.timeoutMs ?? 45_000, env: { ETCD_LOG_LEVEL: 'warn', ...opts.env },
    });
  } finally {
    releasePorts([port]);
  }
}
