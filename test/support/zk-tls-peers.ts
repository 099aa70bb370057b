/**
 * Helpers for ZooKeeper's secure client port (TLS, `authProvider.x509`) shared by the TLS interop
 * and differential tests: the zoo.cfg lines and JVM flags a real ZooKeeper 3.8 needs, the
 * `coracle` flags for the same setup, Node TLS options from the test certificates, a bounded
 * probe that tells an accepted session from a refused connection, four-letter words over TLS,
 * and zkCli.sh over TLS.
 *
 * zkCli.sh over TLS: Debian's zkCli.sh puts only /etc/zookeeper/conf and zookeeper.jar on the
 * classpath, and that jar's manifest Class-Path lacks netty-codec, netty-resolver and
 * netty-transport-native-unix-common, so `ClientCnxnSocketNetty` dies with
 * `NoClassDefFoundError: io/netty/resolver/AddressResolverGroup`. CLIENT_JVMFLAGS comes after
 * zkCli.sh's own `-cp` on the java command line and the last `-cp` wins, so {@link zkCliTls}
 * passes the full classpath of {@link zookeeperClasspath} there.
 */
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { FrameDecoder, JuteReader, JuteWriter, readConnectResponse, writeConnectRequest } from '../../protocol/jute';
import { ZKCLI_SH } from './peers';
import { pollUntil } from './poll';
import { runCommand, type CommandResult } from './run-command';
import { makeTestCerts, type TestCerts } from './tls-certs';
import type { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { fourLetterWord, zookeeperClasspath } from './zookeeper-peer';

/** ssl.clientAuth / --zk-tls-client-auth. */
export type ClientAuth = 'need' | 'want' | 'none';

/** zoo.cfg lines for a secure client port on `securePort` with x509 authentication (for startZookeeper's `config`). */
export function zookeeperTlsConfig(certs: TestCerts, securePort: number, clientAuth: ClientAuth): Record<string, string | number> {
  return {
    secureClientPort: securePort,
    secureClientPortAddress: '127.0.0.1',
    serverCnxnFactory: 'org.apache.zookeeper.server.NettyServerCnxnFactory',
    'authProvider.x509': 'org.apache.zookeeper.server.auth.X509AuthenticationProvider',
    'ssl.keyStore.location': certs.serverCombined,
    'ssl.keyStore.type': 'PEM',
    'ssl.trustStore.location': certs.caCert,
    'ssl.trustStore.type': 'PEM',
    'ssl.clientAuth': clientAuth,
  };
}

/** JVM flags for a real ZooKeeper: the x509 super user (a subject DN), if any. */
export function zookeeperTlsJvmArgs(superUser?: string): string[] {
  return superUser === undefined ? [] : [`-Dzookeeper.X509AuthenticationProvider.superUser=${superUser}`];
}

/** `coracle` flags for the same secure port. */
export function coracleTlsArgs(certs: TestCerts, securePort: number, clientAuth: ClientAuth, superUser?: string): string[] {
  return [
    '--zk-secure-listen', `127.0.0.1:${securePort}`,
    '--zk-tls-cert-file', certs.serverCert,
    '--zk-tls-key-file', certs.serverKey,
    '--zk-tls-trusted-ca-file', certs.caCert,
    '--zk-tls-client-auth', clientAuth,
    ...(superUser === undefined ? [] : ['--zk-x509-super-user', superUser]),
  ];
}

/**
 * The certificates of a differential TLS test: one client per entry of `subjects` (name →
 * openssl -subj), plus `rogue`, alice's subject signed by a CA no server trusts.
 */
export function makeDiffCerts(dir: string, subjects: Record<string, string>): Promise<TestCerts> {
  return makeTestCerts(dir, [
    ...Object.entries(subjects).map(([name, subject]) => ({ name, subject })),
    { name: 'rogue', subject: subjects.alice!, untrusted: true },
  ]);
}

/** whoAmI's identities as `scheme:user`, sorted (their order is ZooKeeper's hash order, compared in zk-tls-diff). */
export async function sortedWhoAmI(z: ZkWireClient): Promise<string[]> {
  const r = await z.send({ op: 'whoAmI' });
  if (r.header.err !== 0 || r.body?.op !== 'whoAmI') throw new Error(`whoAmI failed with ZooKeeper error ${r.header.err}`);
  return r.body.clientInfo.map((i) => `${i.authScheme}:${i.user}`).sort();
}

/** Node TLS client options: trust the test CA, present client `name`'s certificate (none when undefined). */
export function tlsClientOptions(certs: TestCerts, name?: string): tls.ConnectionOptions {
  const o: tls.ConnectionOptions = { ca: fs.readFileSync(certs.caCert), servername: 'localhost' };
  if (name !== undefined) {
    const c = certs.clients[name];
    if (!c) throw new Error(`no client certificate named ${name}`);
    o.cert = fs.readFileSync(c.cert);
    o.key = fs.readFileSync(c.key);
  }
  return o;
}

/** What {@link probeSession} saw. */
export interface SessionProbe {
  /** A ConnectResponse with a session id arrived. */
  session: boolean;
  /** The negotiated TLS version, when the client side finished its handshake. */
  protocol?: string;
  /** The socket error's code (a TLS alert such as `ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE`, or ECONNRESET). */
  error?: string;
  /** Nothing happened within the time limit (neither a session nor a close). */
  timedOut?: boolean;
}

/**
 * Connect over TLS, send a ConnectRequest, and wait (bounded) for a ConnectResponse or the
 * connection's end. With TLS 1.3 the client's handshake completes before the server has checked
 * the client certificate, so a refusal shows as an alert or a close after the request.
 */
export function probeSession(port: number, opts: tls.ConnectionOptions, timeoutMs = 5000): Promise<SessionProbe> {
  return new Promise((resolve) => {
    const out: SessionProbe = { session: false };
    const decoder = new FrameDecoder(1 << 20);
    const sock = tls.connect({ ...opts, host: '127.0.0.1', port });
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(out);
    };
    const timer = setTimeout(() => {
      out.timedOut = true;
      finish();
    }, timeoutMs);
    sock.on('secureConnect', () => {
      out.protocol = sock.getProtocol() ?? undefined;
      const w = new JuteWriter().startFrame();
      writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 10_000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
      sock.write(w.endFrame().toBuffer());
    });
    sock.on('data', (b: Buffer) => {
      // After the ConnectResponse only the closeSession reply can follow: ignore it.
      if (done) return;
      decoder.push(b);
      const f = decoder.next();
      if (!f) return;
      out.session = readConnectResponse(new JuteReader(f)).sessionId !== 0n;
      done = true;
      clearTimeout(timer);
      // Close the session politely (closeSession: xid 1, type -11), then drop the socket.
      const w = new JuteWriter().startFrame();
      w.writeInt(1).writeInt(-11);
      sock.end(w.endFrame().toBuffer());
      setTimeout(() => sock.destroy(), 1000).unref();
      resolve(out);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      out.error = err.code ?? err.message;
      finish();
    });
    sock.on('close', finish);
  });
}

/** Wait (bounded) until the secure port answers `ruok` over TLS with client `name`'s certificate. */
export async function waitSecurePort(certs: TestCerts, port: number, name: string | undefined, timeoutMs = 15_000): Promise<void> {
  const opts = tlsClientOptions(certs, name);
  await pollUntil(`TLS ruok on 127.0.0.1:${port}`, async () => ((await fourLetterWord('127.0.0.1', port, 'ruok', 1000, opts)) === 'imok' ? true : undefined), timeoutMs, 200);
}

/** The JVM flags that make zkCli.sh (the Java client) connect over TLS with client `name`'s certificate. */
export function zkCliTlsJvmFlags(certs: TestCerts, name: string): string[] {
  const c = certs.clients[name];
  if (!c) throw new Error(`no client certificate named ${name}`);
  return [
    '-cp', zookeeperClasspath().join(':'),
    '-XX:-UsePerfData',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty',
    '-Dzookeeper.client.secure=true',
    `-Dzookeeper.ssl.keyStore.location=${c.combined}`,
    '-Dzookeeper.ssl.keyStore.type=PEM',
    `-Dzookeeper.ssl.trustStore.location=${certs.caCert}`,
    '-Dzookeeper.ssl.trustStore.type=PEM',
  ];
}

/**
 * zkCli.sh over TLS: `commands` then `quit` on stdin to one session (like support/zk-cli.ts),
 * stderr merged into stdout in order, SLF4J noise removed. Paths must not contain spaces
 * (CLIENT_JVMFLAGS is split on whitespace by the script).
 */
export async function zkCliTls(
  connectString: string, commands: readonly string[], certs: TestCerts, name: string, timeoutMs = 30_000,
): Promise<CommandResult> {
  const lines = [...commands, 'quit'];
  const r = await runCommand('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', ZKCLI_SH, '-server', connectString, '-timeout', '30000'], {
    timeoutMs,
    input: `${lines.join('\n')}\n`,
    env: { CLIENT_JVMFLAGS: zkCliTlsJvmFlags(certs, name).join(' ') },
  });
  return { ...r, stdout: r.stdout.replace(/^SLF4J: .*\n?/gm, '') };
}
