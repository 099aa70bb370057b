/**
 * The `coracle zk-proxy` subcommand: the ZooKeeper front end alone, in front of an existing
 * etcd v3 cluster (DESIGN §1). `bin/` parses the flags (zk-flags.ts has the shared `--zk-*`
 * table) and calls {@link runZkProxyCommand}.
 */
import { RemoteBackend } from './backend/remote-backend';
import { ZkProxy, startZkProxy } from './zk-proxy';
import { loadSaslOptions } from './session/sasl-authenticator';
import { ZkFlagOptions, loadTls } from './zk-flags';
import { ZkLogger } from './logger';
import { KeySchema } from './mapping/key-schema';
import { HistoryWatchdog } from './history-watchdog';

/**
 * Runs `coracle zk-proxy`: connects to etcd at `endpoints`, serves ZooKeeper with `zk` until
 * `close()` is called. Rejects when the SASL users file is unusable or the listener cannot start.
 */
export async function runZkProxyCommand(endpoints: string[], zk: ZkFlagOptions, logger: ZkLogger): Promise<ZkProxy> {
  const { sasl: saslFlags, tls: tlsFlags, ...opts } = zk;
  // Read the users and TLS files before connecting, so a bad file is a usage error and not a half-start.
  const sasl = loadSaslOptions(saslFlags);
  const tls = loadTls(tlsFlags);
  const backend = new RemoteBackend({ endpoints, logger: logger.child({ component: 'etcd-client' }) });
  try {
    const proxy = await startZkProxy({ ...opts, sasl, tls, backend, logger });
    const secure = proxy.secureAddress ? { zkSecure: `${proxy.secureAddress.address}:${proxy.secureAddress.port}` } : {};
    logger.info({ endpoints, zk: `${proxy.address.address}:${proxy.address.port}`, ...secure }, 'zk-proxy serving');
    // The embedded server compacts by itself; an etcd cluster only when its operator says so.
    const watchdog = new HistoryWatchdog(backend, new KeySchema(opts.keyPrefix).secretKey(), logger.child({ component: 'history' })).start();
    return {
      ...proxy,
      close: async () => {
        watchdog.stop();
        await proxy.close();
        await backend.close();
      },
    };
  } catch (e) {
    await backend.close();
    throw e;
  }
}
