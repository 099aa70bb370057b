/**
 * Settings for ZooKeeper's port unification (`client.portUnification`): one client port that
 * takes plain and TLS connections alike, told apart by the connection's first bytes. Built from
 * the secure-port settings of zk-tls-peers.ts, minus the separate secure port.
 *
 * Real ZooKeeper 3.8: NettyServerCnxnFactory reads the Java system property
 * `zookeeper.client.portUnification` when it is constructed; a zoo.cfg line
 * `client.portUnification=true` sets that property, because the config parser turns every key
 * it does not know into the system property `zookeeper.<key>` before the factory exists (its log
 * then says `zookeeper.client.portUnification=true`). Both forms were checked against Debian's
 * 3.8.0; the zoo.cfg line is used here.
 */
import * as net from 'node:net';
import type { TestCerts } from './tls-certs';
import { coracleTlsArgs, zookeeperTlsConfig, type ClientAuth } from './zk-tls-peers';

/** zoo.cfg lines for TLS on the plain clientPort (no secureClientPort), with x509 authentication. */
export function zookeeperUnifiedConfig(certs: TestCerts, clientAuth: ClientAuth): Record<string, string | number> {
  const { secureClientPort: _port, secureClientPortAddress: _address, ...rest } = zookeeperTlsConfig(certs, 0, clientAuth);
  return { ...rest, 'client.portUnification': 'true' };
}

/** `coracle` flags for the same: `--zk-port-unification` and the TLS settings, no `--zk-secure-listen`. */
export function coracleUnifiedArgs(certs: TestCerts, clientAuth: ClientAuth, superUser?: string): string[] {
  const args = coracleTlsArgs(certs, 0, clientAuth, superUser);
  const at = args.indexOf('--zk-secure-listen');
  if (at >= 0) args.splice(at, 2);
  return ['--zk-port-unification', ...args];
}

/** What {@link rawExchange} saw. */
export interface RawExchange {
  /** Everything the server sent, as UTF-8. */
  reply: string;
  /** The server closed the connection within the time limit. */
  closed: boolean;
}

/**
 * Write `chunks` to 127.0.0.1:`port` over plain TCP, `gapMs` apart, WITHOUT closing the write
 * side, and collect the reply until the server closes or `timeoutMs` passes (then the socket is
 * destroyed). Shows whether a server tells plain from TLS on partial first bytes.
 */
export function rawExchange(port: number, chunks: ReadonlyArray<string | Buffer>, timeoutMs = 3000, gapMs = 300): Promise<RawExchange> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    let closed = false;
    const sock = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    const gaps: NodeJS.Timeout[] = [];
    sock.on('connect', () => {
      chunks.forEach((c, i) => gaps.push(setTimeout(() => sock.writable && sock.write(c), i * gapMs)));
    });
    sock.on('data', (b: Buffer) => got.push(b));
    sock.on('end', () => {
      closed = true;
      sock.destroy();
    });
    sock.on('error', () => {
      closed = true;
    });
    sock.on('close', () => {
      clearTimeout(timer);
      for (const g of gaps) clearTimeout(g);
      resolve({ reply: Buffer.concat(got).toString('utf8'), closed });
    });
  });
}
