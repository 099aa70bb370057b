/**
 * A benchmark server: one in-process core member (LMDB, fsync on unless --no-fsync) with the
 * ZooKeeper front end over it through LocalBackend — what `coracle` will serve on its ZooKeeper
 * port once bin/ wires it. Prints "zkproxy on HOST:PORT" when serving; stops on SIGTERM/SIGINT.
 *
 *   node dist/bench/zk-local-server.js PORT DATA_DIR [--no-fsync]
 */
import * as path from 'node:path';
import { MEMBER_DEFAULTS, Member } from '../core/server/member';
import { nullLogger } from '../core/util/logger';
import { startZkProxy } from '../zkproxy';
import { LocalBackend } from '../zkproxy/backend/local-backend';

async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? 0);
  const dir = process.argv[3] ?? path.resolve('zk-local-bench.coracle');
  const member = await Member.start({
    ...MEMBER_DEFAULTS, name: 'zk-bench', dataDir: dir, logger: nullLogger, unsafeNoFsync: process.argv.includes('--no-fsync'),
  });
  const backend = new LocalBackend(member);
  const proxy = await startZkProxy({ backend, port, startTimeoutMs: 30_000, maxClientCnxns: 0 });
  process.stdout.write(`zkproxy on 127.0.0.1:${proxy.address.port}\n`);
  const stop = (): void => {
    void proxy.close().then(() => backend.close()).then(() => member.stop()).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
