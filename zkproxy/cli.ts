/**
 * The `coracle zk-proxy` subcommand: the ZooKeeper front end alone, in front of an existing
 * etcd v3 cluster (DESIGN §1). `bin/` parses the flags (zk-flags.ts has the shared `--zk-*`
 * table) and calls {@link runZkProxyCommand}.
 */
import { RemoteBackend } from './backend/remote-backend';
import { EtcdCredentialFlags, loadEtcdCredentials } from './backend/etcd-credentials';
import { ZkProxy, startZkProxy } from './zk-proxy';
import { loadSaslOptions } from './session/sasl-authenticator';
import { ZkFlagOptions, loadTls } from './zk-flags';
import { ZkLogger } from './logger';
import { KeySchema } from './mapping/key-schema';
import { HistoryWatchdog } from './history-watchdog';

/**
 * Runs `coracle zk-proxy`: connects to etcd at `endpoints` (with TLS and a user from `etcd`),
 * serves ZooKeeper with `zk` until `close()` is called. Rejects when a users, TLS or certificate
 * file is unusable, etcd refuses the credentials, or the listener cannot start.
 */
export async function runZkProxyCommand(endpoints: string[], zk: ZkFlagOptions, logger: ZkLogger, etcd: EtcdCredentialFlags = { https: false }): Promise<ZkProxy> {
  const { sasl: saslFlags, tls: tlsFlags, ...opts } = zk;
  // Read the users and TLS files before connecting, so a bad file is a usage error and not a half-start.
  const sasl = loadSaslOptions(saslFlags);
  const tls = loadTls(tlsFlags);
  const credentials = loadEtcdCredentials(etcd);
  const backend = new RemoteBackend({ endpoints, credentials, logger: logger.child({ component: 'etcd-client' }) });
  try {
    const proxy = await startZkProxy({ ...opts, sasl, tls, backend, logger });
    const secure = proxy.secureAddress ? { zkSecure: `${proxy.secureAddress.address}:${proxy.secureAddress.port}` } : {};
    logger.info({ endpoints, tls: credentials.tls !== undefined, user: credentials.user?.name, zk: `${proxy.address.address}:${proxy.address.port}`, ...secure }, 'zk-proxy serving');
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
