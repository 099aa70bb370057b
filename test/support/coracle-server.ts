/**
 * Starts the real `coracle` command (dist/bin/coracle.js) as a child process on free 127.0.0.1
 * ports, waits until `/health` says true, and can kill -9 or restart it on the same data dir.
 * Only the process it started is ever signalled.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePorts } from './ports';
import { pollUntil } from './poll';
import { ManagedProcess, startProcess } from './process';
import { createTempDir, removeTempDir } from './temp-dir';

/** The compiled entry point (tests run from dist/test/…, the repo root is the cwd). */
export const CORACLE_BIN = path.resolve('dist/bin/coracle.js');

/** A running coracle. */
export interface CoracleServer {
  /** etcd client endpoint, `127.0.0.1:port`. */
  endpoint: string;
  clientPort: number;
  zkPort: number;
  dataDir: string;
  process: ManagedProcess;
  /** SIGKILL (no clean shutdown), then wait for the exit. */
  kill9(): Promise<void>;
  /** Starts again on the same ports and data dir and waits until healthy. */
  restart(): Promise<void>;
  /** SIGTERM, wait, and remove the data dir. Resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** GET a path on the client port; resolves with status and body, or undefined on a refused connection. */
export function httpGet(port: number, urlPath: string, timeoutMs = 2000): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** True when a TCP connection to 127.0.0.1:`port` is accepted (closed again at once). */
export function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/**
 * Starts coracle with the embedded single-member default plus `extraArgs` (and `env` merged over
 * this process's environment); resolves once its etcd API and, unless disabled, its ZooKeeper
 * port answer.
 */
export async function startCoracle(extraArgs: readonly string[] = [], startTimeoutMs = 15_000, env?: NodeJS.ProcessEnv): Promise<CoracleServer> {
  const [clientPort, zkPort] = (await freePorts(2)) as [number, number];
  const dataDir = path.join(createTempDir('coracle-server-'), 'data');
  const args = [
    CORACLE_BIN, '--data-dir', dataDir, '--listen-client-urls', `http://127.0.0.1:${clientPort}`,
    '--zk-listen', `127.0.0.1:${zkPort}`, '--log-level', 'warn', ...extraArgs,
  ];
  const zk = args.lastIndexOf('--zk-listen');
  const zkEnabled = args[zk + 1] !== '';
  const launch = async (): Promise<ManagedProcess> => {
    const p = startProcess(process.execPath, args, { name: 'coracle', env });
    await pollUntil('coracle /health', async () => {
      if (p.exited) throw p.failure('coracle exited during start');
      const r = await httpGet(clientPort, '/health');
      return r?.status === 200 ? true : undefined;
    }, startTimeoutMs);
    // The ZooKeeper port opens after the etcd API is healthy: callers may connect to it at once.
    if (zkEnabled) {
      await pollUntil('coracle ZooKeeper port', async () => {
        if (p.exited) throw p.failure('coracle exited during start');
        return (await tcpAccepts(zkPort)) ? true : undefined;
      }, startTimeoutMs);
    }
    return p;
  };
  const server: CoracleServer = {
    endpoint: `127.0.0.1:${clientPort}`, clientPort, zkPort, dataDir,
    process: await launch(),
    async kill9() {
      server.process.signal('SIGKILL');
      await server.process.waitForExit(5000);
    },
    async restart() {
      server.process = await launch();
    },
    async stop() {
      const exit = server.process.exited ? server.process.exit! : await server.process.stop();
      removeTempDir(path.dirname(dataDir));
      return exit.code;
    },
  };
  return server;
}
