/**
 * Test harness for the ZooKeeper front end: starts zkproxy on a free 127.0.0.1 port over the
 * in-memory backend (or a given backend) and stops it. Run directly
 * (`node dist/test/interop/zk-harness.js [port]`) it serves until killed — handy for trying
 * clients by hand.
 */
import { KvBackend } from '../../zkproxy/backend/kv-backend';
import { MemoryBackend } from '../../zkproxy/backend/memory-backend';
import { RemoteBackend } from '../../zkproxy/backend/remote-backend';
import { ZkProxy, ZkProxyOptions, startZkProxy } from '../../zkproxy';
import { ZkLogger, silentLogger } from '../../zkproxy/logger';

/** A running proxy plus the backend it owns. */
export interface Harness {
  proxy: ZkProxy;
  backend: KvBackend;
  host: string;
  port: number;
  connect: string;
  stop(): Promise<void>;
}

/** Starts a proxy on an ephemeral port; `backend` defaults to a fresh MemoryBackend (owned, closed on stop). */
export async function startHarness(opts: Partial<ZkProxyOptions> = {}): Promise<Harness> {
  const owned = !opts.backend;
  const backend = opts.backend ?? new MemoryBackend();
  const proxy = await startZkProxy({ port: 0, containerCheckIntervalMs: 500, ...opts, backend, logger: opts.logger ?? testLogger() });
  const port = proxy.address.port;
  return {
    proxy, backend, host: '127.0.0.1', port, connect: `127.0.0.1:${port}`,
    stop: async () => {
      await proxy.close();
      if (owned) await backend.close();
    },
  };
}

/** A logger printing warnings and errors to stderr when ZK_TEST_LOG is set. */
export function testLogger(): ZkLogger {
  if (!process.env.ZK_TEST_LOG) return silentLogger;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pino = require('pino') as (o: object) => ZkLogger;
  return pino({ level: process.env.ZK_TEST_LOG });
}

if (require.main === module) {
  void (async () => {
    const port = Number(process.argv[2] ?? 0);
    const endpoints = process.argv[3];
    const backend = endpoints ? new RemoteBackend({ endpoints: endpoints.split(',') }) : undefined;
    // ZooKeeper's default reaper interval (the tests' 500 ms would cost a benchmark CPU).
    // No per-address connection limit: benchmarks run all their connections from 127.0.0.1.
    const h = await startHarness({ port, backend, containerCheckIntervalMs: 60_000, maxClientCnxns: 0 });
    process.stdout.write(`zkproxy on ${h.connect}\n`);
    const stop = (): void => void h.stop().finally(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  })();
}
