/**
 * Starts the `coracle` binary for a benchmark: one member with fsync on, its own data dir, the
 * etcd port and the ZooKeeper port on 127.0.0.1 at free ports. Shared by the ZooKeeper-port
 * benchmarks so that each measures `coracle` exactly as `npm start` runs it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePorts } from '../test/support/ports';
import { ManagedProcess, startProcess } from '../test/support/process';
import { answersRuok } from '../test/support/zookeeper-peer';

/** A running `coracle` started by a benchmark. */
export interface BenchCoracle {
  /** Its ZooKeeper port. */
  port: number;
  /** Its etcd client port. */
  clientPort: number;
  /** The running process's pid (a new one after {@link restart}). */
  readonly pid: number;
  /**
   * Ends it with `signal` (SIGKILL: a crash; SIGTERM: a clean shutdown, waited for) and starts
   * it again on the same ports and data dir. Resolves once the new process is spawned: whether
   * it serves yet is the caller's to find out.
   */
  restart(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Stops it and removes its data dir. */
  stop(): Promise<void>;
}

/**
 * Starts `coracle` from `dist` and resolves once its ZooKeeper port answers `ruok`; resolves
 * undefined when the binary is missing or the port does not answer within 20 s.
 */
export async function startBenchCoracle(dist: string, extraArgs: readonly string[] = []): Promise<BenchCoracle | undefined> {
  const bin = path.join(dist, 'bin/coracle.js');
  if (!fs.existsSync(bin)) return undefined;
  const [client, peer, zk] = await freePorts(3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coracle-bench-'));
  const spawn = (): ManagedProcess => startProcess(process.execPath, [bin, '--data-dir', path.join(dir, 'data'),
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--listen-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`, '--initial-cluster', `default=http://127.0.0.1:${peer}`,
    '--zk-listen', `127.0.0.1:${zk}`, '--log-level', 'warn', ...extraArgs], { name: 'coracle' });
  let proc = spawn();
  const stop = async (): Promise<void> => {
    await proc.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const restart = async (signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
    if (signal === 'SIGKILL') {
      proc.signal('SIGKILL');
      await proc.waitForExit(10_000);
    } else await proc.stop(60_000);
    proc = spawn();
  };
  for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) {
    if (proc.exited) break;
    if (await answersRuok(zk!)) return { port: zk!, clientPort: client!, get pid() { return proc.pid; }, restart, stop };
  }
  await stop();
  return undefined;
}
